/**
 * A local Stripe: the few API endpoints AI Hub calls, answered in Stripe's wire shapes (test/fixtures/stripe/),
 * reached through the SDK's own host/port/protocol options (STRIPE_API_URL), never the network.
 *
 *   POST /v1/customers                   POST /v1/checkout/sessions       POST /v1/billing_portal/sessions
 *   POST /v1/products                    POST /v1/prices                  GET  /v1/prices/:id
 *   GET  /v1/subscriptions/:id           GET  /v1/checkout/sessions/:id
 *
 * Its Checkout URL is a page of its own (`GET /pay/:session`) that "pays": it sends the signed webhook events
 * Stripe would (checkout.session.completed; for a subscription also invoice.paid) to the hub, then redirects
 * to the session's success URL ({CHECKOUT_SESSION_ID} filled in, as Stripe does). With `webhookDelayMs` set it
 * redirects first and delivers the events that long after, as real Stripe may (the two are not ordered). Tests also build and sign events themselves (`event`, `sign`, `deliver`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/stripe');
type Json = Record<string, unknown>;
const fixture = (name: string): Json => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Json;

export const WEBHOOK_SECRET = 'whsec_localfake0123456789';
export const SECRET_KEY = 'sk_test_localfake0123456789';

/** One API request the fake received (form fields parsed as Stripe nests them). */
export interface StripeCall {
  method: string;
  path: string;
  params: Json;
  authorization: string | undefined;
  idempotencyKey: string | undefined;
}

export interface FakeStripe {
  /** http://127.0.0.1:port, for STRIPE_API_URL. */
  url: string;
  calls: StripeCall[];
  sessions: Map<string, Json>;
  subscriptions: Map<string, Json>;
  prices: Map<string, Json>;
  /** Where the fake's pay page sends webhooks (the hub's /api/billing/stripe/webhook). */
  webhookUrl: string | undefined;
  /** Redirect back from the pay page first and deliver its webhooks this many ms later (unset: before). */
  webhookDelayMs: number | undefined;
  /** An event in Stripe's envelope (`evt_…` id unless given). */
  event(type: string, object: Json, id?: string): Json;
  /** The Stripe-Signature header for a payload, by the SDK's own test helper. */
  sign(payload: string, options?: { secret?: string; timestamp?: number }): string;
  /** POST an event to the hub, signed (unless `signature` is given). */
  deliver(event: Json, options?: { signature?: string; url?: string }): Promise<{ status: number; body: Json }>;
  /** A subscription in Stripe's shape, stored so GET /v1/subscriptions/:id answers it. */
  putSubscription(overrides: Json & { id: string; customer: string; priceId: string }): Json;
  /** An invoice of a subscription in Stripe's shape. */
  invoice(overrides: Json & { customer: string; subscription: string | null }): Json;
  close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(9).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

/** Stripe's form encoding (`a[b][0][c]=v`) as nested objects and arrays. */
export function parseStripeForm(body: string): Json {
  const root: Json = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const path = rawKey.replace(/\]/g, '').split('[');
    let node: Json = root;
    path.forEach((key, i) => {
      if (i === path.length - 1) node[key] = value;
      else {
        if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
        node = node[key] as Json;
      }
    });
  }
  return arraysOf(root) as Json;
}

function arraysOf(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Json).map(([k, v]) => [k, arraysOf(v)] as const);
  if (entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k))) return entries.map(([, v]) => v);
  return Object.fromEntries(entries);
}

