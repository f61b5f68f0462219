/**
 * OpenTelemetry traces of the data plane, exported over OTLP/HTTP: a span per request (parented by the
 * client's W3C `traceparent`, if it sent one), a child span per upstream attempt (whose context is sent
 * upstream as `traceparent`), and a settle span. Attributes follow the GenAI semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/).
 *
 * Loaded only when OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) is set: with tracing off no provider
 * exists and nothing here is imported. Contexts are passed explicitly; no global provider or context
 * manager is registered.
 */
import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { AttemptOutcome, CatalogChannel, GatewayObserver, Refusal, SettledRequest } from '../gateway/index.js';
import type { RequestLedger } from '../gateway/pipeline/ledger.js';

/** GenAI semantic-convention attribute names (incubating in @opentelemetry/semantic-conventions). */
const GEN_AI = {
  operation: 'gen_ai.operation.name',
  system: 'gen_ai.system',
  provider: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
} as const;

/** The GenAI operation of each /v1 endpoint. */
const OPERATION: Record<string, string> = { chat: 'chat', messages: 'chat', embeddings: 'embeddings' };

/** One request's spans. */
class RequestTrace {
  attempt: Span | undefined;
  settle: Span | undefined;
  constructor(
    readonly span: Span,
    readonly context: Context,
  ) {}
}

function traceOf(ledger: RequestLedger): RequestTrace | undefined {
  return ledger.trace instanceof RequestTrace ? ledger.trace : undefined;
}

export interface TracingOptions {
  /** The OTLP/HTTP traces URL; default from the OTEL_EXPORTER_OTLP_* variables (the SDK reads them). */
  url?: string | undefined;
  /** service.name when OTEL_SERVICE_NAME is not set. */
  serviceName?: string;
  version?: string;
}

/** Traces of the data plane: a {@link GatewayObserver} that starts and ends spans. */
export class RequestTracing implements GatewayObserver {
  readonly #provider: BasicTracerProvider;
  readonly #tracer: Tracer;
  readonly #propagator = new W3CTraceContextPropagator();

  constructor(options: TracingOptions = {}) {
    const resource = defaultResource()
      .merge(resourceFromAttributes({ 'service.name': options.serviceName ?? 'aihub' }))
      .merge(detectResources({ detectors: [envDetector] }));
    const exporter = new OTLPTraceExporter(options.url ? { url: options.url } : {});
    this.#provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
    this.#tracer = this.#provider.getTracer('aihub', options.version);
  }

  opened(ledger: RequestLedger): void {
    const { ctx } = ledger;
    const headers = ctx.request?.headers;
    const parent = headers ? this.#propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter) : ROOT_CONTEXT;
    const operation = OPERATION[ctx.endpoint] ?? ctx.endpoint;
    const span = this.#tracer.startSpan(
      `${operation} ${ctx.model.name}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [GEN_AI.operation]: operation,
          [GEN_AI.requestModel]: ctx.model.name,
          'aihub.request_id': ctx.requestId,
          'aihub.endpoint': ctx.endpoint,
          'aihub.stream': ctx.stream,
        },
      },
      parent,
    );
    ledger.trace = new RequestTrace(span, trace.setSpan(parent, span));
  }

  attemptStarted(ledger: RequestLedger, channel: CatalogChannel, upstreamModel: string): string | undefined {
    const t = traceOf(ledger);
    if (!t) return undefined;
    t.attempt?.end();
    const operation = OPERATION[ledger.ctx.endpoint] ?? ledger.ctx.endpoint;
    const attempt = this.#tracer.startSpan(
      `${operation} ${upstreamModel}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [GEN_AI.operation]: operation,
          [GEN_AI.system]: channel.type,
          [GEN_AI.provider]: channel.type,
          [GEN_AI.requestModel]: upstreamModel,
          'aihub.channel': channel.name,
          'aihub.channel_id': channel.id,
        },
      },
      t.context,
    );
    t.attempt = attempt;
    const carrier: Record<string, string> = {};
    this.#propagator.inject(trace.setSpan(t.context, attempt), carrier, defaultTextMapSetter);
    return carrier.traceparent;
  }

  attemptEnded(ledger: RequestLedger, _channel: CatalogChannel, outcome: AttemptOutcome): void {
    const t = traceOf(ledger);
    const attempt = t?.attempt;
    if (!t || !attempt) return;
    if (outcome.upstreamStatus !== null) attempt.setAttribute('http.response.status_code', outcome.upstreamStatus);
    if (outcome.errorCode !== null) {
      attempt.setAttribute('error.type', outcome.errorCode);
      attempt.setStatus({ code: SpanStatusCode.ERROR });
    }
    attempt.end();
    t.attempt = undefined;
  }

  retried(ledger: RequestLedger, from: CatalogChannel, to: CatalogChannel): void {
    traceOf(ledger)?.span.addEvent(from.id === to.id ? 'retry' : 'failover', {
      'aihub.from_channel': from.name,
      'aihub.to_channel': to.name,
    });
  }

  keyRested(): void {}

  refused(ledger: RequestLedger, refusal: Refusal): void {
    traceOf(ledger)?.span.addEvent('refused', { 'aihub.refusal': refusal });
  }

  settling(ledger: RequestLedger, status: number, errorCode: string | null): void {
    const t = traceOf(ledger);
    if (!t) return;
    t.span.setAttribute('http.response.status_code', status);
    if (errorCode !== null) {
      t.span.setAttribute('error.type', errorCode);
      t.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    t.settle = this.#tracer.startSpan('settle', { kind: SpanKind.INTERNAL }, t.context);
  }

  settled(ledger: RequestLedger, request: SettledRequest): void {
    const t = traceOf(ledger);
    if (!t) return;
    const usage: Attributes = {
      [GEN_AI.inputTokens]: request.tokens.prompt,
      [GEN_AI.outputTokens]: request.tokens.completion,
      'aihub.usage.cached_tokens': request.tokens.cached,
      'aihub.usage.reasoning_tokens': request.tokens.reasoning,
      'aihub.usage.estimated': request.tokens.estimated,
      'aihub.cost_usd': request.costMicros / 1_000_000,
    };
    t.settle?.setAttributes(usage);
    t.settle?.end();
    t.span.setAttributes(usage);
    if (ledger.upstreamModel) t.span.setAttribute(GEN_AI.responseModel, ledger.upstreamModel);
    if (ledger.channel) t.span.setAttribute('aihub.channel', ledger.channel.name);
    t.span.end();
  }

  /** Export the spans ended so far. */
  flush(): Promise<void> {
    return this.#provider.forceFlush();
  }

  /** Export what is left and stop. */
  shutdown(): Promise<void> {
    return this.#provider.shutdown();
  }
}
