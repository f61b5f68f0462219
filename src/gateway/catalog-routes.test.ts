import { describe, expect, it } from 'vitest';
import type { CatalogChannel } from './catalog.js';
import { buildModelRoutes } from './catalog-routes.js';
import { DEFAULT_TIMEOUTS } from './ports.js';

function channel(id: string, tags: string[], extra: Partial<CatalogChannel> = {}): CatalogChannel {
  return {
    id,
    name: id,
    type: 'test',
    adapter: { key: 'none' } as CatalogChannel['adapter'],
    baseUrl: '',
    active: true,
    disabledReason: null,
    options: {},
    groups: ['default'],
    tags,
    timeouts: DEFAULT_TIMEOUTS,
    priority: 0,
    weight: 1,
    keys: [],
    keyCursor: 0,
    ...extra,
  };
}

const route = (extra: Partial<{ upstream_model: string | null; priority: number; weight: number }> = {}) => ({
  upstream_model: null,
  priority: 0,
  weight: 1,
  ...extra,
});

describe('buildModelRoutes', () => {
  const channels = new Map(
    [
      channel('a', ['eu']),
      channel('b', ['eu', 'cheap'], { priority: 5, weight: 3, options: { modelMapping: { big: 'big-eu' } } }),
      channel('c', ['us'], { active: false }),
      channel('d', ['us']),
    ].map((c) => [c.id, c]),
  );

  it("expands a tag route into one route per channel with the tag, with the channel's priority and weight", () => {
    const routes = buildModelRoutes('big', [], [{ tag: 'eu', ...route({ priority: 1, weight: 2 }) }], channels);
    expect(routes.map((r) => [r.channel.id, r.upstreamModel, r.priority, r.weight])).toEqual([
      ['a', 'big', 1, 2],
      ['b', 'big-eu', 6, 6],
    ]);
  });

  it('keeps a direct route over the same channel reached by a tag, and a channel once across tags', () => {
    const routes = buildModelRoutes(
      'm',
      [{ channel_id: 'b', ...route({ upstream_model: 'direct', priority: 9 }) }],
      [
        { tag: 'eu', ...route() },
        { tag: 'cheap', ...route() },
      ],
      channels,
    );
    expect(routes.map((r) => [r.channel.id, r.upstreamModel])).toEqual([
      ['b', 'direct'],
      ['a', 'm'],
    ]);
  });

  it('includes disabled channels (routing skips them; health checks still probe them) and no unknown tag', () => {
    expect(buildModelRoutes('m', [], [{ tag: 'us', ...route() }], channels).map((r) => r.channel.id)).toEqual([
      'c',
      'd',
    ]);
    expect(buildModelRoutes('m', [], [{ tag: 'nowhere', ...route() }], channels)).toEqual([]);
  });

  it('skips a direct route to a channel no longer in the catalog', () => {
    expect(buildModelRoutes('m', [{ channel_id: 'gone', ...route() }], [], channels)).toEqual([]);
  });
});
