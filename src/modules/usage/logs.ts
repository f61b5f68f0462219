import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database, RequestLogsTable } from '../../infra/db/schema.js';

export interface LogQuery {
  from?: number | undefined;
  to?: number | undefined;
  userId?: string | undefined;
  keyId?: string | undefined;
  model?: string | undefined;
  channelId?: string | undefined;
  /** 'success' (2xx), 'error' (everything else) or an exact HTTP status. */
  status?: string | undefined;
  limit: number;
  /** Cursor: rows older than this id. */
  before?: string | undefined;
}

export interface LogEntry {
  id: string;
  at: number;
  userId: string | null;
  keyId: string | null;
  orgId: string | null;
  teamId: string | null;
  channelId: string | null;
  model: string;
  upstreamModel: string | null;
  endpoint: string;
  stream: boolean;
  status: number;
  errorCode: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  estimated: boolean;
  costMicros: number;
  latencyMs: number;
  ttftMs: number | null;
  clientIp: string | null;
  /** Failed upstream attempts: `status` is the gateway's mapping, `upstreamStatus` the upstream's own HTTP status. */
  attempts: Array<{ channelId: string; status: number; upstreamStatus: number | null; error: string; ms: number }>;
  /** Whether the log kept this request's bodies (see `LogsService.get`). */
  hasBodies: boolean;
}

/** One request with its bodies, when the `logBodies` setting kept them. */
export interface LogDetail extends LogEntry {
  requestBody: string | null;
  responseBody: string | null;
}

/** A listed row: every column but the bodies, and whether there are any. */
type ListedRow = Omit<RequestLogsTable, 'request_body' | 'response_body'> & { has_bodies: unknown };

export function toLogEntry(row: ListedRow): LogEntry {
  return {
    id: row.id,
    at: row.at,
    userId: row.user_id,
    keyId: row.key_id,
    orgId: row.org_id,
    teamId: row.team_id,
    channelId: row.channel_id,
    model: row.model,
    upstreamModel: row.upstream_model,
    endpoint: row.endpoint,
    stream: row.stream === 1,
    status: row.status,
    errorCode: row.error_code,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    cachedTokens: row.cached_tokens,
    reasoningTokens: row.reasoning_tokens,
    estimated: row.estimated === 1,
    costMicros: row.cost_micros,
    latencyMs: row.latency_ms,
    ttftMs: row.ttft_ms,
    clientIp: row.client_ip,
    // Rows written before upstreamStatus was recorded have none: null (unknown).
    attempts: row.attempts
      ? (JSON.parse(row.attempts) as LogEntry['attempts']).map((a) => ({
          ...a,
          upstreamStatus: a.upstreamStatus ?? null,
        }))
      : [],
    // SQLite answers 0/1, PostgreSQL true/false.
    hasBodies: row.has_bodies === true || Number(row.has_bodies) === 1,
  };
}

export const CSV_COLUMNS = [
  'id',
  'at',
  'user_id',
  'key_id',
  'org_id',
  'team_id',
  'channel_id',
  'model',
  'upstream_model',
  'endpoint',
  'stream',
  'status',
  'error_code',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'estimated',
  'cost_micros',
  'latency_ms',
  'ttft_ms',
  'client_ip',
] as const satisfies ReadonlyArray<keyof RequestLogsTable>;

/** The columns a list reads (the bodies stay in the table until one request is asked for). */
const LIST_COLUMNS = [...CSV_COLUMNS, 'attempts'] as const;

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  // Quote when needed; neutralise spreadsheet formulas (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** Reads request logs: filtered pages for the API, and a streamed CSV export for large ranges. */
export class LogsService {
  constructor(
    private readonly db: Kysely<Database>,
    /** Write pending records first, so a request just answered is listed. */
    private readonly flush: () => Promise<void> = async () => undefined,
  ) {}

  async list(query: LogQuery): Promise<LogEntry[]> {
    if (!query.before) await this.flush();
    const rows = await this.filtered(query)
      .select(LIST_COLUMNS)
      .select((eb) => eb.or([eb('request_body', 'is not', null), eb('response_body', 'is not', null)]).as('has_bodies'))
      .orderBy('id', 'desc')
      .limit(query.limit)
      .execute();
    return rows.map(toLogEntry);
  }

  /** One request with its bodies; only `userId`'s when given (another's is as missing as an unknown id). */
  async get(id: string, userId?: string): Promise<LogDetail | undefined> {
    await this.flush();
    let q = this.db.selectFrom('request_logs').selectAll().where('id', '=', id);
    if (userId !== undefined) q = q.where('user_id', '=', userId);
    const row = await q.executeTakeFirst();
    if (!row) return undefined;
    const has_bodies = row.request_body !== null || row.response_body !== null;
    return { ...toLogEntry({ ...row, has_bodies }), requestBody: row.request_body, responseBody: row.response_body };
  }

  /** CSV text in pages of `pageSize` rows (header first), newest first, never holding the whole range. */
  async *csv(query: Omit<LogQuery, 'limit'>, pageSize = 2000): AsyncGenerator<string> {
    yield `${CSV_COLUMNS.join(',')}\n`;
    let before = query.before;
    for (;;) {
      const rows = await this.filtered({ ...query, before, limit: pageSize })
        .select(CSV_COLUMNS)
        .orderBy('id', 'desc')
        .limit(pageSize)
        .execute();
      if (rows.length === 0) return;
      yield rows.map((row) => CSV_COLUMNS.map((c) => csvCell(row[c])).join(',')).join('\n') + '\n';
      if (rows.length < pageSize) return;
      before = rows[rows.length - 1]?.id;
    }
  }

  private filtered(query: LogQuery): SelectQueryBuilder<Database, 'request_logs', object> {
    let q = this.db.selectFrom('request_logs');
    if (query.from !== undefined) q = q.where('at', '>=', query.from);
    if (query.to !== undefined) q = q.where('at', '<', query.to);
    if (query.userId) q = q.where('user_id', '=', query.userId);
    if (query.keyId) q = q.where('key_id', '=', query.keyId);
    if (query.model) q = q.where('model', '=', query.model);
    if (query.channelId) q = q.where('channel_id', '=', query.channelId);
    if (query.status === 'success') q = q.where('status', '>=', 200).where('status', '<', 300);
    else if (query.status === 'error') q = q.where((eb) => eb.or([eb('status', '<', 200), eb('status', '>=', 300)]));
    else if (query.status && /^\d{3}$/.test(query.status)) q = q.where('status', '=', Number(query.status));
    if (query.before) q = q.where('id', '<', query.before);
    return q;
  }
}
