import type { FastifyServerOptions } from 'fastify';
import { destination } from 'pino';
import type { LogFormat, LogLevel } from '../config/index.js';

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/** Whether log lines are for people: forced by AIHUB_LOG_FORMAT, else when stdout is a terminal. */
export function prettyLogs(format: LogFormat, isTty = Boolean(process.stdout.isTTY)): boolean {
  return format === 'pretty' || (format === 'auto' && isTty);
}

/**
 * Pino options for the server: JSON lines (for collectors) or, for a person at a terminal, pino-pretty's
 * colored lines. pino-pretty runs as a transport in a worker thread, so formatting never blocks requests.
 */
export function loggerOptions(level: LogLevel, format: LogFormat): FastifyServerOptions['logger'] {
  // Lines gathered into writes of 4 KiB or more rather than a write system call per line: every /v1 request
  // logs one. Written at least every second (a quiet server's lines still show promptly) and at exit.
  if (!prettyLogs(format))
    return {
      level,
      redact: REDACT,
      stream: destination({ dest: 1, minLength: 4096, sync: false, periodicFlush: 1000 }),
    };
  return {
    level,
    redact: REDACT,
    transport: {
      target: 'pino-pretty',
      options: {
        colorize: Boolean(process.stdout.isTTY),
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        singleLine: true,
      },
    },
  };
}
