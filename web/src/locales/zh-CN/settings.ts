export default {
  title: '系统设置',
  subtitle: '整个实例的设置；修改立即生效，无需重启。',
  unsaved: '有未保存的修改',
  noChanges: '没有修改',
  discard: '放弃修改',
  saved: '已保存',
  savedDetail: '设置已保存（修改了 {n} 项）',
  leaveTitle: '有未保存的修改',
  leaveText: '你修改的设置还没有保存。离开此页面将丢失这些修改，确定离开吗？',
  leave: '离开',
  stay: '留下',
  changed: '已修改',
  seconds: '秒',
  days: '天',
  characters: '个字符',
  bytes: '字节',
  percent: '%',
  off: '关闭',
  forever: '永久保留',
  groups: {
    access: '访问',
    routing: '路由',
    reliability: '可靠性',
    privacy: '隐私',
    limits: '限额',
    logs: '日志',
  },
  fields: {
    registrationEnabled: {
      label: '开放注册',
      help: '是否允许任何人注册账户。关闭后只有管理员可以添加用户。',
    },
    allowSelfServeOrganizations: {
      label: '自助创建组织',
      help: '是否允许每个用户自行创建组织（需开放注册）。关闭时只有平台管理员可以创建组织。',
    },
    emailVerificationRequired: {
      label: '要求验证邮箱',
      help: '自行注册的用户必须打开邮件中的链接后才能使用个人资料以外的功能。需要可用的邮件服务（AIHUB_SMTP_URL），或由管理员从发件箱转交链接。',
    },
    routingStrategy: {
      label: '路由策略',
      help: '同一优先级组内默认使用的路由策略（模型可以单独设置）。',
    },
    maxAttempts: {
      label: '最大尝试次数',
      help: '每个请求最多向上游尝试的次数，包括故障转移（1–10）。',
    },
    breakerFailureThreshold: {
      label: '熔断失败阈值',
      help: '一分钟内失败多少次后打开熔断器（1–1000）。',
    },
    breakerCooldownSeconds: {
      label: '熔断冷却时间',
      help: '熔断器打开后等待多少秒再放行一个试探请求（1–3600）。',
    },
    healthCheckIntervalSeconds: {
      label: '健康检查间隔',
      help: '渠道健康探测的间隔秒数；0 = 关闭（最多 86400）。',
    },
    autoReenableChannels: {
      label: '自动重新启用渠道',
      help: '被自动禁用的渠道在健康检查通过后自动重新启用。',
    },
    metricsByOrganization: {
      label: '按组织统计指标',
      help: '在 /metrics 中同时按组织（以组织 ID 作为标签）统计请求、令牌和费用。关闭时时间序列更少。',
    },
    exposeChannelHeader: {
      label: '暴露服务渠道',
      help: '在 /v1 响应中发送 x-aihub-channel 头（处理该请求的渠道 ID）。',
    },
    limitsTimeZone: {
      label: '限额时区',
      help: '每日、每周、每月预算周期开始所用的 IANA 时区，例如 UTC 或 Asia/Shanghai。',
    },
    defaultUserLimits: {
      label: '新用户的默认限额',
      help: '创建账户时复制给每个新用户；已有用户保留各自的限额。',
    },
    defaultKeyLimits: {
      label: '新 API 密钥的默认限额',
      help: '创建密钥时复制给每个新的 API 密钥；已有密钥保留各自的限额。',
    },
    logRetentionDays: {
      label: '请求日志保留天数',
      help: '删除早于此天数的请求日志（每小时检查一次）；0 = 永久保留。',
    },
    logBodies: {
      label: '保存请求和响应正文',
      help: '在请求日志中保存每个 /v1 请求及其响应的正文：从不、仅失败的请求，或所有请求。正文可能包含个人或机密数据（提示词、文档、回答）；它们会一直保留，直到被日志保留策略删除。',
      options: {
        off: '关闭',
        errors: '仅失败的请求',
        all: '所有请求',
      },
    },
    logBodyMaxChars: {
      label: '正文最大长度',
      help: '每个请求或响应正文最多保留的字符数（256–1000000）；超出部分会被截断并加以标注。',
    },
    responseCacheTtlSeconds: {
      label: '响应缓存有效期',
      help: '模型未设置自己的有效期时，缓存的回答保留多久。密钥或模型开启缓存，或请求带 x-aihub-cache: on 时使用缓存。',
    },
    responseCacheMaxEntryBytes: {
      label: '最大缓存条目',
      help: '超过此大小的回答（JSON 正文或按原样发送的流）不缓存。',
    },
    responseCacheHitChargePercent: {
      label: '缓存命中计费',
      help: '缓存命中按原价格的百分之几向客户计费（0 = 免费）。命中不产生任何上游成本。',
    },
    responsesRetentionDays: {
      label: '已存储响应保留天数',
      help: 'Responses API 中以 store: true 存储的响应（供查询和 previous_response_id 使用）保留的天数；0 = 永久保留。',
    },
  },
  strategies: {
    weighted: '加权随机',
    round_robin: '轮询',
    lowest_latency: '最低延迟',
    least_inflight: '最少进行中请求',
  },
  strategyHelp: {
    weighted: '按权重比例随机选择渠道。',
    round_robin: '依次轮流使用各个渠道。',
    lowest_latency: '优先使用近期延迟最低的渠道。',
    least_inflight: '优先使用进行中请求最少的渠道。',
  },
  helpWithStrategy: '{help}{strategy}',
  timeZoneInvalid: '不是有效的 IANA 时区（例如 UTC、Europe/Berlin、Asia/Shanghai）',
  loadFailed: '无法加载设置',
};
