import { describe, expect, it } from 'vitest';
import { retryAfterSeconds } from './http-headers.js';
import { joinUrl, mergeHeaders } from './http-request.js';
import { describeUpstreamFailure, extractErrorMessage, redactSecrets } from './upstream-error.js';

describe('retryAfterSeconds', () => {
  it('reads retry-after-ms first, then retry-after seconds, case-insensitively', () => {
    expect(retryAfterSeconds({ 'Retry-After-Ms': '250', 'retry-after': '9' })).toBe(1);
    expect(retryAfterSeconds({ 'Retry-After': ['3'] })).toBe(3);
    expect(retryAfterSeconds({})).toBeUndefined();
  });

  it('honours an HTTP date only when given the current time', () => {
    const headers = { 'retry-after': 'Wed, 21 Oct 2015 07:28:30 GMT' };
    expect(retryAfterSeconds(headers)).toBeUndefined();
    expect(retryAfterSeconds(headers, Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(30);
  });
});

describe('request helpers', () => {
  it('joins base URL and path with one slash', () => {
    expect(joinUrl('https://x/v1/', '/chat/completions')).toBe('https://x/v1/chat/completions');
  });

  it('lets later headers replace earlier ones regardless of case', () => {
    expect(mergeHeaders({ authorization: 'a', 'X-Trace': '1' }, { Authorization: 'b' })).toEqual({
      'X-Trace': '1',
      Authorization: 'b',
    });
  });
});

describe('upstream error helpers', () => {
  it('redacts keys, bearer tokens and key query parameters', () => {
    const text = redactSecrets(
      'bad key sk-proj-abcdef123456 and AIzaSyA8nlIbdDm8Man1rM0X1 via Bearer abcdefghijkl at https://x?key=secret&alt=sse',
    );
    expect(text).toBe('bad key sk-*** and AIza*** via Bearer *** at https://x?key=***&alt=sse');
  });

  it('extracts messages from the body shapes servers send', () => {
    expect(extractErrorMessage({ error: { message: 'a' } }, '')).toBe('a');
    expect(extractErrorMessage({ error: 'b' }, '')).toBe('b');
    expect(extractErrorMessage({ message: 'c' }, '')).toBe('c');
    expect(extractErrorMessage({ detail: 'd' }, '')).toBe('d');
    expect(extractErrorMessage({ detail: [{ msg: 'e' }] }, '')).toBe('e');
    expect(extractErrorMessage(undefined, '<h1>Bad gateway</h1>')).toBe('Bad gateway');
    expect(extractErrorMessage(undefined, '   ')).toBeUndefined();
  });

  it('maps statuses to gateway codes', () => {
    const map = (status: number) => describeUpstreamFailure({ status, provider: 'P', message: undefined });
    expect(map(422)).toMatchObject({ status: 400, code: 'bad_request', retryable: false });
    expect(map(408)).toMatchObject({ status: 504, code: 'upstream_timeout', retryable: true });
    expect(map(529)).toMatchObject({ status: 502, code: 'upstream_error', retryable: true });
    expect(map(418)).toMatchObject({ status: 502, code: 'upstream_error', retryable: false });
  });
});
