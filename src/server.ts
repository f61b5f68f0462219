import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { ensureFirstAdmin } from './bootstrap.js';
import { applyDeclarativeConfig, readDeclarativeConfig } from './config/declarative.js';
import { type Config, readEnvironment } from './config/index.js';
import { loadOrCreateSecretKey } from './config/secret-key.js';
import { seedDemo } from './demo.js';
import { readTlsFiles, type SecureServer, type TlsMaterial, watchTlsFiles } from './http/tls.js';
import { type DatabaseHandle, openDatabase } from './infra/db/client.js';
import { migrateToLatest } from './infra/db/migrate.js';
import { REDIS_CLIENT_OPTIONS } from './infra/state/redis-options.js';
import { createChallengeServer } from './modules/tls/challenge-server.js';
import { AcmeRepository } from './modules/tls/repository.js';
import { type AcmeLog, AcmeManager, fileCertificateStatus } from './modules/tls/service.js';
import { openTracing } from './observability/index.js';
import { listenForMetrics } from './observability/routes.js';
import { createServices, type Services, startBackground, startServices } from './services.js';

export interface Runtime {
  services: Services;
  database: DatabaseHandle;
  redis: Redis | undefined;
  /** Let other instances start (see `holdStartupLock`); a no-op once released. */
  releaseStartupLock(): Promise<void>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Return still holding the first-start lock, for the caller's seeds; `releaseStartupLock` ends it. */
  holdStartupLock?: boolean;
}

/**
 * Open storage, run migrations and wire services (shared by `start` and the CLI's admin commands). Instances
 * take turns (the database's startup lock), so migrations and seeds never run twice at once. When a step
 * fails, what the earlier ones opened is closed: an open Redis client or pool would keep the process alive.
 */