export async function startFakeStripe(options: { webhookSecret?: string } = {}): Promise<FakeStripe> {
  const secret = options.webhookSecret ?? WEBHOOK_SECRET;
  const stripe = new Stripe('sk_test_signer');
  const calls: StripeCall[] = [];
  const sessions = new Map<string, Json>();
  const subscriptions = new Map<string, Json>();
  const prices = new Map<string, Json>();
  let base = '';

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req') });
    res.end(JSON.stringify(body));
  };
  const missing = (res: ServerResponse, what: string, value: string) =>
    send(res, 404, {
      error: {
        code: 'resource_missing',
        message: `No such ${what}: '${value}'`,
        param: 'id',
        type: 'invalid_request_error',
      },
    });

  const fake: FakeStripe = {
    url: '',
    calls,
    sessions,
    subscriptions,
    prices,
    webhookUrl: undefined,
    webhookDelayMs: undefined,
    event(type, object, eventId) {
      return {
        id: eventId ?? id('evt'),
        object: 'event',
        api_version: Stripe.API_VERSION,
        created: now(),
        data: { object },
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type,
      };
    },
    sign(payload, signOptions = {}) {
      return stripe.webhooks.generateTestHeaderString({
        payload,
        secret: signOptions.secret ?? secret,
        ...(signOptions.timestamp !== undefined ? { timestamp: signOptions.timestamp } : {}),
      });
    },
    async deliver(event, deliverOptions = {}) {
      const url = deliverOptions.url ?? fake.webhookUrl;
      if (!url) throw new Error('FakeStripe.webhookUrl is not set');
      const payload = JSON.stringify(event, null, 2);
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': deliverOptions.signature ?? fake.sign(payload),
        },
        body: payload,
      });
      return { status: res.status, body: (await res.json()) as Json };
    },
    putSubscription({ id: subId, customer, priceId, ...overrides }) {
      const template = fixture('subscription');
      const price = prices.get(priceId) ?? {
        ...((template.items as { data: Json[] }).data[0]?.price as Json),
        id: priceId,
      };
      const start = now();
      const sub: Json = {
        ...template,
        id: subId,
        customer,
        created: start,
        start_date: start,
        billing_cycle_anchor: start,
        items: {
          object: 'list',
          data: [
            {
              ...((template.items as { data: Json[] }).data[0] as Json),
              id: id('si'),
              price,
              subscription: subId,
              current_period_start: start,
              current_period_end: start + 30 * 86_400,
            },
          ],
          has_more: false,
          url: `/v1/subscription_items?subscription=${subId}`,
        },
        ...overrides,
      };
      subscriptions.set(subId, sub);
      return sub;
    },
    invoice({ customer, subscription, ...overrides }) {
      const template = fixture('invoice');
      const invoiceId = id('in');
      return {
        ...template,
        id: invoiceId,
        customer,
        created: now(),
        period_start: now(),
        period_end: now(),
        hosted_invoice_url: `https://invoice.stripe.com/i/acct_fake/${invoiceId}`,
        parent: subscription
          ? { quote_details: null, subscription_details: { metadata: {}, subscription }, type: 'subscription_details' }
          : null,
        ...overrides,
      };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const api = (req: IncomingMessage, res: ServerResponse, path: string, params: Json) => {
    const meta = (params.metadata ?? {}) as Json;
    if (req.method === 'POST' && path === '/v1/customers') {
      return send(res, 200, {
        id: id('cus'),
        object: 'customer',
        created: now(),
        email: params.email ?? null,
        livemode: false,
        metadata: meta,
        name: params.name ?? null,
      });
    }
    if (req.method === 'POST' && path === '/v1/checkout/sessions') {
      const sessionId = `cs_test_${randomBytes(12).toString('hex')}`;
      const items = (params.line_items ?? []) as Json[];
      const first = items[0] ?? {};
      const priceData = first.price_data as Json | undefined;
      const price = typeof first.price === 'string' ? prices.get(first.price) : undefined;
      if (typeof first.price === 'string' && !price) return missing(res, 'price', first.price);
      const amount = priceData ? Number(priceData.unit_amount) : Number(price?.unit_amount ?? 0);
      const session: Json = {
        ...fixture('checkout-session'),
        id: sessionId,
        amount_subtotal: amount,
        amount_total: amount,
        cancel_url: params.cancel_url,
        client_reference_id: params.client_reference_id ?? null,
        created: now(),
        currency: priceData ? priceData.currency : (price?.currency ?? 'usd'),
        customer: params.customer ?? null,
        metadata: meta,
        mode: params.mode,
        success_url: params.success_url,
        url: `${base}/pay/${sessionId}`,
        _subscription_metadata: (params.subscription_data as Json | undefined)?.metadata ?? {},
        _price_id: typeof first.price === 'string' ? first.price : null,
      };
      sessions.set(sessionId, session);
      const { _subscription_metadata: _m, _price_id: _p, ...wire } = session;
      return send(res, 200, wire);
    }
    if (req.method === 'POST' && path === '/v1/billing_portal/sessions') {
      const portalId = id('bps');
      return send(res, 200, {
        id: portalId,
        object: 'billing_portal.session',
        configuration: 'bpc_fake',
        created: now(),
        customer: params.customer,
        livemode: false,
        locale: null,
        on_behalf_of: null,
        return_url: params.return_url ?? null,
        url: `${base}/portal/${portalId}`,
      });
    }
    if (req.method === 'POST' && path === '/v1/products') {
      return send(res, 200, { id: id('prod'), object: 'product', active: true, created: now(), name: params.name });
    }
    if (req.method === 'POST' && path === '/v1/prices') {
      const recurring = params.recurring as Json | undefined;
      const price: Json = {
        id: id('price'),
        object: 'price',
        active: true,
        created: now(),
        currency: params.currency,
        livemode: false,
        product: params.product,
        recurring: recurring
          ? { interval: recurring.interval, interval_count: 1, usage_type: 'licensed', meter: null }
          : null,
        type: recurring ? 'recurring' : 'one_time',
        unit_amount: Number(params.unit_amount),
      };
      prices.set(price.id as string, price);
      return send(res, 200, price);
    }
    const price = path.match(/^\/v1\/prices\/([^/]+)$/);
    if (req.method === 'GET' && price) {
      const found = prices.get(price[1] as string);
      return found ? send(res, 200, found) : missing(res, 'price', price[1] as string);
    }
    const checkout = path.match(/^\/v1\/checkout\/sessions\/([^/]+)$/);
    if (req.method === 'GET' && checkout) {
      const found = sessions.get(checkout[1] as string);
      if (!found) return missing(res, 'checkout.session', checkout[1] as string);
      const { _subscription_metadata: _m, _price_id: _p, ...wire } = found;
      return send(res, 200, wire);
    }
    const sub = path.match(/^\/v1\/subscriptions\/([^/]+)$/);
    if (req.method === 'GET' && sub) {
      const found = subscriptions.get(sub[1] as string);
      return found ? send(res, 200, found) : missing(res, 'subscription', sub[1] as string);
    }
    send(res, 404, {
      error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${path})` },
    });
  };

  /** The hosted Checkout page, paying at once: Stripe's events to the hub, then back to the success URL. */
  const pay = async (res: ServerResponse, sessionId: string) => {
    const session = sessions.get(sessionId);
    if (session?.status !== 'open') {
      res.writeHead(404, { 'content-type': 'text/html' });
      return res.end('<h1>This Checkout session is not open</h1>');
    }
    const { _subscription_metadata: subMeta, _price_id: priceId, ...wire } = session;
    const customer = session.customer as string;
    const events: Json[] = [];
    if (session.mode === 'subscription') {
      const subId = id('sub');
      fake.putSubscription({ id: subId, customer, priceId: priceId as string, metadata: subMeta as Json });
      Object.assign(session, { status: 'complete', payment_status: 'paid', subscription: subId });
      const invoice = fake.invoice({
        customer,
        subscription: subId,
        amount_due: session.amount_total,
        amount_paid: session.amount_total,
        currency: session.currency,
        billing_reason: 'subscription_create',
      });
      events.push(
        fake.event('checkout.session.completed', {
          ...wire,
          status: 'complete',
          payment_status: 'paid',
          subscription: subId,
        }),
      );
      events.push(fake.event('invoice.paid', invoice));
    } else {
      const intent = id('pi');
      Object.assign(session, { status: 'complete', payment_status: 'paid', payment_intent: intent });
      events.push(
        fake.event('checkout.session.completed', {
          ...wire,
          status: 'complete',
          payment_status: 'paid',
          payment_intent: intent,
        }),
      );
    }
    const deliverAll = async () => {
      for (const event of events) {
        const answer = await fake.deliver(event);
        if (answer.status !== 200)
          throw new Error(`the hub answered ${answer.status} to ${event.type}: ${JSON.stringify(answer.body)}`);
      }
    };
    const delay = fake.webhookDelayMs;
    if (delay === undefined) await deliverAll();
    else
      setTimeout(() => {
        deliverAll().catch((error: unknown) => console.error('[fake stripe] late webhook failed:', error));
      }, delay);
    res.writeHead(303, { location: (session.success_url as string).replace('{CHECKOUT_SESSION_ID}', sessionId) });
    res.end();
  };

  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const payPage = url.pathname.match(/^\/pay\/([^/]+)$/);
      if (req.method === 'GET' && payPage) {
        pay(res, payPage[1] as string).catch((error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        });
        return;
      }
      const params = req.method === 'GET' ? Object.fromEntries(url.searchParams) : parseStripeForm(body);
      const header = (name: string) => {
        const value = req.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      calls.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        params,
        authorization: header('authorization'),
        idempotencyKey: header('idempotency-key'),
      });
      api(req, res, url.pathname, params);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.url = base;
  return fake;
}
