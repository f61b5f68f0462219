import { hash, verify } from '@node-rs/argon2';

/** Password hashing with argon2id (OWASP minimum: m=19 MiB, t=2, p=1). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

export function createArgon2Hasher(options: { memoryCost?: number; timeCost?: number } = {}): PasswordHasher {
  const params = {
    algorithm: 2 as const,
    memoryCost: options.memoryCost ?? 19_456,
    timeCost: options.timeCost ?? 2,
    parallelism: 1,
  };
  return {
    hash: (password) => hash(password, params),
    verify: async (stored, password) => {
      try {
        return await verify(stored, password);
      } catch {
        return false;
      }
    },
  };
}
