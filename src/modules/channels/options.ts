// The options' shape is the data plane's contract (it reads them on every request).
import type { ChannelOptions } from '../../gateway/ports.js';

export { type ChannelOptions, type ChannelTimeouts, DEFAULT_TIMEOUTS } from '../../gateway/ports.js';

export function parseChannelOptions(json: string): ChannelOptions {
  const value: unknown = JSON.parse(json);
  return value && typeof value === 'object' ? (value as ChannelOptions) : {};
}
