import { expect } from 'vitest';

/**
 * A browser without a page: keeps cookies per origin (paths and expiry ignored), follows nothing by itself, so a
 * test sees every hop of a redirect flow.
 */
export class CookieBrowser {
  readonly jar = new Map<string, Map<string, string>>();

  cookies(origin: string): Map<string, string> {
    let jar = this.jar.get(origin);
    if (!jar) {
      jar = new Map();
      this.jar.set(origin, jar);
    }
    return jar;
  }

  cookie(origin: string, name: string): string | undefined {
    return this.cookies(origin).get(name);
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const { origin } = new URL(url);
    const headers = new Headers(init.headers);
    const jar = this.cookies(origin);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0\b/i.test(a));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  /** GET `url` and follow redirects while they stay outside `stopAt` (an origin + path prefix). */
  async follow(url: string, stopAt: string): Promise<string> {
    let current = url;
    for (let hop = 0; hop < 10; hop++) {
      if (current.startsWith(stopAt)) return current;
      const res = await this.fetch(current);
      const location = res.headers.get('location');
      if (!location) return current;
      current = new URL(location, current).href;
    }
    throw new Error(`too many redirects from ${url}`);
  }
}

/**
 * Drive the fake IdP's login form from an authorization URL: returns the IdP's redirect back to AI Hub's
 * callback (not yet visited).
 */
export async function loginAtIdp(
  browser: CookieBrowser,
  authorizationUrl: string,
  login: string,
  callbackPrefix: string,
): Promise<string> {
  const interaction = await browser.follow(authorizationUrl, callbackPrefix);
  if (interaction.startsWith(callbackPrefix)) return interaction; // already signed in at the IdP
  const page = await browser.fetch(interaction);
  const html = await page.text();
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  expect(action, 'the IdP shows its login form').toBeTruthy();
  const submitted = await browser.fetch(new URL(action as string, interaction).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ prompt: 'login', login, password: 'any' }),
  });
  const next = submitted.headers.get('location');
  expect(next, 'the IdP accepts the login').toBeTruthy();
  return browser.follow(new URL(next as string, interaction).href, callbackPrefix);
}

export interface SsoLanding {
  /** Where AI Hub sent the browser after the callback (`/login?sso=done&next=…` or `/login?sso_error=…`). */
  location: string;
  /** The session's access token when signed in (from /api/auth/refresh, as the console does). */
  accessToken: string | null;
  userId: string | null;
}

/** The whole sign-in: start at AI Hub, log in at the IdP, come back, trade the refresh cookie for a token. */
export async function ssoSignIn(
  browser: CookieBrowser,
  appUrl: string,
  connectionId: string,
  login: string,
  options: { returnTo?: string } = {},
): Promise<SsoLanding> {
  const query = options.returnTo ? `?${new URLSearchParams({ returnTo: options.returnTo })}` : '';
  const start = await browser.fetch(`${appUrl}/api/auth/sso/${connectionId}/start${query}`);
  expect(start.status).toBe(302);
  const idpUrl = new URL(start.headers.get('location') as string, appUrl).href;
  if (idpUrl.startsWith(appUrl)) return { location: idpUrl.slice(appUrl.length), accessToken: null, userId: null };
  const callback = await loginAtIdp(browser, idpUrl, login, `${appUrl}/api/auth/sso/callback`);
  return finishCallback(browser, appUrl, callback);
}

/** Visit the callback URL and, when it signed in, fetch the session as the console does. */
export async function finishCallback(browser: CookieBrowser, appUrl: string, callbackUrl: string): Promise<SsoLanding> {
  const res = await browser.fetch(callbackUrl);
  expect(res.status).toBe(302);
  const location = res.headers.get('location') as string;
  if (!location.startsWith('/login?sso=done')) return { location, accessToken: null, userId: null };
  const refresh = await browser.fetch(`${appUrl}/api/auth/refresh`, { method: 'POST' });
  expect(refresh.status).toBe(200);
  const body = (await refresh.json()) as { accessToken: string; user: { id: string } };
  return { location, accessToken: body.accessToken, userId: body.user.id };
}
