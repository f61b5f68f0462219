import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../core/errors.js';
import { safeEqual } from '../../core/secrets.js';
import { bearerToken } from '../../http/bearer.js';
import type { KeyCheck, KeyLookup, LimitPolicy } from '../ports.js';

/** Who is calling the data plane: a virtual key (and its owner), or the master key. */
export interface Caller {
  keyId: string | null;
  userId: string | null;
  orgId: string | null;
  teamId: string | null;
  /** Model names / `*` wildcards this caller may use; null = all. */
  allowedModels: string[] | null;
  /** Allow-lists of the caller's organization and team: a model must match each of them too. */
  modelLimits: ReadonlyArray<readonly string[]>;
  /** Channel groups of the caller's organization and team: a channel serves the caller when in one of each. */
  channelLimits: ReadonlyArray<readonly string[]>;
  /** CIDRs the key may be used from; null = anywhere. */
  allowedIps: string[] | null;
  /** The key's own limits (null for the master key). */
  keyLimits: LimitPolicy | null;
  /** The key opted in to the response cache (docs/response-cache.md). */
  responseCache: boolean;
}

export const MASTER_CALLER: Caller = {
  keyId: null,
  userId: null,
  orgId: null,
  teamId: null,
  allowedModels: null,
  modelLimits: [],
  channelLimits: [],
  allowedIps: null,
  keyLimits: null,
  responseCache: false,
};

const FAILURE_MESSAGES = {
  NOT_FOUND: 'Incorrect API key provided',
  REVOKED: 'This API key has been revoked',
  DISABLED: 'This API key is disabled',
  EXPIRED: 'This API key has expired',
  OWNER_DISABLED: "This API key's owner account is disabled",
  ORG_DISABLED: "This API key's organization is disabled",
} as const;

/** Read the key from `Authorization: Bearer …` (or `x-api-key`, as Anthropic clients send it, or Google's). */
export function presentedKey(request: FastifyRequest): string | undefined {
  const token = bearerToken(request.headers.authorization);
  if (token !== undefined) return token;
  const xKey = request.headers['x-api-key'];
  if (typeof xKey === 'string' && xKey !== '') return xKey.trim();
  // Google's clients (the Gemini API at /v1beta): `x-goog-api-key`, or `?key=` (never logged: logs drop queries).
  const googKey = request.headers['x-goog-api-key'];
  if (typeof googKey === 'string' && googKey !== '') return googKey.trim();
  const query = request.query as { key?: unknown } | undefined;
  if (typeof query?.key !== 'string' || query.key === '') return undefined;
  return request.url.startsWith('/v1beta/') ? query.key : undefined;
}

/** Authenticate a /v1 request from the in-memory key cache. */
export async function authenticateCaller(
  request: FastifyRequest,
  verifier: KeyLookup,
  masterKey: string | undefined,
): Promise<Caller> {
  const secret = presentedKey(request);
  if (!secret) throw new ApiError('invalid_api_key', 'Missing API key: send Authorization: Bearer <your AI Hub key>');
  if (masterKey && safeEqual(secret, masterKey)) return MASTER_CALLER;
  return callerOfKey(await verifier.verify(secret));
}

/** The caller a verified key makes (a refused key throws the client's 401). */
export function callerOfKey(result: KeyCheck): Caller {
  if (!result.ok) throw new ApiError('invalid_api_key', FAILURE_MESSAGES[result.code]);
  const key = result.key;
  return {
    keyId: key.id,
    userId: key.userId,
    orgId: key.orgId,
    teamId: key.teamId,
    allowedModels: key.allowedModels,
    modelLimits: key.modelLimits,
    channelLimits: key.channelLimits,
    allowedIps: key.allowedIps,
    keyLimits: key.limits,
    responseCache: key.responseCache,
  };
}

/** Whether the caller may use `model` (exact names or `prefix*` wildcards). */
export function mayUseModel(caller: Caller, model: string): boolean {
  if (caller.allowedModels && !matchesAny(caller.allowedModels, model)) return false;
  for (const list of caller.modelLimits) if (!matchesAny(list, model)) return false;
  return true;
}

function matchesAny(patterns: readonly string[], model: string): boolean {
  for (const pattern of patterns) {
    if (pattern === model || pattern === '*') return true;
    if (pattern.endsWith('*') && model.startsWith(pattern.slice(0, -1))) return true;
  }
  return false;
}
