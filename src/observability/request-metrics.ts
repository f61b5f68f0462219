/**
 * The Prometheus side of the data plane's observer: per-request families with bounded labels only
 * (endpoint, model, channel, provider, status class, error type from a closed vocabulary; organization
 * only when the `metricsByOrganization` setting is on). Never key ids, users or paths.
 *
 * Each (endpoint, model, channel) gets its cells once and keeps them (WeakMap by the catalog's channel
 * object, so a reloaded catalog starts afresh without leaking): a request adds to numbers, nothing more.
 */
import type { Registry } from 'prom-client';
import { ERROR_STATUS } from '../core/errors.js';
import type { AttemptOutcome, CatalogChannel, GatewayObserver, Refusal, SettledRequest } from '../gateway/index.js';
import type { RequestLedger } from '../gateway/pipeline/ledger.js';
import { type CounterCell, CounterFamily, type HistogramCell, HistogramFamily } from './families.js';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const NO_CHANNEL = '';

/** Seconds. Request and upstream durations span a fast embedding to a long reasoning stream. */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 60];
const ITL_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2];

function statusClass(status: number): number {
  const index = Math.floor(status / 100) - 1;
  return index < 0 ? 0 : index > 4 ? 4 : index;
}

/** Error codes are AI Hub's own (a closed list); anything else is `other`. */
export function errorType(code: string): string {
  return Object.hasOwn(ERROR_STATUS, code) ? code : 'other';
}

/** The model label: a catalog model's name, `unknown` for a name the catalog does not have (unbounded). */
function modelLabel(ledger: RequestLedger): string {
  const model = ledger.ctx.model;
  return model.id === '' ? 'unknown' : model.name;
}

interface RequestCells {
  requests: Array<CounterCell | undefined>;
  errors: Map<string, CounterCell>;
  duration: HistogramCell;
  ttft: HistogramCell;
  itl: HistogramCell;
  prompt: CounterCell;
  completion: CounterCell;
  cached: CounterCell;
  reasoning: CounterCell;
  cost: CounterCell;
  labels: [endpoint: string, model: string, channel: string, provider: string];
}

interface UpstreamCells {
  requests: Array<CounterCell | undefined>;
  duration: HistogramCell;
  labels: [channel: string, provider: string, model: string];
}

interface ModelCells {
  retries: CounterCell;
  failovers: CounterCell;
  /** By channel (the request's cells of each channel it was served by). */
  byChannel: WeakMap<CatalogChannel, RequestCells>;
  /** Refused or failed before any channel. */
  none: RequestCells | undefined;
  upstream: WeakMap<CatalogChannel, UpstreamCells>;
}

interface OrganizationCells {
  requests: Array<CounterCell | undefined>;
  prompt: CounterCell;
  completion: CounterCell;
  cost: CounterCell;
}

export interface RequestMetricsOptions {
  /** Also count requests, tokens and cost per organization (the `metricsByOrganization` setting). */
  byOrganization: () => boolean;
}

/** Counts what the data plane does; registered in `registry`. */
export class RequestMetrics implements GatewayObserver {
  readonly #requests: CounterFamily;
  readonly #errors: CounterFamily;
  readonly #duration: HistogramFamily;
  readonly #overhead: HistogramFamily;
  readonly #ttft: HistogramFamily;
  readonly #itl: HistogramFamily;
  readonly #tokens: CounterFamily;
  readonly #cost: CounterFamily;
  readonly #upstreamRequests: CounterFamily;
  readonly #upstreamDuration: HistogramFamily;
  readonly #retries: CounterFamily;
  readonly #failovers: CounterFamily;
  readonly #keyRests: CounterFamily;
  readonly #refusals: Record<Refusal, CounterCell>;
  readonly #orgRequests: CounterFamily;
  readonly #orgTokens: CounterFamily;
  readonly #orgCost: CounterFamily;
  /** Requests in flight, by endpoint. */
  readonly inFlight = new Map<string, number>();
  readonly #models = new Map<string, Map<string, ModelCells>>();
  readonly #overheadBy = new Map<string, HistogramCell>();
  readonly #keyRestsBy = new WeakMap<CatalogChannel, CounterCell>();
  readonly #orgs = new Map<string, OrganizationCells>();
  /** The request whose cells were looked up last (a WeakRef would cost more than the one reference kept). */
  #last: RequestLedger | undefined;
  #lastCells: RequestCells | undefined;

