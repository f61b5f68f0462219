import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openaiAdapter } from './index.js';

const body = (name: string): string =>
  readFileSync(new URL(`../../../test/fixtures/openai/${name}`, import.meta.url), 'utf8');

describe('openai errors', () => {
  it('passes a 400 through as bad_request, not retryable', () => {
    const info = openaiAdapter.parseError(400, body('error-400.json'), {});
    expect(info).toMatchObject({ status: 400, code: 'bad_request', retryable: false });
    expect(info.message).toContain("Invalid value for 'temperature'");
  });

  it('maps 401 to upstream_auth_failed without leaking any part of the key', () => {
    const info = openaiAdapter.parseError(401, body('error-401.json'), {});
    expect(info).toMatchObject({ status: 502, code: 'upstream_auth_failed' });
    expect(info.message).toContain("channel's provider API key");
    expect(info.message).not.toMatch(/sk-|Ab3d/);
  });

  it('maps 403 like 401', () => {
    expect(
      openaiAdapter.parseError(
        403,
        '{"error":{"message":"Project does not have access","type":"invalid_request_error","code":null}}',
        {},
      ).code,
    ).toBe('upstream_auth_failed');
  });

  it('maps 404 to 502 with a message naming the unknown upstream model', () => {
    const info = openaiAdapter.parseError(404, body('error-404.json'), {});
    expect(info).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(info.message).toMatch(/does not know the upstream model.*gpt-9-turbo/);
  });

  it('maps 429 to rate_limit_exceeded with Retry-After seconds', () => {
    const info = openaiAdapter.parseError(429, body('error-429.json'), { 'Retry-After': '7' });
    expect(info).toMatchObject({ status: 429, code: 'rate_limit_exceeded', retryable: true, retryAfterSeconds: 7 });
  });

  it('prefers retry-after-ms, rounded up to whole seconds', () => {
    expect(
      openaiAdapter.parseError(429, body('error-429.json'), { 'retry-after-ms': '1400', 'retry-after': '9' })
        .retryAfterSeconds,
    ).toBe(2);
  });

  it('maps 429 insufficient_quota to a 502 that lets another channel serve', () => {
    const info = openaiAdapter.parseError(429, body('error-429-insufficient-quota.json'), {});
    expect(info).toMatchObject({ status: 502, code: 'upstream_error', retryable: true });
    expect(info.message).toMatch(/out of quota/);
    expect(info.retryAfterSeconds).toBeUndefined();
  });

  it('maps 5xx to a retryable 502', () => {
    expect(openaiAdapter.parseError(500, body('error-500.json'), {})).toMatchObject({
      status: 502,
      code: 'upstream_error',
      retryable: true,
    });
    expect(openaiAdapter.parseError(503, 'upstream connect error', {})).toMatchObject({ status: 502, retryable: true });
  });

  it('handles non-JSON bodies and honours x-should-retry', () => {
    const info = openaiAdapter.parseError(502, '<html><body><h1>502 Bad Gateway</h1></body></html>', {
      'x-should-retry': 'false',
    });
    expect(info).toMatchObject({ status: 502, retryable: false });
    expect(info.message).toContain('502 Bad Gateway');
    expect(openaiAdapter.parseError(500, '', {}).message).toBe('OpenAI failed (HTTP 500)');
  });
});
