import type { JobLog } from './registry.js';

/** Log lines of background work (pino's `app.log` fits). */
export interface BackgroundLogTarget extends JobLog {
  info(detail: Record<string, unknown>, message: string): void;
  debug(detail: Record<string, unknown>, message: string): void;
}

/**
 * A log that forwards to whatever target is set: job handlers are defined when the services are wired, before
 * the server's logger exists; `startBackground` (or `aihub worker`) points it at the logger.
 */
export class RelayLog implements BackgroundLogTarget {
  #target: BackgroundLogTarget | undefined;

  use(target: BackgroundLogTarget | undefined): void {
    this.#target = target;
  }

  info(detail: Record<string, unknown>, message: string): void {
    this.#target?.info(detail, message);
  }

  debug(detail: Record<string, unknown>, message: string): void {
    this.#target?.debug(detail, message);
  }

  error(detail: Record<string, unknown>, message: string): void {
    this.#target?.error(detail, message);
  }
}