  constructor(
    registry: Registry,
    private readonly options: RequestMetricsOptions,
  ) {
    const r = registry;
    const req = ['endpoint', 'model', 'channel', 'provider'];
    this.#requests = new CounterFamily(
      'aihub_requests_total',
      'Requests to /v1, by outcome',
      [...req, 'status_class'],
      r,
    );
    this.#errors = new CounterFamily(
      'aihub_errors_total',
      'Failed /v1 requests by error type',
      [...req, 'error_type'],
      r,
    );
    this.#duration = new HistogramFamily(
      'aihub_request_duration_seconds',
      'Whole /v1 request time',
      req,
      r,
      DURATION_BUCKETS,
    );
    this.#overhead = new HistogramFamily(
      'aihub_gateway_overhead_seconds',
      "The gateway's own time in a request: its duration less the time spent waiting on upstreams (and backoff)",
      ['endpoint'],
      r,
      OVERHEAD_BUCKETS,
    );
    const stream = ['model', 'channel', 'provider'];
    this.#ttft = new HistogramFamily(
      'aihub_time_to_first_token_seconds',
      'Streams: time to the first output',
      stream,
      r,
      TTFT_BUCKETS,
    );
    this.#itl = new HistogramFamily(
      'aihub_inter_token_latency_seconds',
      'Streams: mean time between output writes after the first, per request',
      stream,
      r,
      ITL_BUCKETS,
    );
    this.#tokens = new CounterFamily('aihub_tokens_total', 'Tokens billed, by type', [...stream, 'type'], r);
    this.#cost = new CounterFamily('aihub_cost_usd_total', 'Cost billed, USD', stream, r);
    const up = ['channel', 'provider', 'model'];
    this.#upstreamRequests = new CounterFamily(
      'aihub_upstream_requests_total',
      'Upstream attempts, by the status the gateway made of them',
      [...up, 'status_class'],
      r,
    );
    this.#upstreamDuration = new HistogramFamily(
      'aihub_upstream_duration_seconds',
      'Upstream attempt time',
      up,
      r,
      DURATION_BUCKETS,
    );
    this.#retries = new CounterFamily('aihub_retries_total', 'Attempts after a failed attempt', ['model'], r);
    this.#failovers = new CounterFamily(
      'aihub_failovers_total',
      'Retries on another channel than the failed one',
      ['model'],
      r,
    );
    this.#keyRests = new CounterFamily(
      'aihub_provider_key_rests_total',
      'Provider keys rested after an upstream 429 (key-pool cool-downs)',
      ['channel', 'provider'],
      r,
    );
    const refusals = new CounterFamily(
      'aihub_limit_refusals_total',
      'Requests refused by a rate limit or a budget',
      ['kind'],
      r,
    );
    this.#refusals = { rate_limit: refusals.cell('rate_limit'), budget: refusals.cell('budget') };
    this.#orgRequests = new CounterFamily(
      'aihub_organization_requests_total',
      'Requests per organization (setting metricsByOrganization)',
      ['organization', 'status_class'],
      r,
    );
    this.#orgTokens = new CounterFamily(
      'aihub_organization_tokens_total',
      'Tokens per organization',
      ['organization', 'type'],
      r,
    );
    this.#orgCost = new CounterFamily(
      'aihub_organization_cost_usd_total',
      'Cost per organization, USD',
      ['organization'],
      r,
    );
  }

  opened(ledger: RequestLedger): void {
    const endpoint = ledger.ctx.endpoint;
    this.inFlight.set(endpoint, (this.inFlight.get(endpoint) ?? 0) + 1);
  }

  attemptStarted(): undefined {
    return undefined;
  }

  attemptEnded(ledger: RequestLedger, channel: CatalogChannel, outcome: AttemptOutcome): void {
    const model = this.modelCells(ledger);
    let cells = model.upstream.get(channel);
    if (!cells) {
      const labels: UpstreamCells['labels'] = [channel.name, channel.type, modelLabel(ledger)];
      cells = { requests: [], duration: this.#upstreamDuration.cell(...labels), labels };
      model.upstream.set(channel, cells);
    }
    const k = statusClass(outcome.status);
    let counter = cells.requests[k];
    if (!counter) {
      counter = this.#upstreamRequests.cell(...cells.labels, STATUS_CLASSES[k] as string);
      cells.requests[k] = counter;
    }
    counter.value++;
    cells.duration.observe(outcome.ms / 1000);
  }

  retried(ledger: RequestLedger, from: CatalogChannel, to: CatalogChannel): void {
    const model = this.modelCells(ledger);
    model.retries.value++;
    if (from !== to && from.id !== to.id) model.failovers.value++;
  }

  keyRested(channel: CatalogChannel): void {
    let cell = this.#keyRestsBy.get(channel);
    if (!cell) {
      cell = this.#keyRests.cell(channel.name, channel.type);
      this.#keyRestsBy.set(channel, cell);
    }
    cell.value++;
  }

  refused(_ledger: RequestLedger, refusal: Refusal): void {
    this.#refusals[refusal].value++;
  }

  settling(ledger: RequestLedger, status: number, errorCode: string | null): void {
    const { endpoint } = ledger.ctx;
    this.inFlight.set(endpoint, (this.inFlight.get(endpoint) ?? 1) - 1);
    const cells = this.requestCells(ledger);
    const k = statusClass(status);
    let counter = cells.requests[k];
    if (!counter) {
      counter = this.#requests.cell(...cells.labels, STATUS_CLASSES[k] as string);
      cells.requests[k] = counter;
    }
    counter.value++;
    if (errorCode !== null) {
      let errors = cells.errors.get(errorCode);
      if (!errors) {
        errors = this.#errors.cell(...cells.labels, errorType(errorCode));
        cells.errors.set(errorCode, errors);
      }
      errors.value++;
    }
    cells.duration.observe(ledger.elapsedMs() / 1000);
    let overhead = this.#overheadBy.get(endpoint);
    if (!overhead) {
      overhead = this.#overhead.cell(endpoint);
      this.#overheadBy.set(endpoint, overhead);
    }
    overhead.observe(ledger.overheadMs / 1000);
    if (ledger.ctx.stream && ledger.ttftMs !== null) {
      cells.ttft.observe(ledger.ttftMs / 1000);
      const itl = ledger.interTokenMs;
      if (itl !== null) cells.itl.observe(itl / 1000);
    }
  }

  settled(ledger: RequestLedger, request: SettledRequest): void {
    const cells = this.requestCells(ledger);
    const { tokens } = request;
    if (tokens.prompt > 0) cells.prompt.value += tokens.prompt;
    if (tokens.completion > 0) cells.completion.value += tokens.completion;
    if (tokens.cached > 0) cells.cached.value += tokens.cached;
    if (tokens.reasoning > 0) cells.reasoning.value += tokens.reasoning;
    if (request.costMicros > 0) cells.cost.value += request.costMicros / 1_000_000;
    const orgId = ledger.ctx.caller.orgId;
    if (orgId && this.options.byOrganization()) this.countOrganization(orgId, request);
  }

  private countOrganization(orgId: string, request: SettledRequest): void {
    let org = this.#orgs.get(orgId);
    if (!org) {
      org = {
        requests: [],
        prompt: this.#orgTokens.cell(orgId, 'prompt'),
        completion: this.#orgTokens.cell(orgId, 'completion'),
        cost: this.#orgCost.cell(orgId),
      };
      this.#orgs.set(orgId, org);
    }
    const k = statusClass(request.status);
    let counter = org.requests[k];
    if (!counter) {
      counter = this.#orgRequests.cell(orgId, STATUS_CLASSES[k] as string);
      org.requests[k] = counter;
    }
    counter.value++;
    org.prompt.value += request.tokens.prompt;
    org.completion.value += request.tokens.completion;
    org.cost.value += request.costMicros / 1_000_000;
  }

  private modelCells(ledger: RequestLedger): ModelCells {
    const endpoint = ledger.ctx.endpoint;
    let byModel = this.#models.get(endpoint);
    if (!byModel) {
      byModel = new Map();
      this.#models.set(endpoint, byModel);
    }
    const model = modelLabel(ledger);
    let cells = byModel.get(model);
    if (!cells) {
      cells = {
        retries: this.#retries.cell(model),
        failovers: this.#failovers.cell(model),
        byChannel: new WeakMap(),
        none: undefined,
        upstream: new WeakMap(),
      };
      byModel.set(model, cells);
    }
    return cells;
  }

  private requestCells(ledger: RequestLedger): RequestCells {
    // `settled` follows `settling` of the same request (at once, unless tokens are still being counted).
    if (this.#last === ledger && this.#lastCells) return this.#lastCells;
    const model = this.modelCells(ledger);
    const channel = ledger.channel;
    let cells = channel ? model.byChannel.get(channel) : model.none;
    if (cells) {
      this.#last = ledger;
      this.#lastCells = cells;
      return cells;
    }
    const labels: RequestCells['labels'] = [
      ledger.ctx.endpoint,
      modelLabel(ledger),
      channel?.name ?? NO_CHANNEL,
      channel?.type ?? NO_CHANNEL,
    ];
    const stream = [labels[1], labels[2], labels[3]] as const;
    cells = {
      requests: [],
      errors: new Map(),
      duration: this.#duration.cell(...labels),
      ttft: this.#ttft.cell(...stream),
      itl: this.#itl.cell(...stream),
      prompt: this.#tokens.cell(...stream, 'prompt'),
      completion: this.#tokens.cell(...stream, 'completion'),
      cached: this.#tokens.cell(...stream, 'cached'),
      reasoning: this.#tokens.cell(...stream, 'reasoning'),
      cost: this.#cost.cell(...stream),
      labels,
    };
    if (channel) model.byChannel.set(channel, cells);
    else model.none = cells;
    this.#last = ledger;
    this.#lastCells = cells;
    return cells;
  }
}
