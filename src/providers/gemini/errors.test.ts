import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { geminiAdapter } from './index.js';

const body = (name: string): string =>
  readFileSync(new URL(`../../../test/fixtures/gemini/${name}`, import.meta.url), 'utf8');

describe('gemini errors', () => {
  it('maps INVALID_ARGUMENT to a non-retryable 400', () => {
    const info = geminiAdapter.parseError(400, body('error-400.json'), {});
    expect(info).toMatchObject({ status: 400, code: 'bad_request', retryable: false });
    expect(info.message).toContain('contents is not specified');
  });

  it('maps the recorded invalid-key 400 (API_KEY_INVALID) to upstream_auth_failed', () => {
    const info = geminiAdapter.parseError(400, body('error-400-api-key-invalid.json'), {});
    expect(info).toMatchObject({ status: 502, code: 'upstream_auth_failed' });
    expect(info.message).toContain('API_KEY_INVALID');
  });

  it('maps 401 UNAUTHENTICATED and 403 PERMISSION_DENIED to upstream_auth_failed', () => {
    expect(geminiAdapter.parseError(401, body('error-401.json'), {}).code).toBe('upstream_auth_failed');
    expect(geminiAdapter.parseError(403, body('error-403.json'), {})).toMatchObject({
      status: 502,
      code: 'upstream_auth_failed',
    });
  });

  it('maps 404 to a 502 naming the model', () => {
    const info = geminiAdapter.parseError(404, body('error-404.json'), {});
    expect(info).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(info.message).toContain('models/gemini-9.0-ultra is not found');
  });

  it('maps RESOURCE_EXHAUSTED to 429 with the RetryInfo delay, preferring Retry-After', () => {
    expect(geminiAdapter.parseError(429, body('error-429.json'), {})).toMatchObject({
      status: 429,
      code: 'rate_limit_exceeded',
      retryable: true,
      retryAfterSeconds: 37,
    });
    expect(geminiAdapter.parseError(429, body('error-429.json'), { 'retry-after': '5' }).retryAfterSeconds).toBe(5);
  });

  it('maps INTERNAL and UNAVAILABLE to retryable 502s', () => {
    expect(geminiAdapter.parseError(500, body('error-500.json'), {})).toMatchObject({
      status: 502,
      code: 'upstream_error',
      retryable: true,
    });
    expect(geminiAdapter.parseError(503, body('error-503.json'), {})).toMatchObject({ status: 502, retryable: true });
  });

  it('treats FAILED_PRECONDITION as the account’s problem, and survives non-JSON bodies', () => {
    const info = geminiAdapter.parseError(
      400,
      '{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}',
      {},
    );
    expect(info).toMatchObject({ status: 502, code: 'upstream_error', retryable: true });
    expect(geminiAdapter.parseError(502, '<html>Bad Gateway</html>', {})).toMatchObject({
      status: 502,
      retryable: true,
    });
  });
});
