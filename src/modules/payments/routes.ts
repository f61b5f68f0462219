import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { principalOf } from '../auth/guard.js';
import { actorOf } from '../auth/principal.js';
import { linkOrigin } from '../mail/links.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { PaymentsConfigStore } from './config.js';
import {
  CheckoutSchema,
  CheckoutSessionParam,
  CheckoutStatusSchema,
  InvoiceQuery,
  PaymentsConfigPatchBody,
  PaymentsConfigSchema,
  PaymentsStatusSchema,
  PlanCreateBody,
  PlanListSchema,
  PlanPatchBody,
  PlanSchema,
  PortalSchema,
  StripeInvoiceListSchema,
  SubscribeBody,
  SubscriptionSchema,
  TopUpBody,
  WebhookAnswerSchema,
} from './schema.js';
import type { PaymentsService } from './service.js';
import type { StripeWebhooks } from './webhook.js';

export interface PaymentsRoutesDeps {
  payments: PaymentsService;
  webhooks: StripeWebhooks;
  config: PaymentsConfigStore;
  organizations: OrganizationsService;
  audit: AuditService;
  publicUrl: string | undefined;
}

/**
 * Stripe payments: top-ups and subscriptions through Stripe Checkout, the Customer Portal, the organization's
 * plan and Stripe invoices (/api/billing/…), plans and the Stripe set-up for platform admins
 * (/api/admin/billing/…), and Stripe's webhook (/api/billing/stripe/webhook, authenticated by its signature).
 */
