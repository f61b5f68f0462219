import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

// The time part changes once a millisecond: requests within the same millisecond share its encoding.
let lastMs = -1;
let lastTime = '';

function encodeTime(ms: number): string {
  if (ms === lastMs) return lastTime;
  let out = '';
  let value = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[value % 32] + out;
    value = Math.floor(value / 32);
  }
  lastMs = ms;
  lastTime = out;
  return out;
}

// Random bytes are drawn from a pool refilled 4 KiB at a time (one syscall per ~250 ids, not one per id).
let pool = randomBytes(4096);
let offset = 0;

function encodeRandom(length: number): string {
  if (offset + length > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[(pool[offset + i] as number) & 31];
  offset += length;
  return out;
}

/**
 * A prefixed, time-sortable id: `usr_` + 10 chars of epoch-ms + 16 random chars (80 bits).
 * @example newId('key') // 'key_01jd5x0z9q7w3m8k2p4r6t8v0x'
 */
export function newId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${encodeTime(now)}${encodeRandom(16)}`;
}

export type IdGenerator = (prefix: string) => string;
