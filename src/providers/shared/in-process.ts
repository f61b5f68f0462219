/**
 * Providers served inside the gateway process, without HTTP (the `mock` provider). Such an adapter
 * still implements {@link ProviderAdapter} for the registry, but its `build*Request` methods throw; the
 * gateway checks {@link isInProcessAdapter} and calls `inProcess` instead.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  ProviderAdapter,
} from '../types.js';

export interface InProcessProvider {
  /** A complete answer for a non-stream request. */
  chat(request: ChatRequest, ids: { id: string; created: number }): ChatCompletion;
  /** The same answer as canonical stream chunks, ending with a usage chunk (`choices: []`). */
  chatChunks(request: ChatRequest, ids: { id: string; created: number }): ChatCompletionChunk[];
  embeddings(request: EmbeddingsRequest): EmbeddingsResponse;
}

export type InProcessAdapter = ProviderAdapter & { readonly inProcess: InProcessProvider };

/** True when the adapter answers in-process and must not be called over HTTP. */
export function isInProcessAdapter(adapter: ProviderAdapter): adapter is InProcessAdapter {
  const candidate = (adapter as { inProcess?: unknown }).inProcess;
  return typeof candidate === 'object' && candidate !== null;
}
