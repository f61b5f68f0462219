import { pino } from 'pino';
import type { Config } from '../config/index.js';
import { openRuntime } from '../server.js';
import { startJobs } from '../services.js';

/**
 * `aihub worker`: run job workers without the HTTP server (to scale jobs apart from the gateway). On SIGTERM or
 * SIGINT, running jobs get the shutdown timeout to finish; those that do not are put back in the queue.
 */
export async function runWorker(config: Config): Promise<void> {
  const log = pino({ level: config.logLevel === 'silent' ? 'silent' : config.logLevel });
  const runtime = await openRuntime(config);
  const { services } = runtime;
  services.jobLog.use({
    info: (detail, message) => log.info(detail, message),
    debug: (detail, message) => log.debug(detail, message),
    error: (detail, message) => log.error(detail, message),
  });
  await startJobs(services, { workers: true }, log);
  log.info(
    { backend: services.jobs.backend, database: `${runtime.database.engine} ${runtime.database.location}` },
    'AI Hub worker running jobs',
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'worker shutting down: finishing running jobs');
    try {
      await services.jobs.stop(config.shutdownTimeoutMs);
      await runtime.close();
      log.info('worker stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'error during worker shutdown');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
