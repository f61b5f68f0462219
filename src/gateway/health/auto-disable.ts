import type { CatalogChannel } from '../catalog.js';
import type { ChannelControl } from '../ports.js';

/** Reasons the gateway writes when it disables a channel by itself; only these are re-enabled by itself. */
export const AUTO_DISABLE_PREFIX = 'auto: ';

/** Breaker openings in a row (no success between) after which a channel is disabled automatically. */
export const PERSISTENT_FAILURE_OPENS = 3;

/**
 * Takes a channel out of routing when it cannot work until an admin (or a passing health check) brings it
 * back: its provider key was rejected, or its breaker keeps opening. The channel stops serving at once in
 * this snapshot; the stored change (and its audit row) follows in the background.
 */
export class AutoDisable {
  constructor(private readonly control: ChannelControl) {}

  /** The upstream rejected the channel's provider key (401/403). */
  keyRejected(channel: CatalogChannel, message: string): void {
    this.disable(channel, `upstream rejected the provider key: ${message}`);
  }

  /** The channel's breaker opened, the `consecutiveOpens`th time without a success between. */
  breakerOpened(channel: CatalogChannel, consecutiveOpens: number, message: string): void {
    if (consecutiveOpens >= PERSISTENT_FAILURE_OPENS) this.disable(channel, `failing persistently: ${message}`);
  }

  private disable(channel: CatalogChannel, reason: string): void {
    if (!channel.active) return;
    channel.active = false;
    this.control.disable(channel.id, reason).catch(() => undefined);
  }
}
