import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import {
  newRecoveryCodes,
  newTotpSecret,
  normaliseTotpCode,
  otpauthUrl,
  recoveryCodeHash,
  verifyTotp,
} from './totp.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });

describe('TOTP', () => {
  it('accepts the current code and its neighbours, and returns the time step', async () => {
    const secret = newTotpSecret();
    const step = Math.floor(NOW / 30_000);
    expect(await verifyTotp(secret, await codeAt(secret, NOW), NOW, null)).toBe(step);
    expect(await verifyTotp(secret, await codeAt(secret, NOW - 30_000), NOW, null)).toBe(step - 1);
    expect(await verifyTotp(secret, await codeAt(secret, NOW + 30_000), NOW, null)).toBe(step + 1);
    expect(await verifyTotp(secret, await codeAt(secret, NOW - 120_000), NOW, null)).toBeNull();
  });

  it('refuses a code of an already used step (replay) and malformed codes', async () => {
    const secret = newTotpSecret();
    const code = await codeAt(secret, NOW);
    const step = Math.floor(NOW / 30_000);
    expect(await verifyTotp(secret, code, NOW, step)).toBeNull();
    expect(await verifyTotp(secret, code, NOW, step - 1)).toBe(step);
    expect(await verifyTotp(secret, '12', NOW, null)).toBeNull();
    expect(await verifyTotp(secret, 'abcdef', NOW, null)).toBeNull();
    expect(normaliseTotpCode('123 456')).toBe('123456');
  });

  it('builds an otpauth URI with the issuer and the account', () => {
    const url = otpauthUrl('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'ann@example.com', 'AI Hub');
    expect(url.startsWith('otpauth://totp/')).toBe(true);
    expect(url).toContain('secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect(url).toContain('issuer=AI%20Hub');
  });
});

describe('recovery codes', () => {
  it('are ten distinct xxxxx-xxxxx codes whose hash ignores case, dashes and spaces', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    const c = codes[0] as string;
    expect(recoveryCodeHash(` ${c.toUpperCase().replace('-', ' ')} `)).toBe(recoveryCodeHash(c));
    expect(recoveryCodeHash(c)).not.toBe(recoveryCodeHash(codes[1] as string));
  });
});
