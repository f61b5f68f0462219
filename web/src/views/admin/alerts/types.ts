import type { paths } from '@/api/schema';

type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: { 200: { content: { 'application/json': infer T } } };
}
  ? T
  : never;

export type AlertRule = Json<'/api/admin/alerts/rules', 'get'>['data'][number];
export type AlertDestination = Json<'/api/admin/alerts/destinations', 'get'>['data'][number];
export type AlertEvent = Json<'/api/admin/alerts/events', 'get'>['data'][number];
export type RuleKind = AlertRule['kind'];
export type DestinationKind = AlertDestination['kind'];

export const RULE_KINDS: RuleKind[] = [
  'channel_down',
  'error_rate',
  'latency_p95',
  'budget',
  'balance',
  'spend_spike',
  'usage_backlog',
];
/** Kinds with a time window, kinds that may name a channel, kinds that may name an organization. */
export const WINDOWED: RuleKind[] = ['error_rate', 'latency_p95', 'spend_spike'];
export const CHANNEL_KINDS: RuleKind[] = ['channel_down', 'error_rate', 'latency_p95'];
export const ORG_KINDS: RuleKind[] = ['budget', 'balance', 'spend_spike'];
