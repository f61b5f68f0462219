/**
 * Addressing for OpenAI-compatible servers (DeepSeek, Moonshot, DashScope, Ollama, vLLM, OpenRouter…).
 * There is no default base URL: the channel names the server, e.g. `https://api.deepseek.com`,
 * `http://localhost:11434/v1` (Ollama), `https://openrouter.ai/api/v1`. Reference: PROTOCOLS.md §5.
 */
export { bearerAuth } from '../openai/api.js';

export const COMPATIBLE_DEFAULT_BASE_URL = '';

/** Human name used in error messages; the channel's own name is not known to the adapter. */
export const COMPATIBLE_PROVIDER_NAME = 'OpenAI-compatible upstream';
