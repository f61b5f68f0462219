import { describe, expect, it } from 'vitest';
import { readFixtureText } from '../../../test/fixtures/anthropic/load.js';
import { parseError } from './errors.js';

describe('parseError', () => {
  it('passes an invalid request through as a non-retryable 400', () => {
    expect(parseError(400, readFixtureText('error-invalid-request.json'), {})).toEqual({
      status: 400,
      code: 'bad_request',
      message: 'messages: text content blocks must be non-empty (Anthropic request req_011CSHoEeqs5C35K2UUqR7Fy)',
      retryable: false,
    });
  });

  it.each([401, 403])('reports a rejected channel key on %i without the upstream message', (status) => {
    const info = parseError(status, readFixtureText('error-authentication.json'), {});
    expect(info.status).toBe(502);
    expect(info.code).toBe('upstream_auth_failed');
    expect(info.message).toMatch(/channel's provider API key/);
    expect(info.message).not.toContain('x-api-key');
    expect(info.retryable).toBe(true);
  });

  it('treats not_found as a channel model misconfiguration', () => {
    const info = parseError(404, readFixtureText('error-not-found.json'), {});
    expect(info).toMatchObject({ status: 502, code: 'upstream_error', retryable: true });
    expect(info.message).toContain('upstream model name');
    expect(info.message).toContain('claude-3-5-sonet-20241022');
  });

  it('maps 429 to a retryable rate limit with retry-after seconds', () => {
    expect(parseError(429, readFixtureText('error-rate-limit.json'), { 'Retry-After': '17' })).toMatchObject({
      status: 429,
      code: 'rate_limit_exceeded',
      retryable: true,
      retryAfterSeconds: 17,
    });
    expect(
      parseError(429, readFixtureText('error-rate-limit.json'), { 'retry-after-ms': ['1500'] }).retryAfterSeconds,
    ).toBe(2);
    expect(
      parseError(429, readFixtureText('error-rate-limit.json'), { 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' })
        .retryAfterSeconds,
    ).toBeUndefined();
  });

  it('maps 529 overloaded and 5xx to retryable upstream errors', () => {
    expect(parseError(529, readFixtureText('error-overloaded.json'), {})).toMatchObject({
      status: 502,
      code: 'upstream_error',
      retryable: true,
    });
    expect(
      parseError(500, '{"type":"error","error":{"type":"api_error","message":"Internal server error"}}', {}),
    ).toMatchObject({
      status: 502,
      code: 'upstream_error',
      message: 'Internal server error',
      retryable: true,
    });
    expect(parseError(504, '', {})).toMatchObject({ status: 504, code: 'upstream_timeout', retryable: true });
  });

  it('handles non-JSON bodies by status', () => {
    expect(parseError(503, '<html>Service Unavailable</html>', {})).toEqual({
      status: 502,
      code: 'upstream_error',
      message: 'Anthropic returned HTTP 503: <html>Service Unavailable</html>',
      retryable: true,
    });
    expect(parseError(401, 'Unauthorized', {}).code).toBe('upstream_auth_failed');
    expect(parseError(422, 'nope', {})).toMatchObject({ status: 400, code: 'bad_request', retryable: false });
  });
});
