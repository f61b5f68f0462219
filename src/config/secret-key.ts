import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSecretKey } from './index.js';

/**
 * The 32-byte master secret: AIHUB_SECRET_KEY when set, else `<dataDir>/secret.key`, created with mode
 * 0600 on first start. Losing it makes stored provider keys unreadable and signs everyone out.
 */
export function loadOrCreateSecretKey(
  configured: Buffer | undefined,
  dataDir: string,
): { key: Buffer; source: string } {
  if (configured) return { key: configured, source: 'AIHUB_SECRET_KEY' };
  const file = join(dataDir, 'secret.key');
  if (existsSync(file)) {
    const key = parseSecretKey(readFileSync(file, 'utf8').trim());
    if (!key)
      throw new Error(
        `${file} does not hold a 32-byte key (64 hex characters); restore it from backup or set AIHUB_SECRET_KEY`,
      );
    return { key, source: file };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, source: `${file} (created)` };
}
