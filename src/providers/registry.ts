/**
 * The one list of upstream providers. Adding a provider means adding its folder and one line here.
 */
import { anthropicAdapter } from './anthropic/index.js';
import { azureOpenaiAdapter } from './azure-openai/index.js';
import { cohereAdapter } from './cohere/index.js';
import { geminiAdapter } from './gemini/index.js';
import { jinaAdapter } from './jina/index.js';
import { mockAdapter } from './mock/index.js';
import { openaiAdapter } from './openai/index.js';
import { openaiCompatibleAdapter } from './openai-compatible/index.js';
import type { ProviderAdapter } from './types.js';

export const PROVIDERS = {
  openai: openaiAdapter,
  'azure-openai': azureOpenaiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  'openai-compatible': openaiCompatibleAdapter,
  mock: mockAdapter,
  cohere: cohereAdapter,
  jina: jinaAdapter,
} as const satisfies Record<string, ProviderAdapter>;

export type ProviderId = keyof typeof PROVIDERS;

/** The ids of all providers, in registry order. */
export const PROVIDER_IDS = Object.keys(PROVIDERS) as ProviderId[];

/** True for a registered provider id (own keys only, so `toString` and friends are not providers). */
export function isProviderId(id: string): id is ProviderId {
  return Object.hasOwn(PROVIDERS, id);
}

/**
 * The adapter for a provider id, or undefined for an unknown id.
 * @example getProvider('openai')?.baseUrl.default // 'https://api.openai.com/v1'
 */
export function getProvider(id: string): ProviderAdapter | undefined {
  return isProviderId(id) ? PROVIDERS[id] : undefined;
}
