/**
 * Default prices of well-known models, in micro-USD per 1M tokens (USD × 1e6), used when an admin adds a
 * model by one of these names without giving a price. Public list prices as of 2026; check your
 * provider's page and override per model where they differ.
 */
import type { UnitPrices } from '../../gateway/index.js';

export interface DefaultPrice {
  input: number;
  output: number;
  cachedInput?: number;
  contextWindow?: number;
  capabilities: string[];
  /** Per-unit prices (micro-USD per image, audio second, speech character, search unit). */
  units?: UnitPrices;
}

const usd = (n: number) => Math.round(n * 1_000_000);

export const DEFAULT_PRICES: Record<string, DefaultPrice> = {
  'gpt-4o': {
    input: usd(2.5),
    output: usd(10),
    cachedInput: usd(1.25),
    contextWindow: 128_000,
    capabilities: ['chat', 'vision', 'tools'],
  },
  'gpt-4o-mini': {
    input: usd(0.15),
    output: usd(0.6),
    cachedInput: usd(0.075),
    contextWindow: 128_000,
    capabilities: ['chat', 'vision', 'tools'],
  },
  'gpt-4.1': {
    input: usd(2),
    output: usd(8),
    cachedInput: usd(0.5),
    contextWindow: 1_047_576,
    capabilities: ['chat', 'vision', 'tools'],
  },
  'gpt-4.1-mini': {
    input: usd(0.4),
    output: usd(1.6),
    cachedInput: usd(0.1),
    contextWindow: 1_047_576,
    capabilities: ['chat', 'vision', 'tools'],
  },
  'gpt-4.1-nano': {
    input: usd(0.1),
    output: usd(0.4),
    cachedInput: usd(0.025),
    contextWindow: 1_047_576,
    capabilities: ['chat', 'vision', 'tools'],
  },
  'gpt-5': {
    input: usd(1.25),
    output: usd(10),
    cachedInput: usd(0.125),
    contextWindow: 400_000,
    capabilities: ['chat', 'vision', 'tools', 'reasoning'],
  },
  'gpt-5-mini': {
    input: usd(0.25),
    output: usd(2),
    cachedInput: usd(0.025),
    contextWindow: 400_000,
    capabilities: ['chat', 'vision', 'tools', 'reasoning'],
  },
  'gpt-5-nano': {
    input: usd(0.05),
    output: usd(0.4),
    cachedInput: usd(0.005),
    contextWindow: 400_000,
    capabilities: ['chat', 'vision', 'tools', 'reasoning'],
  },
  o3: {
    input: usd(2),
    output: usd(8),
    cachedInput: usd(0.5),
    contextWindow: 200_000,
    capabilities: ['chat', 'vision', 'tools', 'reasoning'],
  },
  'o4-mini': {
    input: usd(1.1),
    output: usd(4.4),
    cachedInput: usd(0.275),
    contextWindow: 200_000,
    capabilities: ['chat', 'vision', 'tools', 'reasoning'],
  },
  'text-embedding-3-small': { input: usd(0.02), output: 0, contextWindow: 8_191, capabilities: ['embeddings'] },
  'text-embedding-3-large': { input: usd(0.13), output: 0, contextWindow: 8_191, capabilities: ['embeddings'] },
  'claude-opus-4-1': {
    input: usd(15),
    output: usd(75),
    cachedInput: usd(1.5),
    contextWindow: 200_000,
    capabilities: ['chat', 'vision', 'tools', 'reasoning'],
  },
  'claude-sonnet-4-5': {
    input: usd(3),
    output: usd(15),
    cachedInput: usd(0.3),
    contextWindow: 200_000,
    capabilities: ['chat', 'vision', 'tools', 'reasoning'],
  },
  'claude-sonnet-4-0': {
    input: usd(3),
    output: usd(15),
    cachedInput: usd(0.3),
    contextWindow: 200_000,
    capabilities: ['chat', 'vision', 'tools', 'reasoning'],
  },
  'claude-haiku-4-5': {
    input: usd(1),
    output: usd(5),
    cachedInput: usd(0.1),
    contextWindow: 200_000,
    capabilities: ['chat', 'vision', 'tools', 'reasoning'],
  },
  'claude-3-5-haiku-latest': {
    input: usd(0.8),
    output: usd(4),
    cachedInput: usd(0.08),
    contextWindow: 200_000,
    capabilities: ['chat', 'vision', 'tools'],
  },
  'gemini-2.5-pro': {
    input: usd(1.25),
    output: usd(10),
    cachedInput: usd(0.31),
    contextWindow: 1_048_576,
    capabilities: ['chat', 'vision', 'tools', 'reasoning'],
  },
  'gemini-2.5-flash': {
    input: usd(0.3),
    output: usd(2.5),
    cachedInput: usd(0.075),
    contextWindow: 1_048_576,
    capabilities: ['chat', 'vision', 'tools', 'reasoning'],
  },
  'gemini-2.5-flash-lite': {
    input: usd(0.1),
    output: usd(0.4),
    cachedInput: usd(0.025),
    contextWindow: 1_048_576,
    capabilities: ['chat', 'vision', 'tools', 'reasoning'],
  },
  'gemini-embedding-001': { input: usd(0.15), output: 0, contextWindow: 2_048, capabilities: ['embeddings'] },
  'deepseek-chat': {
    input: usd(0.27),
    output: usd(1.1),
    cachedInput: usd(0.07),
    contextWindow: 128_000,
    capabilities: ['chat', 'tools'],
  },
  'deepseek-reasoner': {
    input: usd(0.55),
    output: usd(2.19),
    cachedInput: usd(0.14),
    contextWindow: 128_000,
    capabilities: ['chat', 'reasoning'],
  },
  'mock-gpt': {
    input: usd(1),
    output: usd(2),
    cachedInput: usd(0.5),
    contextWindow: 128_000,
    capabilities: ['chat', 'tools', 'vision'],
  },
  'mock-reasoner': { input: usd(1), output: usd(4), contextWindow: 128_000, capabilities: ['chat', 'reasoning'] },
  'mock-embedding': { input: usd(0.02), output: 0, contextWindow: 8_191, capabilities: ['embeddings'] },
  // Priced per unit (micro-USD per image / second / character / search unit); token prices unused.
  'dall-e-3': {
    input: 0,
    output: 0,
    capabilities: ['images'],
    units: {
      image: usd(0.04),
      images: {
        '1024x1024/standard': usd(0.04),
        '1024x1024/hd': usd(0.08),
        '1792x1024/standard': usd(0.08),
        '1024x1792/standard': usd(0.08),
        '1792x1024/hd': usd(0.12),
        '1024x1792/hd': usd(0.12),
      },
    },
  },
  'dall-e-2': {
    input: 0,
    output: 0,
    capabilities: ['images'],
    units: { image: usd(0.02), images: { '512x512': usd(0.018), '256x256': usd(0.016) } },
  },
  'imagen-4.0-generate-001': { input: 0, output: 0, capabilities: ['images'], units: { image: usd(0.04) } },
  'imagen-4.0-fast-generate-001': { input: 0, output: 0, capabilities: ['images'], units: { image: usd(0.02) } },
  // $0.006 a minute.
  'whisper-1': { input: 0, output: 0, capabilities: ['audio'], units: { second: 100 } },
  // $15 / $30 per 1M characters.
  'tts-1': { input: 0, output: 0, capabilities: ['audio'], units: { character: 15 } },
  'tts-1-hd': { input: 0, output: 0, capabilities: ['audio'], units: { character: 30 } },
  // $2 per 1,000 searches.
  'rerank-v3.5': { input: 0, output: 0, capabilities: ['rerank'], units: { searchUnit: 2000 } },
};
