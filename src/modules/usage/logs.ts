import { ApiError } from '../../core/errors.js';
import { CSV_COLUMNS, type ListedRow, type LogFilter, type UsageRepository } from './repository.js';

export { CSV_COLUMNS } from './repository.js';

export interface LogQuery extends LogFilter {
  limit: number;
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
  priceMicros: number;
  latencyMs: number;
  ttftMs: number | null;
  clientIp: string | null;
  cache: 'hit' | 'miss' | null;
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
    priceMicros: row.price_micros,
    latencyMs: row.latency_ms,
    ttftMs: row.ttft_ms,
    clientIp: row.client_ip,
    cache: row.cache === 'hit' || row.cache === 'miss' ? row.cache : null,
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
    private readonly repo: UsageRepository,
    /** Write pending records first, so a request just answered is listed. */
    private readonly flush: () => Promise<void> = async () => undefined,
  ) {}

  async list(query: LogQuery): Promise<LogEntry[]> {
    if (!query.before) await this.flush();
    const rows = await this.repo.listPage(query, query.limit);
    return rows.map(toLogEntry);
  }

  /**
   * One request of an organization with its bodies. Outside `access.within` it is as missing as an unknown id;
   * its bodies are shown only to `access.bodiesOf` (logs.bodies: every row; otherwise the caller's own requests).
   */
  async get(
    id: string,
    access: {
      orgId: string;
      instanceWide?: boolean | undefined;
      within?: LogFilter['within'];
      bodies: { all: boolean; userId: string | null };
    },
  ): Promise<LogDetail> {
    await this.flush();
    const row = await this.repo.findById(id, access.orgId, access.instanceWide === true);
    const within = access.within;
    const visible =
      row !== undefined &&
      (within === undefined ||
        (within.userId !== null && row.user_id === within.userId) ||
        (row.team_id !== null && within.teamIds.includes(row.team_id)));
    if (!row || !visible)
      throw new ApiError(
        'not_found',
        within === undefined ? 'No such request in the log' : 'No such request in your log',
      );
    const has_bodies = row.request_body !== null || row.response_body !== null;
    const showBodies = access.bodies.all || (access.bodies.userId !== null && row.user_id === access.bodies.userId);
    return {
      ...toLogEntry({ ...row, has_bodies }),
      requestBody: showBodies ? row.request_body : null,
      responseBody: showBodies ? row.response_body : null,
    };
  }

  /** CSV text in pages of `pageSize` rows (header first), newest first, never holding the whole range. */
  async *csv(query: Omit<LogQuery, 'limit'>, pageSize = 2000): AsyncGenerator<string> {
    yield `${CSV_COLUMNS.join(',')}\n`;
    let before = query.before;
    for (;;) {
      const rows = await this.repo.csvPage({ ...query, before }, pageSize);
      if (rows.length === 0) return;
      yield `${rows.map((row) => CSV_COLUMNS.map((c) => csvCell(row[c])).join(',')).join('\n')}\n`;
      if (rows.length < pageSize) return;
      before = rows[rows.length - 1]?.id;
    }
  }
}
