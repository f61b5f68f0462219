/**
 * Low-balance notices, once per crossing: an organization sets thresholds (e.g. 10 and 1 units); when its
 * balance falls below one it has not been told about, it is told once; when the balance rises above a
 * threshold again, that threshold is armed again. Pure: the ledger's transaction stores `notified`.
 */

/** The lowest threshold the balance is below, or null when it is at or above every threshold. */
function levelOf(thresholds: readonly number[], balance: number): number | null {
  let level: number | null = null;
  for (const t of thresholds) if (balance < t && (level === null || t < level)) level = t;
  return level;
}

/**
 * After a balance change: the threshold to notify about (null: none), and the lowest threshold notified
 * so far to store (null: none; every threshold armed).
 *
 * @example
 * lowBalanceCrossing([1000, 100], null, 500) // { notify: 1000, notified: 1000 }
 * lowBalanceCrossing([1000, 100], 1000, 400) // { notify: null, notified: 1000 }
 * lowBalanceCrossing([1000, 100], 1000, 50) // { notify: 100, notified: 100 }
 * lowBalanceCrossing([1000, 100], 100, 5000) // { notify: null, notified: null }
 */
export function lowBalanceCrossing(
  thresholds: readonly number[],
  notified: number | null,
  balance: number,
): { notify: number | null; notified: number | null } {
  const level = levelOf(thresholds, balance);
  if (level === null) return { notify: null, notified: null };
  if (notified === null || level < notified) return { notify: level, notified: level };
  // Still below a threshold told about; a rise above a lower one (but not above `notified`) re-arms it.
  return { notify: null, notified: level };
}
