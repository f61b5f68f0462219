import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type AccountClaims, type GrantContext } from 'oidc-provider';

/** A test account of the fake IdP: its subject and the claims the IdP asserts about it. */
export interface IdpAccount extends AccountClaims {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

export interface FakeIdp {
  /** The issuer (discovery at `${issuer}/.well-known/openid-configuration`). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Add or replace an account; signing in with `login` = its `sub` picks it. */
  setAccount(account: IdpAccount): void;
  close(): Promise<void>;
}

/**
 * A real OpenID Provider (the `oidc-provider` package) on a free loopback port: one confidential client with
 * the given redirect URIs, PKCE required, and its development login form (any password; the login name is
 * the account's subject). Consent is granted automatically (a first-party client).
 */
export async function startFakeIdp(options: { redirectUris: string[]; clientId?: string }): Promise<FakeIdp> {
  const accounts = new Map<string, IdpAccount>();
  const clientId = options.clientId ?? 'aihub-test';
  const clientSecret = 'idp-client-secret-0123456789abcdef';
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    cookies: { keys: ['fake-idp-cookie-key'] },
    features: { devInteractions: { enabled: true } },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    async findAccount(_ctx, id) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ ...account }) };
    },
    // A first-party client: no consent screen, every requested scope is granted.
    async loadExistingGrant(ctx: GrantContext) {
      const { client, session, provider: op } = ctx.oidc;
      const existing = session.grantIdFor(client.clientId);
      if (existing) return op.Grant.find(existing);
      const grant = new op.Grant({ accountId: session.accountId, clientId: client.clientId });
      grant.addOIDCScope('openid email profile groups');
      grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
      await grant.save();
      return grant;
    },
  });
  const handler = provider.callback();
  server.on('request', handler);
  return {
    issuer,
    clientId,
    clientSecret,
    setAccount: (account) => accounts.set(account.sub, account),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
