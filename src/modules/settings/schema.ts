import { type Static, type TProperties, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { STRATEGIES } from '../../gateway/index.js';
import { limitFields } from '../limits/schema.js';

const limitsDefault = (description: string) =>
  Type.Object(limitFields, { additionalProperties: false, default: {}, description });

/**
 * The instance settings admins can change at run time: the one declaration of each setting. Its `default`
 * and `description` live here; the `Settings` type, the defaults, the stored key names and the validation of
 * `PATCH /api/admin/settings` are all derived from it. Adding a setting is one property here (and its label
 * in the console's locale files).
 */
export const SettingsSchema = Type.Object({
  registrationEnabled: Type.Boolean({
    default: true,
    description: 'Whether anyone may create an account',
  }),
  allowSelfServeOrganizations: Type.Boolean({
    default: false,
    description: 'Whether any signed-in user may create an organization of their own (when registration is open too)',
  }),
  emailVerificationRequired: Type.Boolean({
    default: false,
    description:
      'Users who registered themselves must confirm their email address (a link is mailed) before they can use anything but their profile',
  }),
  routingStrategy: Type.Union(
    STRATEGIES.map((strategy) => Type.Literal(strategy)),
    { default: 'weighted', description: 'Default routing strategy inside a priority group' },
  ),
  maxAttempts: Type.Integer({
    default: 3,
    minimum: 1,
    maximum: 10,
    description: 'Most upstream attempts per request, failover included',
  }),
  breakerFailureThreshold: Type.Integer({
    default: 5,
    minimum: 1,
    maximum: 1000,
    description: 'Failures within a minute that open a circuit breaker',
  }),
  breakerCooldownSeconds: Type.Integer({
    default: 30,
    minimum: 1,
    maximum: 3600,
    description: 'Seconds an open breaker waits before a trial request',
  }),
  healthCheckIntervalSeconds: Type.Integer({
    default: 60,
    minimum: 0,
    maximum: 86_400,
    description: 'Seconds between channel health probes; 0 = off',
  }),
  autoReenableChannels: Type.Boolean({
    default: true,
    description: 'Re-enable automatically disabled channels when their health check passes',
  }),
  exposeChannelHeader: Type.Boolean({
    default: false,
    description: 'Send x-aihub-channel (the serving channel id) on /v1 answers',
  }),
  limitsTimeZone: Type.String({
    default: 'UTC',
    minLength: 1,
    maxLength: 64,
    description: 'IANA time zone where budget periods start, e.g. UTC or Asia/Shanghai',
  }),
  defaultUserLimits: limitsDefault('Limits given to every new user (copied at creation)'),
  defaultKeyLimits: limitsDefault('Limits given to every new API key (copied at creation)'),
  logRetentionDays: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: 3650,
    description: 'Delete request-log rows older than this many days (checked hourly); 0 = keep forever',
  }),
  logBodies: Type.Union([Type.Literal('off'), Type.Literal('errors'), Type.Literal('all')], {
    default: 'off',
    description: 'Keep /v1 request and response bodies in the request log: off, errors (failed requests only) or all',
  }),
  logBodyMaxChars: Type.Integer({
    default: 16_384,
    minimum: 256,
    maximum: 1_000_000,
    description: 'Longest request or response body kept in the log, in characters (the rest is cut off)',
  }),
  responsesRetentionDays: Type.Integer({
    default: 30,
    minimum: 0,
    maximum: 3650,
    description: 'Keep stored Responses-API responses (store: true) this many days; 0 = keep forever',
  }),
  responseCacheTtlSeconds: Type.Integer({
    default: 3600,
    minimum: 1,
    maximum: 30 * 86_400,
    description:
      'Response cache: how long an answer is kept when the model sets no TTL of its own (docs/response-cache.md)',
  }),
  responseCacheMaxEntryBytes: Type.Integer({
    default: 1_048_576,
    minimum: 1024,
    maximum: 16_777_216,
    description: 'Response cache: larger answers (JSON body or a stream as sent) are not cached',
  }),
  responseCacheHitChargePercent: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: 100,
    description:
      'Response cache: what a cache hit is charged, in percent of the price the original request had (0 = free; the upstream cost of a hit is always 0)',
  }),
  metricsByOrganization: Type.Boolean({
    default: false,
    description: 'Also count requests, tokens and cost per organization (its id as a label) in /metrics',
  }),
  currency: Type.String({
    default: 'USD',
    pattern: '^[A-Z]{3}$',
    description:
      'The currency balances and prices are shown in (ISO 4217 code); amounts are stored in its micro-units (1 = 1,000,000)',
  }),
  billingMaxAmountMicros: Type.Integer({
    default: 10_000_000_000,
    minimum: 1,
    maximum: 1_000_000_000_000_000,
    description: 'Largest amount one manual adjustment or redemption code may carry, in micro-units',
  }),
  billingMemberWallets: Type.Union(
    [Type.Literal('off'), Type.Literal('team'), Type.Literal('user'), Type.Literal('team_and_user')],
    {
      default: 'off',
      description:
        "Team and user wallets: a prepaid organization's request is charged to the key owner's user wallet (when user wallets are on and it has one), else the key's team wallet (when team wallets are on and it has one), else the organization's wallet",
    },
  ),
  operatorName: Type.String({
    default: '',
    maxLength: 200,
    description: 'Your company name, printed on statements (empty: AI Hub)',
  }),
  operatorAddress: Type.String({
    default: '',
    maxLength: 1000,
    description: 'Your postal address and tax details, printed on statements',
  }),
  operatorLogo: Type.String({
    default: '',
    maxLength: 300_000,
    pattern: '^(data:image/(png|jpeg|jpg);base64,[A-Za-z0-9+/=]+)?$',
    description: 'Your logo on statements: a data:image/png or image/jpeg base64 URL (up to ~200 KB), or empty',
  }),
  teamStatements: Type.Boolean({
    default: false,
    description: 'Also issue a statement per team each month (chargeback), besides the organization statement',
  }),
});

