import { mockAdapter } from './providers/mock/index.js';
import type { Services } from './services.js';

/**
 * On a brand-new instance (no channels, no models), add the built-in `mock` channel and three demo models,
 * so a first `npm start` can serve a streamed chat completion at once. AIHUB_DEMO=false turns this off;
 * admins can delete them like any other channel or model.
 */
export async function seedDemo(services: Services): Promise<boolean> {
  const [channels, models] = await Promise.all([services.channels.list(), services.models.list()]);
  if (channels.length > 0 || models.length > 0) return false;
  const channel = await services.channels.create({
    name: 'demo-mock',
    type: mockAdapter.id,
    options: { provider: { chunkDelayMs: '20' } },
  });
  for (const name of ['mock-gpt', 'mock-reasoner', 'mock-embedding']) {
    await services.models.create({
      name,
      description: 'Built-in deterministic demo model (no network)',
      routes: [{ channelId: channel.id }],
    });
  }
  return true;
}