export function paymentsRoutes(deps: PaymentsRoutesDeps): FastifyPluginAsyncTypebox {
  const { payments, webhooks, config, organizations, audit } = deps;
  const record = (
    request: FastifyRequest,
    orgId: string | null,
    action: string,
    targetType: string,
    targetId: string | null,
    detail: Record<string, unknown>,
  ) => audit.record({ orgId, actor: actorOf(request.principal), action, targetType, targetId, ip: request.ip, detail });
  const billingPage = (request: FastifyRequest) => `${linkOrigin(deps.publicUrl, request)}/billing`;
  const orgOf = async (request: FastifyRequest) => {
    const org = await organizations.get(principalOf(request).orgId);
    return { id: org.id, name: org.name };
  };

  return async (app) => {
    const tags = ['billing'];
    app.get(
      '/api/billing/payments',
      {
        config: { permission: 'billing.read' },
        schema: {
          tags,
          summary: 'Whether Stripe payments are configured, the currency and the top-up bounds',
          security: bearerSecurity,
          response: { 200: PaymentsStatusSchema, ...errorResponses },
        },
      },
      async () => payments.status(),
    );

    app.post(
      '/api/billing/stripe/checkout',
      {
        config: { permission: 'billing.manage' },
        schema: {
          tags,
          summary: 'Start a top-up: a Stripe Checkout session; the balance is credited when Stripe confirms payment',
          security: bearerSecurity,
          body: TopUpBody,
          response: { 201: CheckoutSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const org = await orgOf(request);
        const page = billingPage(request);
        const session = await payments.topUpCheckout(org, request.body.amountMicros, {
          // Stripe fills in {CHECKOUT_SESSION_ID}: the page polls that session until its payment is credited.
          success: `${page}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
          cancel: `${page}?checkout=cancelled`,
        });
        await record(request, org.id, 'billing.stripe.checkout', 'stripe_checkout', session.sessionId, {
          amountMicros: request.body.amountMicros,
        });
        reply.code(201);
        return session;
      },
    );

    app.post(
      '/api/billing/stripe/subscribe',
      {
        config: { permission: 'billing.manage' },
        schema: {
          tags,
          summary: 'Subscribe to a plan: a Stripe Checkout session in subscription mode',
          security: bearerSecurity,
          body: SubscribeBody,
          response: { 201: CheckoutSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const org = await orgOf(request);
        const page = billingPage(request);
        const session = await payments.subscribeCheckout(org, request.body.planId, {
          success: `${page}?checkout=success`,
          cancel: `${page}?checkout=cancelled`,
        });
        await record(request, org.id, 'billing.stripe.subscribe', 'stripe_checkout', session.sessionId, {
          planId: request.body.planId,
        });
        reply.code(201);
        return session;
      },
    );

    app.post(
      '/api/billing/stripe/portal',
      {
        config: { permission: 'billing.manage' },
        schema: {
          tags,
          summary: "Open Stripe's Customer Portal: cards, invoices, plan changes and cancellation",
          security: bearerSecurity,
          response: { 201: PortalSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const portal = await payments.portal(await orgOf(request), billingPage(request));
        reply.code(201);
        return portal;
      },
    );

    app.get(
      '/api/billing/stripe/checkout/:sessionId',
      {
        config: { permission: 'billing.read' },
        schema: {
          tags,
          summary:
            "Where a top-up's Checkout session stands (open, processing: paid but Stripe's webhook not received yet, credited, expired)",
          security: bearerSecurity,
          params: CheckoutSessionParam,
          response: { 200: CheckoutStatusSchema, ...errorResponses },
        },
      },
      async (request) => payments.checkoutStatus(principalOf(request).orgId, request.params.sessionId),
    );

    app.get(
      '/api/billing/plans',
      {
        config: { permission: 'billing.read' },
        schema: {
          tags,
          summary: 'The subscription plans on offer',
          security: bearerSecurity,
          response: { 200: PlanListSchema, ...errorResponses },
        },
      },
      async () => ({ data: await payments.listPlans(true) }),
    );

    app.get(
      '/api/billing/subscription',
      {
        config: { permission: 'billing.read' },
        schema: {
          tags,
          summary: "The current organization's subscription (null: none)",
          security: bearerSecurity,
          response: { 200: SubscriptionSchema, ...errorResponses },
        },
      },
      async (request) => ({ subscription: await payments.subscription(principalOf(request).orgId) }),
    );

    app.get(
      '/api/billing/stripe-invoices',
      {
        config: { permission: 'billing.read' },
        schema: {
          tags,
          summary: "The current organization's Stripe invoices (subscriptions), newest first",
          security: bearerSecurity,
          querystring: InvoiceQuery,
          response: { 200: StripeInvoiceListSchema, ...errorResponses },
        },
      },
      async (request) => ({
        data: await payments.invoices(principalOf(request).orgId, request.query.limit ?? 50),
      }),
    );

    // Stripe signs the exact bytes it sends: this route alone keeps the raw body (the app's JSON parser
    // stays everywhere else).
    await app.register(async (raw) => {
      raw.removeContentTypeParser('application/json');
      raw.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
      raw.post(
        '/api/billing/stripe/webhook',
        {
          config: { permission: 'public' },
          schema: {
            tags,
            summary: "Stripe's webhook endpoint (authenticated by the Stripe-Signature header, not a token)",
            response: { 200: WebhookAnswerSchema, ...errorResponses },
          },
        },
        async (request) => {
          const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          const signature = request.headers['stripe-signature'];
          return webhooks.handle(body, typeof signature === 'string' ? signature : undefined, {
            ip: request.ip,
            log: request.log,
          });
        },
      );
    });

    const adminTags = ['admin: billing'];
    app.get(
      '/api/admin/billing/plans',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary: 'Every subscription plan, archived ones included',
          security: bearerSecurity,
          response: { 200: PlanListSchema, ...errorResponses },
        },
      },
      async () => ({ data: await payments.listPlans(false) }),
    );

    app.post(
      '/api/admin/billing/plans',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary: 'Create a plan (its Stripe product and recurring price are created, or an existing price is used)',
          security: bearerSecurity,
          body: PlanCreateBody,
          response: { 201: PlanSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const plan = await payments.createPlan(request.body);
        await record(request, null, 'billing.plan.create', 'billing_plan', plan.id, {
          name: plan.name,
          interval: plan.interval,
          priceMicros: plan.priceMicros,
          stripePriceId: plan.stripePriceId,
        });
        reply.code(201);
        return plan;
      },
    );

    app.patch(
      '/api/admin/billing/plans/:id',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary: 'Change what a plan grants, or archive it (its price is fixed: make a new plan for a new price)',
          security: bearerSecurity,
          params: IdParam,
          body: PlanPatchBody,
          response: { 200: PlanSchema, ...errorResponses },
        },
      },
      async (request) => {
        const plan = await payments.updatePlan(request.params.id, request.body);
        await record(request, null, 'billing.plan.update', 'billing_plan', plan.id, { ...request.body });
        return plan;
      },
    );

    app.get(
      '/api/admin/billing/stripe',
      {
        config: { permission: 'settings.manage' },
        schema: {
          tags: adminTags,
          summary: 'The Stripe set-up: whether keys are set (never the keys), top-up bounds, grace period',
          security: bearerSecurity,
          response: { 200: PaymentsConfigSchema, ...errorResponses },
        },
      },
      async () => config.view(),
    );

    app.patch(
      '/api/admin/billing/stripe',
      {
        config: { permission: 'settings.manage' },
        schema: {
          tags: adminTags,
          summary: 'Set the Stripe keys (stored encrypted), top-up bounds and the grace period after a failed payment',
          security: bearerSecurity,
          body: PaymentsConfigPatchBody,
          response: { 200: PaymentsConfigSchema, ...errorResponses },
        },
      },
      async (request) => {
        const view = await config.update(request.body);
        const { secretKey, webhookSecret, ...rest } = request.body;
        await record(request, null, 'billing.stripe.configure', 'settings', 'stripe', {
          ...rest,
          ...(secretKey !== undefined ? { secretKey: secretKey === null ? 'cleared' : 'set' } : {}),
          ...(webhookSecret !== undefined ? { webhookSecret: webhookSecret === null ? 'cleared' : 'set' } : {}),
        });
        return view;
      },
    );
  };
}