/** The instance settings (see SettingsSchema for each one's meaning and default). */
export type Settings = Static<typeof SettingsSchema>;
export type SettingName = keyof Settings;

/** Every setting's name, in declaration order. */
export const SETTING_NAMES = Object.keys(SettingsSchema.properties) as SettingName[];

/** A fresh copy of every setting's default. */
export function defaultSettings(): Settings {
  return Value.Create(SettingsSchema);
}

/** The `settings.key` a setting is stored under: its name in snake_case (`maxAttempts` → `max_attempts`). */
export function storedKey(name: SettingName): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * The same properties without their `default`: the app's Ajv fills in defaults (`useDefaults`), and a
 * PATCH body must not grow the settings it left out.
 */
function withoutDefaults<P extends TProperties>(properties: P): P {
  const out: TProperties = {};
  for (const [name, schema] of Object.entries(properties)) {
    const { default: _default, ...rest } = schema;
    out[name] = rest as typeof schema;
  }
  return out as P;
}

/** Body of `PATCH /api/admin/settings`: any settings, at least one, nothing unknown. */
export const SettingsPatch = Type.Partial(Type.Object(withoutDefaults(SettingsSchema.properties)), {
  additionalProperties: false,
  minProperties: 1,
});

/** What the sign-in page reads without signing in. */
export const PublicSettingsSchema = Type.Object({
  registrationEnabled: Type.Boolean(),
  allowSelfServeOrganizations: Type.Boolean({
    description: 'Signed-in users may create their own organizations',
  }),
  firstAccountIsAdmin: Type.Boolean({ description: 'No admin yet: the next account registered becomes the admin' }),
  emailVerificationRequired: Type.Boolean({
    description: 'New accounts must confirm their email address before using the hub',
  }),
});
