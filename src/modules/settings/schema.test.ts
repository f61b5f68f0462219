import { describe, expect, it } from 'vitest';
import { defaultSettings, SETTING_NAMES, SettingsPatch, storedKey } from './schema.js';

describe('settings schema', () => {
  it('gives every setting its default', () => {
    expect(defaultSettings()).toEqual({
      registrationEnabled: true,
      allowSelfServeOrganizations: false,
      emailVerificationRequired: false,
      routingStrategy: 'weighted',
      maxAttempts: 3,
      breakerFailureThreshold: 5,
      breakerCooldownSeconds: 30,
      healthCheckIntervalSeconds: 60,
      autoReenableChannels: true,
      exposeChannelHeader: false,
      limitsTimeZone: 'UTC',
      defaultUserLimits: {},
      defaultKeyLimits: {},
      logRetentionDays: 0,
      logBodies: 'off',
      logBodyMaxChars: 16_384,
      responsesRetentionDays: 30,
      responseCacheTtlSeconds: 3600,
      responseCacheMaxEntryBytes: 1_048_576,
      responseCacheHitChargePercent: 0,
      metricsByOrganization: false,
      currency: 'USD',
      billingMaxAmountMicros: 10_000_000_000,
      billingMemberWallets: 'off',
      operatorName: '',
      operatorAddress: '',
      operatorLogo: '',
      teamStatements: false,
    });
  });

  it('hands out defaults that callers cannot share by mutation', () => {
    const first = defaultSettings();
    first.defaultUserLimits.rpm = 5;
    expect(defaultSettings().defaultUserLimits).toEqual({});
  });

  it('stores each setting under the key existing databases hold', () => {
    expect(Object.fromEntries(SETTING_NAMES.map((name) => [name, storedKey(name)]))).toEqual({
      registrationEnabled: 'registration_enabled',
      allowSelfServeOrganizations: 'allow_self_serve_organizations',
      emailVerificationRequired: 'email_verification_required',
      routingStrategy: 'routing_strategy',
      maxAttempts: 'max_attempts',
      breakerFailureThreshold: 'breaker_failure_threshold',
      breakerCooldownSeconds: 'breaker_cooldown_seconds',
      healthCheckIntervalSeconds: 'health_check_interval_seconds',
      autoReenableChannels: 'auto_reenable_channels',
      exposeChannelHeader: 'expose_channel_header',
      limitsTimeZone: 'limits_time_zone',
      defaultUserLimits: 'default_user_limits',
      defaultKeyLimits: 'default_key_limits',
      logRetentionDays: 'log_retention_days',
      logBodies: 'log_bodies',
      logBodyMaxChars: 'log_body_max_chars',
      responsesRetentionDays: 'responses_retention_days',
      responseCacheTtlSeconds: 'response_cache_ttl_seconds',
      responseCacheMaxEntryBytes: 'response_cache_max_entry_bytes',
      responseCacheHitChargePercent: 'response_cache_hit_charge_percent',
      metricsByOrganization: 'metrics_by_organization',
      currency: 'currency',
      billingMaxAmountMicros: 'billing_max_amount_micros',
      billingMemberWallets: 'billing_member_wallets',
      operatorName: 'operator_name',
      operatorAddress: 'operator_address',
      operatorLogo: 'operator_logo',
      teamStatements: 'team_statements',
    });
  });

  it('validates a PATCH without filling in defaults (Ajv useDefaults would reset what the body left out)', () => {
    expect(JSON.stringify(SettingsPatch)).not.toContain('"default"');
    expect(Object.keys(SettingsPatch.properties)).toEqual(SETTING_NAMES);
    expect(SettingsPatch.required).toBeUndefined();
  });
});
