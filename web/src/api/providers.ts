import { api, call, type Schemas } from './client';

// GET /api/admin/providers: the provider declarations the channel form is generated from (the server's
// src/providers/<id>/ folders are their one source).

/** What a provider needs from a channel, as the server declares it. */
export type ProviderDescription = Schemas['ProviderDescription'];

/** A provider option the channel form shows as a field (stored in `options.provider[key]`). */
export type ProviderOptionField = ProviderDescription['options'][number];

/** The declarations of every provider the server knows, in its registry's order (admins only). */
export async function fetchProviders(): Promise<ProviderDescription[]> {
  return (await call(api.GET('/api/admin/providers'))).data;
}
