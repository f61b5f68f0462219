import type { RequestLogsTable } from '../../src/infra/db/schema.js';

/**
 * A request-log row as the usage writer stores it: a 200 chat request of `mock-gpt` with no owner, no channel
 * and no bodies, changed by `fields` (at least its id and time).
 */
export function logRow(fields: Partial<RequestLogsTable> & Pick<RequestLogsTable, 'id' | 'at'>): RequestLogsTable {
  return {
    user_id: null,
    key_id: null,
    org_id: null,
    team_id: null,
    channel_id: null,
    model: 'mock-gpt',
    upstream_model: null,
    endpoint: 'chat',
    stream: 0,
    status: 200,
    error_code: null,
    prompt_tokens: 1,
    completion_tokens: 1,
    cached_tokens: 0,
    reasoning_tokens: 0,
    estimated: 0,
    cost_micros: 0,
    price_micros: 0,
    latency_ms: 5,
    ttft_ms: null,
    client_ip: null,
    attempts: null,
    request_body: null,
    response_body: null,
    cache: null,
    ...fields,
  };
}
