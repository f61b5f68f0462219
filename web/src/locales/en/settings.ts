export default {
  title: 'System settings',
  subtitle: 'Instance-wide settings; changes apply at once, without a restart.',
  unsaved: 'Unsaved changes',
  noChanges: 'No changes',
  discard: 'Discard changes',
  saved: 'Saved',
  savedDetail: 'Settings saved ({n} changed)',
  leaveTitle: 'Unsaved changes',
  leaveText: 'You have changed settings that are not saved. Leave this page and lose them?',
  leave: 'Leave',
  stay: 'Stay',
  changed: 'Changed',
  seconds: 's',
  days: 'days',
  characters: 'characters',
  bytes: 'bytes',
  percent: '%',
  off: 'off',
  forever: 'keep forever',
  groups: {
    access: 'Access',
    routing: 'Routing',
    reliability: 'Reliability',
    privacy: 'Privacy',
    limits: 'Limits',
    logs: 'Logs',
  },
  fields: {
    registrationEnabled: {
      label: 'Open registration',
      help: 'Whether anyone may create an account. When off, only admins can add users.',
    },
    allowSelfServeOrganizations: {
      label: 'Self-serve organizations',
      help: 'Whether every user may create organizations of their own (needs open registration). When off, only platform admins create organizations.',
    },
    emailVerificationRequired: {
      label: 'Require email verification',
      help: 'Self-registered users must open the link mailed to them before they can use anything but their profile. Needs working mail (AIHUB_SMTP_URL), or an admin passing on links from the outbox.',
    },
    routingStrategy: {
      label: 'Routing strategy',
      help: 'Default routing strategy inside a priority group (models can set their own).',
    },
    maxAttempts: {
      label: 'Max attempts',
      help: 'Most upstream attempts per request, failover included (1–10).',
    },
    breakerFailureThreshold: {
      label: 'Breaker failure threshold',
      help: 'Failures within a minute that open a circuit breaker (1–1000).',
    },
    breakerCooldownSeconds: {
      label: 'Breaker cooldown',
      help: 'Seconds an open breaker waits before a trial request (1–3600).',
    },
    healthCheckIntervalSeconds: {
      label: 'Health check interval',
      help: 'Seconds between channel health probes; 0 = off (at most 86400).',
    },
    autoReenableChannels: {
      label: 'Re-enable channels automatically',
      help: 'Re-enable automatically disabled channels when their health check passes.',
    },
    metricsByOrganization: {
      label: 'Metrics per organization',
      help: 'Also count requests, tokens and cost per organization (its id as a label) in /metrics. Off keeps the series few.',
    },
    exposeChannelHeader: {
      label: 'Expose the serving channel',
      help: 'Send x-aihub-channel (the id of the channel that served the request) on /v1 answers.',
    },
    limitsTimeZone: {
      label: 'Limits time zone',
      help: 'IANA time zone where daily, weekly and monthly budget periods start, e.g. UTC or Asia/Shanghai.',
    },
    defaultUserLimits: {
      label: 'Default limits for new users',
      help: 'Copied to every new user when the account is created; existing users keep theirs.',
    },
    defaultKeyLimits: {
      label: 'Default limits for new API keys',
      help: 'Copied to every new API key when it is created; existing keys keep theirs.',
    },
    logRetentionDays: {
      label: 'Request log retention',
      help: 'Delete request-log rows older than this many days (checked hourly); 0 = keep forever.',
    },
    logBodies: {
      label: 'Keep request and response bodies',
      help: 'Store the body of each /v1 request and of its answer in the request log: never, for failed requests only, or for every request. Bodies can contain personal or confidential data (prompts, documents, answers); they are kept until the log retention deletes them.',
      options: {
        off: 'Off',
        errors: 'Failed requests',
        all: 'All requests',
      },
    },
    logBodyMaxChars: {
      label: 'Longest body kept',
      help: 'Characters kept of each request or response body (256–1000000); the rest is cut off and marked.',
    },
    responsesRetentionDays: {
      label: 'Stored responses retention',
      help: 'Keep Responses-API responses stored with store: true (for retrieval and previous_response_id) this many days; 0 = keep forever.',
    },
    responseCacheTtlSeconds: {
      label: 'Response cache TTL',
      help: 'How long a cached answer is kept when its model sets no TTL of its own. The cache is used when a key or model opts in, or a request sends x-aihub-cache: on.',
    },
    responseCacheMaxEntryBytes: {
      label: 'Largest cached answer',
      help: 'Answers larger than this (a JSON body, or a stream as sent) are not cached.',
    },
    responseCacheHitChargePercent: {
      label: 'Charge for a cache hit',
      help: 'Percent of the original price a cache hit costs the customer (0 = free). A hit never costs anything upstream.',
    },
  },
  strategies: {
    weighted: 'Weighted random',
    round_robin: 'Round robin',
    lowest_latency: 'Lowest latency',
    least_inflight: 'Fewest in flight',
  },
  strategyHelp: {
    weighted: 'Pick channels at random in proportion to their weight.',
    round_robin: 'Take the channels in turn.',
    lowest_latency: 'Prefer the channel with the lowest recent latency.',
    least_inflight: 'Prefer the channel with the fewest requests in progress.',
  },
  helpWithStrategy: '{help} {strategy}',
  timeZoneInvalid: 'Not a known IANA time zone (e.g. UTC, Europe/Berlin, Asia/Shanghai)',
  loadFailed: 'Could not load the settings',
};
