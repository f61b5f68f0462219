import { describe, expect, it } from 'vitest';
import { alertMessage, isSpendSpike, type Observation, percentile, spendIncrease, transitions } from './rules.js';
import { signBody, verifySignature } from './signature.js';

const obs = (subject: string, breached: boolean, value: number | null = null): Observation => ({
  subject,
  subjectName: null,
  value,
  breached,
  organizationId: null,
});

describe('transitions: once per crossing', () => {
  it('fires a breached subject that is not firing, and nothing more while it stays breached', () => {
    expect(transitions([], [obs('a', true, 1)]).map((t) => [t.subject, t.to])).toEqual([['a', 'firing']]);
    expect(transitions([{ subject: 'a', state: 'ok' }], [obs('a', true)]).map((t) => t.to)).toEqual(['firing']);
    expect(transitions([{ subject: 'a', state: 'firing' }], [obs('a', true)])).toEqual([]);
  });

  it('resolves a firing subject once it is no longer breached, or no longer exists', () => {
    expect(transitions([{ subject: 'a', state: 'firing' }], [obs('a', false)]).map((t) => t.to)).toEqual(['resolved']);
    const gone = transitions([{ subject: 'gone', state: 'firing' }], []);
    expect(gone).toEqual([{ subject: 'gone', to: 'resolved', observation: undefined }]);
    expect(transitions([{ subject: 'a', state: 'ok' }], [obs('a', false)])).toEqual([]);
  });

  it('judges each subject on its own', () => {
    const out = transitions(
      [
        { subject: 'a', state: 'firing' },
        { subject: 'b', state: 'ok' },
      ],
      [obs('a', true), obs('b', true), obs('c', false)],
    );
    expect(out.map((t) => [t.subject, t.to])).toEqual([['b', 'firing']]);
  });
});

describe('measures', () => {
  it('p95 by nearest rank', () => {
    expect(percentile([], 95)).toBeNull();
    expect(percentile([7], 95)).toBe(7);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile([10, 20, 30, 40, 1000], 95)).toBe(1000);
  });

  it('a spend spike is more than `percent` above the previous window and at least the minimum', () => {
    expect(isSpendSpike(3_000, 1_000, 100, 0)).toBe(true);
    expect(isSpendSpike(2_000, 1_000, 100, 0)).toBe(false);
    expect(isSpendSpike(500, 0, 100, 1_000)).toBe(false);
    expect(isSpendSpike(1_000, 0, 100, 1_000)).toBe(true);
    expect(isSpendSpike(0, 0, 100, 0)).toBe(false);
    expect(spendIncrease(3_000, 1_000)).toBe(200);
    expect(spendIncrease(3_000, 0)).toBeNull();
  });

  it('says what fired in one line', () => {
    const rule = { name: 'Errors', kind: 'error_rate' as const, threshold: 5, windowMinutes: 5 };
    expect(alertMessage(rule, 'firing', 'all', 12.5)).toBe(
      'FIRING: Errors — error rate 12.5 % over 5 min (threshold 5 %)',
    );
    const balance = { name: 'Low', kind: 'balance' as const, threshold: 5_000_000, windowMinutes: 5 };
    expect(alertMessage(balance, 'resolved', 'Acme', 7_250_000, 'EUR')).toBe(
      'RESOLVED: Low — organization Acme balance 7.25 EUR (threshold 5.00 EUR)',
    );
  });
});

describe('webhook signature', () => {
  it('is HMAC-SHA256 over "<timestamp>.<body>", verifiable with the secret only', () => {
    const body = '{"event":"alert.firing"}';
    const signature = signBody('whsec_test', 1_765_000_000, body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature('whsec_test', 1_765_000_000, body, signature)).toBe(true);
    expect(verifySignature('whsec_other', 1_765_000_000, body, signature)).toBe(false);
    expect(verifySignature('whsec_test', 1_765_000_001, body, signature)).toBe(false);
    expect(verifySignature('whsec_test', 1_765_000_000, `${body} `, signature)).toBe(false);
  });
});
