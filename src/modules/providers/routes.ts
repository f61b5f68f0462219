import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { bearerSecurity, errorResponses } from '../../http/schemas.js';
import { PROVIDERS } from '../../providers/registry.js';
import type { ProviderDeclaration } from '../../providers/types.js';
import type { ProviderDescription } from './schema.js';

/** The public part of a provider's declaration (no transforms). */
export function describeProvider(p: ProviderDeclaration): ProviderDescription {
  const baseUrl: ProviderDescription['baseUrl'] = { mode: p.baseUrl.mode, default: p.baseUrl.default };
  if (p.baseUrl.example !== undefined) baseUrl.example = p.baseUrl.example;
  return {
    id: p.id,
    label: p.label,
    key: p.key,
    baseUrl,
    options: p.options.map(({ choices, ...field }) => (choices ? { ...field, choices: [...choices] } : field)),
    endpoints: [...p.endpoints],
    passThrough: [...p.passThrough],
  };
}

/** The providers in registry order, described once (declarations are constants). */
const DESCRIPTIONS: ProviderDescription[] = Object.values(PROVIDERS).map(describeProvider);

/** GET /api/admin/providers: what each channel type needs and can do (the console's channel form). */
export function providerRoutes(): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/admin/providers',
      {
        config: { permission: 'channels.read' },
        schema: {
          tags: ['admin: channels'],
          summary: 'Channel types: keys, base URL, options, endpoints and pass-through of each provider',
          security: bearerSecurity,
          response: { 200: Type.Object({ data: Type.Array(Type.Ref('ProviderDescription')) }), ...errorResponses },
        },
      },
      async () => ({ data: DESCRIPTIONS }),
    );
  };
}
