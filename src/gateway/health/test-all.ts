/**
 * Testing many channels at once: one tiny request per channel (or per model routed to it), a few at a time,
 * each result reported as soon as it is known so the console can fill a live table.
 */
import type { Catalog, CatalogChannel } from '../catalog.js';
import type { ChannelTester, ChannelTestKind } from './tester.js';

export interface ChannelTestFilter {
  /** Only these channels (default: every channel). */
  ids?: string[] | undefined;
  /** Only channels with this tag. */
  tag?: string | undefined;
  /** Only channels of this provider type. */
  type?: string | undefined;
  /** Skip disabled channels. */
  enabledOnly?: boolean | undefined;
  /** Every model routed to a channel instead of its first (chat) one. */
  allModels?: boolean | undefined;
  /** Tests in flight at once (default 4). */
  concurrency?: number | undefined;
}

/** One line of a test-all run. */
export interface ChannelTestRow {
  channelId: string;
  channelName: string;
  /** The upstream model tested; null when no model routes to the channel. */
  model: string | null;
  kind: ChannelTestKind | null;
  ok: boolean;
  latencyMs: number;
  status: number | null;
  error: string | null;
  reply: string | null;
}

/** The channels a filter selects, in catalog order. */
export function selectChannels(channels: CatalogChannel[], filter: ChannelTestFilter): CatalogChannel[] {
  return channels.filter(
    (c) =>
      (!filter.ids || filter.ids.includes(c.id)) &&
      (!filter.tag || (c.tags ?? []).includes(filter.tag)) &&
      (!filter.type || c.type === filter.type) &&
      (!filter.enabledOnly || c.active),
  );
}

/** Run the tests; `onRow` gets each result as it comes. Resolves with the number of rows once all are done. */
export async function testChannels(
  catalog: Catalog,
  tester: ChannelTester,
  filter: ChannelTestFilter,
  onRow: (row: ChannelTestRow) => void,
  signal?: AbortSignal,
): Promise<number> {
  const jobs: Array<() => Promise<ChannelTestRow>> = [];
  for (const channel of selectChannels(catalog.allChannels(), filter)) {
    const models = tester.modelsOf(channel);
    if (models.length === 0) {
      jobs.push(async () => ({
        channelId: channel.id,
        channelName: channel.name,
        model: null,
        kind: null,
        ok: false,
        latencyMs: 0,
        status: null,
        error: 'No model routes to this channel yet',
        reply: null,
      }));
      continue;
    }
    for (const model of filter.allModels ? models : models.slice(0, 1)) {
      jobs.push(async () => ({
        channelId: channel.id,
        channelName: channel.name,
        kind: model.kind,
        ...(await tester.run(channel, model)),
      }));
    }
  }
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && !signal?.aborted) {
      const job = jobs[next++] as () => Promise<ChannelTestRow>;
      onRow(await job());
    }
  };
  const width = Math.max(1, Math.min(filter.concurrency ?? 4, jobs.length));
  await Promise.all(Array.from({ length: width }, worker));
  return jobs.length;
}
