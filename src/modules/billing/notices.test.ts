import { describe, expect, it } from 'vitest';
import { lowBalanceCrossing } from './notices.js';

describe('lowBalanceCrossing', () => {
  const T = [1000, 100];

  it('tells once per threshold crossed downwards', () => {
    expect(lowBalanceCrossing(T, null, 5000)).toEqual({ notify: null, notified: null });
    expect(lowBalanceCrossing(T, null, 1000)).toEqual({ notify: null, notified: null }); // at, not below
    expect(lowBalanceCrossing(T, null, 999)).toEqual({ notify: 1000, notified: 1000 });
    expect(lowBalanceCrossing(T, 1000, 400)).toEqual({ notify: null, notified: 1000 });
    expect(lowBalanceCrossing(T, 1000, 50)).toEqual({ notify: 100, notified: 100 });
    expect(lowBalanceCrossing(T, 100, -20)).toEqual({ notify: null, notified: 100 });
  });

  it('jumping past several thresholds tells the lowest only', () => {
    expect(lowBalanceCrossing(T, null, 10)).toEqual({ notify: 100, notified: 100 });
  });

  it('re-arms a threshold once the balance is above it again', () => {
    expect(lowBalanceCrossing(T, 100, 500)).toEqual({ notify: null, notified: 1000 });
    expect(lowBalanceCrossing(T, 1000, 50)).toEqual({ notify: 100, notified: 100 });
    expect(lowBalanceCrossing(T, 100, 2000)).toEqual({ notify: null, notified: null });
    expect(lowBalanceCrossing(T, null, 900)).toEqual({ notify: 1000, notified: 1000 });
  });

  it('does nothing without thresholds', () => {
    expect(lowBalanceCrossing([], null, -5)).toEqual({ notify: null, notified: null });
  });
});
