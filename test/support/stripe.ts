/**
 * Stripe tests' harness: the limits app (mock model, master key, manual clock) configured for Stripe through
 * the environment and pointed at the local fake (`fakes/stripe.ts`) by STRIPE_API_URL; paying a Checkout
 * session through the fake's pay page; a signed-in member of another role.
 */
import { expect } from 'vitest';
import type { EngineName } from './databases.js';
import { type FakeStripe, SECRET_KEY, startFakeStripe, WEBHOOK_SECRET } from './fakes/stripe.js';
import { type LimitsApp, MASTER, startLimitsApp } from './limits.js';

export interface StripeApp extends LimitsApp {
  stripe: FakeStripe;
}

/** The app with Stripe configured by STRIPE_* (unless `configured` is false) and the fake receiving its calls. */
export async function startStripeApp(
  options: {
    engine?: EngineName;
    backend?: 'memory' | 'redis';
    configured?: boolean;
    env?: Record<string, string>;
  } = {},
): Promise<StripeApp> {
  const stripe = await startFakeStripe();
  const env: Record<string, string> =
    options.configured === false
      ? { STRIPE_API_URL: stripe.url }
      : { STRIPE_SECRET_KEY: SECRET_KEY, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_URL: stripe.url };
  const app = await startLimitsApp({
    engine: options.engine ?? 'sqlite',
    backend: options.backend ?? 'memory',
    env: { AIHUB_PUBLIC_URL: 'https://hub.example', ...env, ...options.env },
  });
  stripe.webhookUrl = `${app.t.url}/api/billing/stripe/webhook`;
  const close = app.close;
  return Object.assign(app, {
    stripe,
    close: async () => {
      await close();
      await stripe.close();
    },
  });
}

/** Headers of the master key acting in `orgId`. */
export const asMaster = (orgId: string) => ({ token: MASTER, headers: { 'x-aihub-organization': orgId } });

/** Start a top-up Checkout for `orgId` (201 expected) and return the session. */
export async function checkout(app: StripeApp, orgId: string, amountMicros: number) {
  const res = await app.call<{ url: string; sessionId: string }>('POST', '/api/billing/stripe/checkout', {
    ...asMaster(orgId),
    body: { amountMicros },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** "Pay" on the fake's Checkout page: it sends Stripe's signed events to the hub and redirects to success. */
export async function pay(url: string): Promise<string | null> {
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(303);
  return res.headers.get('location');
}
