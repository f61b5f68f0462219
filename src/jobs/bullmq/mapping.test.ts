import { describe, expect, it } from 'vitest';
import { readProgress, toBullPriority, toJobState } from './mapping.js';

describe('BullMQ mapping', () => {
  it('runs a higher priority first in BullMQ (a lower number), never 0', () => {
    expect(toBullPriority(10)).toBeLessThan(toBullPriority(1));
    expect(toBullPriority(1)).toBeLessThan(toBullPriority(0));
    expect(toBullPriority(0)).toBeLessThan(toBullPriority(-5));
    expect(toBullPriority(1e12)).toBe(1);
    expect(toBullPriority(-1e12)).toBe(2_097_152);
  });

  it('reads our state from BullMQ’s and our own marks', () => {
    expect(toJobState('active', { running: '1' })).toBe('running');
    expect(toJobState('active', {})).toBe('queued');
    expect(toJobState('active', { cancelledAt: '1', running: '1' })).toBe('cancelled');
    expect(toJobState('completed', {})).toBe('succeeded');
    expect(toJobState('failed', {})).toBe('failed');
    expect(toJobState('failed', { cancelledAt: '5' })).toBe('cancelled');
    expect(toJobState('prioritized', {})).toBe('queued');
    expect(toJobState('wait', { cancelledAt: '5' })).toBe('cancelled');
    expect(toJobState('delayed', { waiting: '1' })).toBe('waiting');
    expect(toJobState('delayed', {})).toBe('queued');
    expect(toJobState('unknown', {})).toBeUndefined();
  });

  it('reads progress stored as an object or a bare number', () => {
    expect(readProgress({ percent: 40, message: 'rows' })).toEqual({ percent: 40, message: 'rows' });
    expect(readProgress(7)).toEqual({ percent: 7, message: null });
    expect(readProgress(undefined)).toEqual({ percent: 0, message: null });
  });
});
