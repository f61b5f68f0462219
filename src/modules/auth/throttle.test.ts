import { describe, expect, it } from 'vitest';
import { ApiError } from '../../core/errors.js';
import { LoginThrottle } from './throttle.js';

async function blocked(promise: Promise<void>): Promise<ApiError | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
}

describe('LoginThrottle (memory)', () => {
  it('blocks an account once its failures reach the limit, with a retry time', async () => {
    const throttle = new LoginThrottle({ perAccount: 3, perIp: 100, windowSeconds: 60 });
    for (let i = 0; i < 3; i++) {
      expect(await blocked(throttle.check('10.0.0.1', 'a@x.io'))).toBeUndefined();
      await throttle.recordFailure('10.0.0.1', 'a@x.io');
    }
    const error = await blocked(throttle.check('10.0.0.9', 'a@x.io'));
    expect(error?.code).toBe('too_many_attempts');
    expect(error?.status).toBe(429);
    expect(error?.retryAfterSeconds).toBeGreaterThan(0);
    expect(error?.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(await blocked(throttle.check('10.0.0.1', 'b@x.io'))).toBeUndefined();
  });

  it('blocks an address that fails across many accounts', async () => {
    const throttle = new LoginThrottle({ perAccount: 100, perIp: 3 });
    for (let i = 0; i < 3; i++) await throttle.recordFailure('10.0.0.2', `user${i}@x.io`);
    expect((await blocked(throttle.check('10.0.0.2', 'fresh@x.io')))?.code).toBe('too_many_attempts');
    expect(await blocked(throttle.check('10.0.0.3', 'fresh@x.io'))).toBeUndefined();
  });

  it('forgets an account’s failures after a successful sign-in', async () => {
    const throttle = new LoginThrottle({ perAccount: 3, perIp: 100 });
    await throttle.recordFailure('10.0.0.4', 'c@x.io');
    await throttle.recordFailure('10.0.0.4', 'c@x.io');
    await throttle.recordSuccess('c@x.io');
    await throttle.recordFailure('10.0.0.4', 'c@x.io');
    await throttle.recordFailure('10.0.0.4', 'c@x.io');
    expect(await blocked(throttle.check('10.0.0.4', 'c@x.io'))).toBeUndefined();
  });

  it('keeps counting failures past the limit without throwing', async () => {
    const throttle = new LoginThrottle({ perAccount: 1, perIp: 1 });
    for (let i = 0; i < 5; i++) await throttle.recordFailure('10.0.0.5', 'd@x.io');
    expect((await blocked(throttle.check('10.0.0.5', 'd@x.io')))?.code).toBe('too_many_attempts');
  });
});
