import type { Redis } from 'ioredis';
import type { Config } from './config/index.js';
import { type Clock, systemClock } from './core/clock.js';
import { type IdGenerator, newId } from './core/ids.js';
import { SecretBox, deriveKey } from './core/secrets.js';
import type { DatabaseHandle } from './infra/db/client.js';
import { AuditRepository } from './modules/audit/repository.js';
import { AuditService } from './modules/audit/service.js';
import { type PasswordHasher, createArgon2Hasher } from './modules/auth/passwords.js';
import { AuthService } from './modules/auth/service.js';
import { RefreshSessions } from './modules/auth/sessions.js';
import { LoginThrottle } from './modules/auth/throttle.js';
import { AccessTokens } from './modules/auth/tokens.js';
import { KeysRepository } from './modules/keys/repository.js';
import { KeysService } from './modules/keys/service.js';
import { KeyVerifier } from './modules/keys/verifier.js';
import { SettingsService } from './modules/settings/service.js';
import { UsersRepository } from './modules/users/repository.js';
import { UsersService } from './modules/users/service.js';

/** Everything the app is built from. Tests build their own with a temp database and a fake clock. */
export interface Services {
  config: Config;
  database: DatabaseHandle;
  clock: Clock;
  newId: IdGenerator;
  secretBox: SecretBox;
  users: UsersService;
  auth: AuthService;
  keys: KeysService;
  keyVerifier: KeyVerifier;
  audit: AuditService;
  settings: SettingsService;
}

export interface ServiceOptions {
  config: Config;
  database: DatabaseHandle;
  secretKey: Buffer;
  redis?: Redis | undefined;
  clock?: Clock;
  newId?: IdGenerator;
  hasher?: PasswordHasher;
  /** Login throttle limits (tests lower them). */
  throttle?: { perIp?: number; perAccount?: number; windowSeconds?: number };
}

/** Wire the services together. Call `settings.load()` (done by `startServices`) before serving. */
export function createServices(options: ServiceOptions): Services {
  const { config, database } = options;
  const db = database.db;
  const clock = options.clock ?? systemClock;
  const ids = options.newId ?? ((prefix: string) => newId(prefix, clock.now()));
  const hasher = options.hasher ?? createArgon2Hasher();
  const audit = new AuditService(new AuditRepository(db), clock, ids);
  const settings = new SettingsService(db, clock, { registrationEnabled: config.allowRegistration });
  const users = new UsersService(new UsersRepository(db), hasher, clock, ids);
  const keysRepo = new KeysRepository(db);
  const keyVerifier = new KeyVerifier(keysRepo, clock);
  const keys = new KeysService(keysRepo, users, keyVerifier, audit, clock, ids);
  const auth = new AuthService({
    users,
    sessions: new RefreshSessions(db, clock, ids, config.refreshTokenTtlSeconds),
    tokens: new AccessTokens(deriveKey(options.secretKey, 'jwt'), config.accessTokenTtlSeconds),
    throttle: new LoginThrottle({ ...options.throttle, redis: options.redis }),
    audit,
    settings,
    hasher,
    clock,
    masterKey: config.masterKey,
  });
  return {
    config,
    database,
    clock,
    newId: ids,
    secretBox: new SecretBox(deriveKey(options.secretKey, 'secrets-at-rest')),
    users,
    auth,
    keys,
    keyVerifier,
    audit,
    settings,
  };
}
