import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

/** An error the API answered with (or a network failure), carrying the server's own words. */
export class ApiRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

interface Session {
  token: () => string | null;
  /** Get a fresh access token from the refresh cookie; null when the session is gone. */
  refresh: () => Promise<string | null>;
  /** Called when the session is gone for good (sign-in needed). */
  expired: () => void;
  /** Called when the API refuses with `two_factor_required` (the organization requires 2FA). */
  twoFactorRequired?: () => void;
}

let session: Session = { token: () => null, refresh: async () => null, expired: () => undefined };

/** Wire the client to the auth store (done once at start-up, avoiding an import cycle). */
export function connectSession(s: Session): void {
  session = s;
}

/** Where the chosen organization is kept; every /api request names it in `x-aihub-organization`. */
const ORGANIZATION_KEY = 'aihub.organization';
export const ORGANIZATION_HEADER = 'x-aihub-organization';

/** The organization the console works in (an id), or null for the account's home organization. */
export function selectedOrganization(): string | null {
  try {
    return localStorage.getItem(ORGANIZATION_KEY);
  } catch {
    return null;
  }
}

/** Choose the organization later requests are about (null: back to the home organization). */
export function selectOrganization(id: string | null): void {
  if (id) localStorage.setItem(ORGANIZATION_KEY, id);
  else localStorage.removeItem(ORGANIZATION_KEY);
}

// 401s from these mean wrong credentials, not an expired session.
const NO_RETRY = [
  '/api/auth/login',
  '/api/auth/login/2fa',
  '/api/auth/register',
  '/api/auth/refresh',
  '/api/auth/logout',
  '/api/me/password',
  '/api/me/2fa/enable',
  '/api/me/2fa/disable',
  '/api/me/2fa/recovery-codes',
];

/** Tell the session when the organization's 2FA requirement refused a request. */
async function noticeTwoFactorRequired(response: Response): Promise<void> {
  if (response.status !== 403 || !session.twoFactorRequired) return;
  const body = (await response
    .clone()
    .json()
    .catch(() => null)) as { error?: { code?: string } } | null;
  if (body?.error?.code === 'two_factor_required') session.twoFactorRequired();
}

/** fetch with the access token; on 401 refresh the session once and retry, keeping the page. */
export async function authFetch(input: Request | string, init?: RequestInit): Promise<Response> {
  const request = typeof input === 'string' ? new Request(input, init) : input;
  const retry = request.clone();
  const token = session.token();
  if (token) request.headers.set('authorization', `Bearer ${token}`);
  const path = new URL(request.url, location.origin).pathname;
  const organization = selectedOrganization();
  if (organization && path.startsWith('/api/') && !request.headers.has(ORGANIZATION_HEADER)) {
    request.headers.set(ORGANIZATION_HEADER, organization);
    retry.headers.set(ORGANIZATION_HEADER, organization);
  }
  const response = await fetch(request);
  await noticeTwoFactorRequired(response);
  // An invitation's 401 means "sign in first", not an expired session.
  if (response.status !== 401 || NO_RETRY.includes(path) || path.startsWith('/api/invitations/')) return response;
  const fresh = await session.refresh();
  if (!fresh) {
    session.expired();
    return response;
  }
  retry.headers.set('authorization', `Bearer ${fresh}`);
  return fetch(retry);
}

export const api = createClient<paths>({ baseUrl: '', fetch: authFetch, credentials: 'same-origin' });

/** The error body the API sends: `{ error: { code, message, requestId } }` (or OpenAI's shape on /v1). */
export function errorFrom(status: number, body: unknown): ApiRequestError {
  const error = (body as { error?: { message?: string; code?: string; requestId?: string } } | null)?.error;
  if (error?.message) return new ApiRequestError(error.message, status, error.code ?? 'error', error.requestId);
  return new ApiRequestError(`HTTP ${status}`, status, 'http_error');
}

/** Unwrap an openapi-fetch result: the data, or an ApiRequestError with the server's message. */
export async function call<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await pending;
  } catch (error) {
    throw new ApiRequestError(error instanceof Error ? error.message : String(error), 0, 'network_error');
  }
  if (!result.response.ok) throw errorFrom(result.response.status, result.error);
  return result.data as NonNullable<T>;
}
