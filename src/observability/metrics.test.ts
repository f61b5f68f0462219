import { describe, expect, it } from 'vitest';
import { type CertificateState, Metrics } from './metrics.js';

const DAY = 86_400_000;

function lines(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('Metrics: the TLS certificate', () => {
  it('reports expiry, last renewal and failed renewals of an ACME certificate', async () => {
    const metrics = new Metrics({ byOrganization: () => false });
    const state: CertificateState = {
      source: 'acme',
      notAfter: 90 * DAY,
      renewedAt: 10 * DAY,
      lastAttemptAt: 70 * DAY,
      failures: 0,
    };
    metrics.watchCertificate(() => state);
    let text = (await metrics.render()).body;
    expect(lines(text, 'aihub_tls_certificate_expiry_timestamp_seconds')).toEqual([
      `aihub_tls_certificate_expiry_timestamp_seconds{source="acme"} ${(90 * DAY) / 1000}`,
    ]);
    expect(lines(text, 'aihub_tls_certificate_renewed_timestamp_seconds')).toEqual([
      `aihub_tls_certificate_renewed_timestamp_seconds{source="acme"} ${(10 * DAY) / 1000}`,
    ]);
    expect(lines(text, 'aihub_tls_renewal_failures')).toEqual(['aihub_tls_renewal_failures{source="acme"} 0']);
    // Two orders failed since: the gauge says so at the next scrape (what the alert rule watches).
    state.failures = 2;
    text = (await metrics.render()).body;
    expect(lines(text, 'aihub_tls_renewal_failures')).toEqual(['aihub_tls_renewal_failures{source="acme"} 2']);
  });

  it('reports only the expiry of certificate files, and nothing on plain HTTP', async () => {
    const metrics = new Metrics({ byOrganization: () => false });
    let state: CertificateState = {
      source: 'files',
      notAfter: 5 * DAY,
      renewedAt: null,
      lastAttemptAt: null,
      failures: 0,
    };
    metrics.watchCertificate(() => state);
    let text = (await metrics.render()).body;
    expect(lines(text, 'aihub_tls_certificate_expiry_timestamp_seconds')).toHaveLength(1);
    expect(lines(text, 'aihub_tls_renewal_failures')).toEqual([]);
    state = { source: 'none', notAfter: null, renewedAt: null, lastAttemptAt: null, failures: 0 };
    text = (await metrics.render()).body;
    expect(lines(text, 'aihub_tls_certificate_expiry_timestamp_seconds')).toEqual([]);
    // The family is declared all the same (dashboards and alert rules can refer to it).
    expect(text).toContain('# TYPE aihub_tls_certificate_expiry_timestamp_seconds gauge');
  });
});

describe('Metrics: histograms', () => {
  it('renders cumulative buckets, +Inf, sum and count', async () => {
    const metrics = new Metrics({ byOrganization: () => false });
    metrics.flushed(3);
    metrics.flushed(30);
    metrics.flushed(30_000);
    const text = (await metrics.render()).body;
    const at = (le: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`aihub_usage_flush_duration_seconds_bucket{le="${le}"}`))
          ?.split(' ')[1],
      );
    expect(at('0.0025')).toBe(0);
    expect(at('0.005')).toBe(1);
    expect(at('0.05')).toBe(2);
    expect(at('10')).toBe(2);
    expect(at('+Inf')).toBe(3);
    expect(text).toContain('aihub_usage_flush_duration_seconds_count 3');
    expect(text).toContain('aihub_usage_flush_duration_seconds_sum 30.033');
  });
});
