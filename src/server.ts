import type { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { ensureFirstAdmin } from './bootstrap.js';
import { applyDeclarativeConfig, readDeclarativeConfig } from './config/declarative.js';
import { type Config, readEnvironment } from './config/index.js';
import { loadOrCreateSecretKey } from './config/secret-key.js';
import { seedDemo } from './demo.js';
import { type DatabaseHandle, openDatabase } from './infra/db/client.js';
import { migrateToLatest } from './infra/db/migrate.js';
import { REDIS_CLIENT_OPTIONS } from './infra/state/redis-options.js';
import { createServices, type Services, startBackground, startServices } from './services.js';

export interface Runtime {
  services: Services;
  database: DatabaseHandle;
  redis: Redis | undefined;
  close(): Promise<void>;
}

/** Open storage, run migrations and wire services (shared by `start` and the CLI's admin commands). */
export async function openRuntime(config: Config): Promise<Runtime> {
  const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database.db);
  } catch (error) {
    await database.close();
    throw error;
  }
  // Loaded only when configured: the Redis client adds ~14 MiB of memory to a process that does not use it.
  const redis = config.redisUrl
    ? new (await import('ioredis')).Redis(config.redisUrl, { lazyConnect: true, ...REDIS_CLIENT_OPTIONS })
    : undefined;
  if (redis) await redis.connect();
  const { key } = loadOrCreateSecretKey(config.secretKey, config.dataDir);
  const services = createServices({ config, database, secretKey: key, redis });
  await startServices(services);
  return {
    services,
    database,
    redis,
    close: async () => {
      await services.close();
      await database.close();
      redis?.disconnect();
    },
  };
}

/** The URL to open for a server listening on host:port (a wildcard host: this machine, on every interface). */
export function listenUrl(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return `http://localhost:${port} (all interfaces)`;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** `aihub start`: serve until SIGTERM/SIGINT, then drain in-flight requests and close storage. */
export async function startServer(config: Config): Promise<void> {
  const runtime = await openRuntime(config);
  const app = await buildApp(runtime.services);
  await ensureFirstAdmin(runtime.services, app.log);
  if (config.configFile) {
    const report = await applyDeclarativeConfig(
      readDeclarativeConfig(config.configFile, readEnvironment()),
      runtime.services,
    );
    app.log.info({ file: config.configFile, ...report }, 'applied configuration file');
  } else if (config.demo && (await seedDemo(runtime.services))) {
    app.log.info('added the demo channel (mock) with models mock-gpt, mock-reasoner and mock-embedding');
  }
  await app.listen({ port: config.port, host: config.host });
  const stopBackground = startBackground(runtime.services, { log: app.log });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  app.log.info(
    { database: `${runtime.database.engine} ${runtime.database.location}`, redis: Boolean(runtime.redis) },
    `AI Hub listening on ${listenUrl(config.host, port)}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const deadline = setTimeout(() => {
      app.log.error('shutdown deadline passed; exiting with requests still open');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    try {
      await stopBackground();
      await app.close();
      await runtime.close();
      app.log.info('stopped');
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