export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  const opened: Array<() => Promise<void> | void> = [() => database.close()];
  const close = async () => {
    let failure: unknown;
    for (const closeOne of opened.splice(0).reverse()) {
      try {
        await closeOne();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  };
  try {
    const releaseStartupLock = await database.lockStartup();
    opened.push(releaseStartupLock);
    await migrateToLatest(database.db);
    // Inside the lock too: two instances sharing a data directory must not both create the key file.
    const { key } = loadOrCreateSecretKey(config.secretKey, config.dataDir);
    // Loaded only when configured: the Redis client adds ~14 MiB of memory to a process that does not use it.
    const redis = config.redisUrl
      ? new (await import('ioredis')).Redis(config.redisUrl, { lazyConnect: true, ...REDIS_CLIENT_OPTIONS })
      : undefined;
    if (redis) {
      opened.push(() => redis.disconnect());
      await redis.connect();
    }
    // The OpenTelemetry SDK is loaded only when OTEL_EXPORTER_OTLP_ENDPOINT asks for traces.
    const tracing = config.tracing ? await openTracing() : undefined;
    const services = createServices({ config, database, secretKey: key, redis, tracing });
    opened.push(() => services.close());
    await startServices(services);
    if (!options.holdStartupLock) await releaseStartupLock();
    return { services, database, redis, releaseStartupLock, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** What a start adds to the database: the first admin, then the AIHUB_CONFIG file or the demo channel. */
async function seed(services: Services, log: FastifyBaseLogger): Promise<void> {
  const { config } = services;
  await ensureFirstAdmin(services, log);
  if (config.configFile) {
    const report = await applyDeclarativeConfig(readDeclarativeConfig(config.configFile, readEnvironment()), services);
    log.info({ file: config.configFile, ...report }, 'applied configuration file');
  } else if (config.demo && (await seedDemo(services))) {
    log.info('added the demo channel (mock) with models mock-gpt, mock-reasoner and mock-embedding');
  }
}

/**
 * Open the runtime, seed and listen: what `aihub start` does before serving. Fails closing what it opened.
 * Under the startup lock until the seeds are written: an instance starting at the same moment sees them.
 */
export async function openServer(
  config: Config,
): Promise<{ app: FastifyInstance; runtime: Runtime; acme: AcmeService | undefined }> {
  // Read (and checked) first: a certificate that cannot be used stops the start before anything opens.
  const tls = config.tls ? readTlsFiles(config.tls) : undefined;
  const runtime = await openRuntime(config, { holdStartupLock: true });
  let app: FastifyInstance | undefined;
  let acme: AcmeService | undefined;
  try {
    // The manager logs through the app's logger, which exists only once the app (needing the certificate) does.
    const log: AcmeLog = {
      info: (obj, msg) => app?.log.info(obj, msg),
      warn: (obj, msg) => app?.log.warn(obj, msg),
      error: (obj, msg) => app?.log.error(obj, msg),
    };
    const manager = config.acme ? await openAcme(config, runtime.services, log) : undefined;
    const certificateStatus = manager
      ? () => manager.status()
      : () => fileCertificateStatus(config.tls ? readTlsFilesQuietly(config.tls, tls) : undefined);
    app = await buildApp(runtime.services, {
      tls: tls ?? manager?.material,
      acme: Boolean(manager),
      certificateStatus,
    });
    // Mail (and, without SMTP, its links) is reported in the server log.
    runtime.services.mailer.logTo(app.log);
    await seed(runtime.services, app.log);
    await runtime.releaseStartupLock();
    await app.listen({ port: config.port, host: config.host });
    if (manager && config.acme) acme = await listenForChallenges(app, manager, config);
    return { app, runtime, acme };
  } catch (error) {
    await acme?.stop().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await runtime.close().catch(() => undefined);
    throw error;
  }
}

/** The ACME side of a running server: renewals and the HTTP-01 listener. */
export interface AcmeService {
  manager: AcmeManager;
  stop(): Promise<void>;
}

async function openAcme(config: Config, services: Services, log: AcmeLog): Promise<AcmeManager> {
  if (!config.acme) throw new Error('ACME is not configured');
  const manager = new AcmeManager({
    config: config.acme,
    repo: new AcmeRepository(services.database.db),
    secretBox: services.secretBox,
    clock: services.clock,
    log,
    instanceId: services.newId('ins'),
  });
  await manager.load();
  return manager;
}

/**
 * Serve HTTP-01 challenges (and redirects to HTTPS) on AIHUB_ACME_HTTP_PORT, hand every new certificate to the
 * HTTPS server, and start renewing.
 */
async function listenForChallenges(app: FastifyInstance, manager: AcmeManager, config: Config): Promise<AcmeService> {
  const acmeConfig = config.acme;
  if (!acmeConfig) throw new Error('ACME is not configured');
  const address = app.server.address();
  const httpsPort = typeof address === 'object' && address ? address.port : config.port;
  manager.onCertificate((material: TlsMaterial) => {
    (app.server as unknown as SecureServer).setSecureContext(material);
    app.log.info({ domains: acmeConfig.domains }, 'ACME: serving the new certificate');
  });
  const challenges = createChallengeServer({
    challenge: (token) => manager.challenge(token),
    domains: acmeConfig.domains,
    httpsPort,
  });
  await new Promise<void>((resolve, reject) => {
    challenges.once('error', reject);
    challenges.listen(acmeConfig.httpPort, config.host, () => {
      challenges.off('error', reject);
      resolve();
    });
  });
  manager.start();
  return {
    manager,
    stop: async () => {
      await manager.stop();
      await new Promise<void>((resolve) => challenges.close(() => resolve()));
    },
  };
}

/** The certificate files as they are now (they may have been renewed), or the pair read at start. */
function readTlsFilesQuietly(files: { certFile: string; keyFile: string }, atStart: TlsMaterial | undefined) {
  try {
    return readTlsFiles(files);
  } catch {
    return atStart;
  }
}

/** After the shutdown timeout: how long cut-off requests get to reach the request log before the process exits. */
const CUT_OFF_GRACE_MS = 5_000;

/** The URL to open for a server listening on host:port (a wildcard host: this machine, on every interface). */
export function listenUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return `${scheme}://localhost:${port} (all interfaces)`;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** `aihub start`: serve until SIGTERM/SIGINT, then drain in-flight requests and close storage. */
export async function startServer(config: Config): Promise<void> {
  const { app, runtime, acme } = await openServer(config);
  const stopWatchingTls = config.tls
    ? watchTlsFiles(app.server as unknown as SecureServer, config.tls, app.log)
    : () => undefined;
  const stopBackground = startBackground(runtime.services, { log: app.log });
  const { metrics } = runtime.services.observability;
  const metricsServer =
    metrics && config.metrics.port !== undefined
      ? await listenForMetrics(metrics, { ...config.metrics, port: config.metrics.port })
      : undefined;
  if (metricsServer)
    app.log.info(`Prometheus metrics on ${listenUrl(config.metrics.host, metricsServer.port)}/metrics`);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  app.log.info(
    { database: `${runtime.database.engine} ${runtime.database.location}`, redis: Boolean(runtime.redis) },
    `AI Hub listening on ${listenUrl(config.host, port, config.tls || config.acme ? 'https' : 'http')}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const { recorder } = runtime.services;
    const startedAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs);
    });
    const drained = (async () => {
      stopWatchingTls();
      // Jobs stop beside the HTTP drain, not before it (the listener closes at once). Running jobs get half
      // the timeout, then are aborted and put back in the queue with time left to record what they did.
      // Its failure is held (not left to reject unhandled if closing the listener throws first) and raised
      // after the drain.
      const jobsStopped = stopBackground(Math.floor(config.shutdownTimeoutMs / 2)).then(
        () => null,
        (error: unknown) => ({ error }),
      );
      await metricsServer?.close();
      await acme?.stop();
      // Resolves once every response has ended. A stream's row is settled when its upstream body ends,
      // which can be after its client got the whole answer: wait for every admitted request's row too.
      await app.close();
      const jobsFailed = await jobsStopped;
      if (jobsFailed) throw jobsFailed.error;
      await recorder.settled(Math.max(0, config.shutdownTimeoutMs - (Date.now() - startedAt)));
      return 'drained' as const;
    })();
    try {
      const outcome = await Promise.race([drained, deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout' || recorder.outstanding > 0) {
        // Past the deadline: cut the connections still open (their requests settle as 499 with the
        // tokens so far), give them a moment to reach the log, write it and exit 1.
        app.log.error(
          { unsettled: recorder.outstanding },
          'shutdown deadline passed; closing the connections still open',
        );
        setTimeout(() => {
          app.log.error({ unsettled: recorder.outstanding }, 'could not write the request log in time; exiting');
          process.exit(1);
        }, CUT_OFF_GRACE_MS).unref();
        app.server.closeAllConnections?.(); // (an HTTP/2 server closes its sessions in app.close)
        await recorder.settled(CUT_OFF_GRACE_MS / 2);
        await recorder.close();
        await runtime.close();
        process.exit(1);
      }
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
