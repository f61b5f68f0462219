/** The routing strategies the gateway knows (src/gateway/router.ts STRATEGIES). */
export const STRATEGIES = ['weighted', 'round_robin', 'lowest_latency', 'least_inflight'] as const;
export const CAPABILITIES = ['chat', 'vision', 'tools', 'reasoning', 'embeddings'];

/**
 * One entry of GET /api/admin/models/default-prices. The route declares no response schema, so the
 * generated types have none; this mirrors the handler in src/modules/models/routes.ts.
 */
export interface DefaultPrice {
  name: string;
  inputPrice: number;
  outputPrice: number;
  cachedInputPrice: number | null;
  contextWindow: number | null;
  capabilities: string[];
}
