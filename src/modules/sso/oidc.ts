import * as oidc from 'openid-client';
import type { Clock } from '../../core/clock.js';
import type { SecretBox } from '../../core/secrets.js';
import type { SsoConnectionsTable } from '../../infra/db/schema.js';

/** How long a discovered IdP configuration is reused (keys rotate; openid-client refetches JWKS itself). */
const DISCOVERY_TTL_MS = 10 * 60_000;

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Whether an issuer URL is acceptable: https, or http on a loopback host (a local IdP in development and
 * tests). Returns the reason it is not, or null.
 */
export function issuerProblem(issuer: string): string | null {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return 'is not a URL';
  }
  if (url.search || url.hash) return 'must not have a query or fragment';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK.test(url.hostname)) return null;
  return 'must be https (http only for localhost)';
}

export interface AuthorizationRequest {
  redirectUri: string;
  scopes: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface VerifiedSignIn {
  subject: string;
  /** The ID token's claims, completed by the userinfo endpoint's (the ID token's win on conflicts). */
  claims: Record<string, unknown>;
}

/**
 * The OpenID Connect relying party (openid-client v6): discovery per connection, the authorization URL with
 * PKCE (S256), state and nonce, and the code exchange with ID token validation (signature, issuer, audience,
 * expiry, nonce).
 */
export class OidcClients {
  readonly #cache = new Map<string, { key: string; at: number; config: Promise<oidc.Configuration> }>();

  constructor(
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
  ) {}

  /** The connection's configuration, discovered once per connection version (and again after ten minutes). */
  configuration(connection: SsoConnectionsTable): Promise<oidc.Configuration> {
    const key = `${connection.updated_at}:${connection.issuer}:${connection.client_id}`;
    const cached = this.#cache.get(connection.id);
    const now = this.clock.now();
    if (cached && cached.key === key && now - cached.at < DISCOVERY_TTL_MS) return cached.config;
    const config = this.discover(connection);
    this.#cache.set(connection.id, { key, at: now, config });
    config.catch(() => {
      if (this.#cache.get(connection.id)?.config === config) this.#cache.delete(connection.id);
    });
    return config;
  }

  forget(connectionId: string): void {
    this.#cache.delete(connectionId);
  }

  async authorizationUrl(connection: SsoConnectionsTable, request: AuthorizationRequest): Promise<string> {
    const config = await this.configuration(connection);
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: request.redirectUri,
      scope: request.scopes,
      state: request.state,
      nonce: request.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(request.codeVerifier),
      code_challenge_method: 'S256',
    }).href;
  }

  /** Exchange the code the IdP sent back to `callbackUrl` and validate the ID token. */
  async exchange(
    connection: SsoConnectionsTable,
    callbackUrl: URL,
    checks: { state: string; nonce: string; codeVerifier: string },
  ): Promise<VerifiedSignIn> {
    const config = await this.configuration(connection);
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    if (!idClaims) throw new Error('The IdP returned no ID token');
    let userinfo: Record<string, unknown> = {};
    if (config.serverMetadata().userinfo_endpoint && tokens.access_token) {
      // Many IdPs put email and groups only in userinfo. Its subject must be the ID token's (checked).
      userinfo = { ...(await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub)) };
    }
    return { subject: idClaims.sub, claims: { ...userinfo, ...idClaims } };
  }

  private async discover(connection: SsoConnectionsTable): Promise<oidc.Configuration> {
    const issuer = new URL(connection.issuer);
    const insecure = issuer.protocol === 'http:';
    const discovered = await oidc.discovery(issuer, connection.client_id, undefined, oidc.None(), {
      timeout: 10,
      ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
    });
    const server = discovered.serverMetadata();
    const secret = connection.client_secret === null ? undefined : this.secrets.decrypt(connection.client_secret);
    // client_secret_basic is the OpenID Connect default; post only when the IdP supports nothing else.
    const methods = server.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    const auth =
      secret === undefined
        ? oidc.None()
        : methods.includes('client_secret_basic') || !methods.includes('client_secret_post')
          ? oidc.ClientSecretBasic(secret)
          : oidc.ClientSecretPost(secret);
    const config = new oidc.Configuration(server, connection.client_id, undefined, auth);
    if (insecure) oidc.allowInsecureRequests(config);
    return config;
  }
}
