import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type ErrorCode } from '../core/errors.js';
import { googleStatus } from '../providers/gemini/inbound.js';

/** OpenAI error `type` for each of our codes (what SDKs read). */
function openAiType(code: ErrorCode, status: number): string {
  if (code === 'insufficient_quota' || code === 'insufficient_balance') return 'insufficient_quota';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

function anthropicType(status: number): string {
  if (status === 401) return 'authentication_error';
  // Anthropic's own type for a billing problem (402).
  if (status === 402) return 'billing_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** Convert anything thrown into an ApiError with a message safe to show. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const fe = error as FastifyError;
  if (fe && Array.isArray(fe.validation)) {
    const first = fe.validation[0];
    const where = fe.validationContext ?? 'body';
    const path = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : '';
    const params = first?.params as { missingProperty?: string; additionalProperty?: string } | undefined;
    const missing = params?.missingProperty;
    const extra = params?.additionalProperty;
    const field = [path, missing ?? extra].filter(Boolean).join('.');
    const message = missing
      ? `${where}.${field} is required`
      : extra
        ? `${where}.${field} is not a known field`
        : `${where}${field ? `.${field}` : ''} ${first?.message ?? 'is invalid'}`;
    return new ApiError('validation_failed', message, { param: field || undefined });
  }
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError('payload_too_large', 'Request body is too large');
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new ApiError('unsupported_media_type', 'Send the body as application/json');
  if (fe?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return new ApiError('invalid_json', 'Request body is empty; send a JSON object');
  if (fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (fe?.statusCode === 400 && error instanceof SyntaxError)) {
    return new ApiError('invalid_json', `Request body is not valid JSON: ${fe.message}`);
  }
  if (fe?.statusCode === 400 || fe?.statusCode === 404 || fe?.statusCode === 413 || fe?.statusCode === 415) {
    return new ApiError('bad_request', fe.message, { status: fe.statusCode });
  }
  return new ApiError('internal_error', 'Internal error; the request id identifies it in the server log', {
    cause: error,
  });
}

/** Render an error in the protocol of the route that failed. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  if (error.headers) reply.headers(error.headers);
  reply.code(error.status);
  const url = request.url;
  const protocol = url.startsWith('/v1/messages')
    ? 'anthropic'
    : url.startsWith('/v1/') || url === '/v1'
      ? 'openai'
      : url.startsWith('/v1beta/')
        ? 'google'
        : 'api';
  return reply.send(errorPayload(protocol, error, request.id));
}

/** The body of an error answer in a protocol: Anthropic's, OpenAI's, or the control plane's own. */
export function errorPayload(
  protocol: 'anthropic' | 'openai' | 'google' | 'api',
  error: ApiError,
  requestId: string,
): object {
  // Google's shape (the Gemini API, /v1beta): https://ai.google.dev/gemini-api/docs/troubleshooting
  if (protocol === 'google')
    return { error: { code: error.status, message: error.message, status: googleStatus(error.status) } };
  if (protocol === 'anthropic')
    return { type: 'error', error: { type: anthropicType(error.status), message: error.message } };
  if (protocol === 'openai')
    return {
      error: {
        message: error.message,
        type: openAiType(error.code, error.status),
        param: error.param ?? null,
        code: error.code,
      },
    };
  return { error: { code: error.code, message: error.message, requestId } };
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500 && apiError.code === 'internal_error') {
      request.log.error({ err: error }, 'unhandled error');
    }
    return sendError(request, reply, apiError);
  });
  app.setNotFoundHandler((request, reply) => {
    sendError(request, reply, new ApiError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`));
  });
}
