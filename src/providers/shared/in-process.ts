/**
 * Providers served inside the gateway process, without HTTP (the `mock` provider). Such an adapter
 * still implements {@link ProviderAdapter} for the registry, but its `build*Request` methods throw; the
 * gateway sees its `inProcess` transport and calls that instead.
 */
import type { InProcessTransport, ProviderAdapter } from '../types.js';

/** @deprecated name kept for the adapters' tests: the transport is {@link InProcessTransport}. */
export type InProcessProvider = InProcessTransport;

export type InProcessAdapter = ProviderAdapter & { readonly inProcess: InProcessTransport };

/** True when the adapter answers in-process and must not be called over HTTP. */
export function isInProcessAdapter(adapter: ProviderAdapter): adapter is InProcessAdapter {
  return adapter.inProcess !== undefined;
}
