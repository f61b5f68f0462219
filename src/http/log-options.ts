import type { FastifyServerOptions } from 'fastify';
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
  if (!prettyLogs(format)) return { level, redact: REDACT };
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
