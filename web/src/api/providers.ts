import createClient from 'openapi-fetch';
import { authFetch, call } from './client';

// GET /api/admin/providers: the provider declarations the channel form is generated from. The route lands with
// the data-plane part of issue #16; until web/src/api/schema.d.ts is regenerated with it, its types are declared
// here and fetched by a client typed with this one path (then: `api.GET('/api/admin/providers')`).

/** A provider option the channel form shows as a field (stored in `options.provider[key]`). */
export interface ProviderOptionField {
  key: string;
  kind: 'text' | 'select' | 'number';
  /** Values of a select (empty = the provider's default, not sent). */
  choices?: string[];
  placeholder?: string;
  default?: string;
  required?: boolean;
}

/** What a provider needs from a channel, as the server declares it. */
export interface ProviderDescription {
  /** The channel type, e.g. 'openai'. */
  id: string;
  label: string;
  key: 'required' | 'optional' | 'none';
  /** default: empty means `default`; required: the channel must name one (`example` shows the form); none: no URL. */
  baseUrl: { mode: 'default' | 'required' | 'none'; default: string | null; example?: string };
  options: ProviderOptionField[];
  endpoints: Array<'chat' | 'messages' | 'embeddings'>;
  passThrough: string[];
}

interface ProvidersPaths {
  '/api/admin/providers': {
    parameters: { query?: never; header?: never; path?: never; cookie?: never };
    get: {
      parameters: { query?: never; header?: never; path?: never; cookie?: never };
      requestBody?: never;
      responses: {
        200: { headers: { [name: string]: unknown }; content: { 'application/json': { data: ProviderDescription[] } } };
      };
    };
  };
}

const providersApi = createClient<ProvidersPaths>({ baseUrl: '', fetch: authFetch, credentials: 'same-origin' });

/** The declarations of every provider the server knows, in its registry's order (admins only). */
export async function fetchProviders(): Promise<ProviderDescription[]> {
  return (await call(providersApi.GET('/api/admin/providers'))).data;
}
