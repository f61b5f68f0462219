import { createHmac } from 'node:crypto';
import { safeEqual } from '../../core/secrets.js';

/** Header names of a signed webhook delivery. */
export const SIGNATURE_HEADER = 'x-aihub-signature';
export const TIMESTAMP_HEADER = 'x-aihub-timestamp';

/**
 * The signature of a webhook body: `sha256=` + hex HMAC-SHA256 over `<timestamp>.<body>` with the
 * destination's secret (timestamp in epoch seconds, also sent as X-AIHub-Timestamp), so a receiver can
 * refuse replays of old deliveries.
 *
 * @example
 * signBody('s3cret', 1765000000, '{"event":"alert.firing"}') // 'sha256=9f…'
 */
export function signBody(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Whether `signature` is the body's signature (what a receiver runs; used by our tests). */
export function verifySignature(secret: string, timestamp: number, body: string, signature: string): boolean {
  return safeEqual(signBody(secret, timestamp, body), signature);
}
