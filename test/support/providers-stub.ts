import { existsSync } from 'node:fs';
import type { BrowserContext } from 'playwright-core';

/**
 * GET /api/admin/providers (the provider declarations the channel form is generated from) arrives with the
 * data-plane part of issue #16, in src/modules/providers/routes.ts. While that file does not exist, browser
 * pages are served these declarations (today's providers, in the endpoint's shape); once it exists the real
 * endpoint is used, and console.test.ts fails if it does not answer. Remove this file after the merge.
 */
export const PROVIDERS_ROUTE_MISSING = !existsSync(new URL('../../src/modules/providers/routes.ts', import.meta.url));

const DECLARATIONS = [
  {
    id: 'openai',
    label: 'OpenAI',
    key: 'required',
    baseUrl: { mode: 'default', default: 'https://api.openai.com/v1' },
    options: [],
    endpoints: ['chat', 'embeddings'],
    passThrough: ['chat', 'embeddings'],
  },
  {
    id: 'azure-openai',
    label: 'Azure OpenAI',
    key: 'required',
    baseUrl: { mode: 'required', default: null, example: 'https://NAME.openai.azure.com' },
    options: [
      { key: 'apiVersion', kind: 'text', placeholder: '2024-10-21' },
      { key: 'deployment', kind: 'text' },
      { key: 'apiMode', kind: 'select', choices: ['v1'] },
      { key: 'auth', kind: 'select', choices: ['api-key', 'bearer'] },
    ],
    endpoints: ['chat', 'embeddings'],
    passThrough: [],
  },
  {
    id: 'anthropic',
    label: 'Anthropic',
    key: 'required',
    baseUrl: { mode: 'default', default: 'https://api.anthropic.com' },
    options: [],
    endpoints: ['chat', 'messages'],
    passThrough: ['messages'],
  },
  {
    id: 'gemini',
    label: 'Google Gemini',
    key: 'required',
    baseUrl: { mode: 'default', default: 'https://generativelanguage.googleapis.com/v1beta' },
    options: [],
    endpoints: ['chat', 'embeddings'],
    passThrough: [],
  },
  {
    id: 'openai-compatible',
    label: 'OpenAI-compatible',
    key: 'optional',
    baseUrl: { mode: 'required', default: null, example: 'https://api.deepseek.com/v1' },
    options: [
      { key: 'maxTokensField', kind: 'select', choices: ['both', 'max_tokens', 'max_completion_tokens'] },
      { key: 'reasoningHistory', kind: 'select', choices: ['keep', 'drop'] },
    ],
    endpoints: ['chat', 'embeddings'],
    passThrough: [],
  },
  {
    id: 'mock',
    label: 'Mock',
    key: 'none',
    baseUrl: { mode: 'none', default: null },
    options: [{ key: 'chunkDelayMs', kind: 'number', placeholder: '0' }],
    endpoints: ['chat', 'messages', 'embeddings'],
    passThrough: [],
  },
];

/** Serve the declarations to a browser context while the server has no such route (see above). */
export async function stubProvidersRoute(context: BrowserContext): Promise<void> {
  if (!PROVIDERS_ROUTE_MISSING) return;
  await context.route('**/api/admin/providers', (route) => route.fulfill({ json: { data: DECLARATIONS } }));
}
