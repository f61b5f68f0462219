import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { bearerSecurity, errorResponses, IdParam, requireStrings } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { principalOf } from '../auth/guard.js';
import { actorOf, userIdOf } from '../auth/principal.js';
import type { RedemptionService } from './redemption.js';
import {
  AdjustmentBody,
  BatchCreateBody,
  BatchCreatedSchema,
  BatchPatchBody,
  BatchSchema,
  MemberAdjustmentBody,
  MemberWalletListSchema,
  RedeemBody,
  TransactionListSchema,
  TransactionQuery,
  TransactionSchema,
  WalletListSchema,
  WalletPatchBody,
  WalletSchema,
} from './schema.js';
import type { BillingService } from './service.js';

export interface BillingRoutesDeps {
  billing: BillingService;
  redemption: RedemptionService;
  audit: AuditService;
}

const PAYMENT_REQUIRED = { 402: Type.Ref('ErrorBody'), 410: Type.Ref('ErrorBody') };

/**
 * Billing: the current organization's wallet, ledger and code redemption (/api/billing), and the platform
 * admin's side — every wallet, billing modes, manual adjustments and redemption-code batches
 * (/api/admin/billing, /api/admin/organizations/:id/billing).
 */
export function billingRoutes({ billing, redemption, audit }: BillingRoutesDeps): FastifyPluginAsyncTypebox {
  const record = (
    request: FastifyRequest,
    orgId: string | null,
    action: string,
    targetType: string,
    targetId: string,
    detail: Record<string, unknown>,
  ) => audit.record({ orgId, actor: actorOf(request.principal), action, targetType, targetId, ip: request.ip, detail });

  return async (app) => {
    const tags = ['billing'];
    app.get(
      '/api/billing',
      {
        config: { permission: 'billing.read' },
        schema: {
          tags,
          summary: "The current organization's wallet: balance, billing mode, low-balance thresholds, currency",
          security: bearerSecurity,
          response: { 200: WalletSchema, ...errorResponses },
        },
      },
      async (request) => billing.wallet(principalOf(request).orgId),
    );

    app.get(
      '/api/billing/transactions',
      {
        config: { permission: 'billing.read' },
        schema: {
          tags,
          summary: "The current organization's ledger, newest first",
          security: bearerSecurity,
          querystring: TransactionQuery,
          response: { 200: TransactionListSchema, ...errorResponses },
        },
      },
      async (request) => {
        const limit = request.query.limit ?? 50;
        const data = await billing.transactions(principalOf(request).orgId, limit, request.query.before);
        return { data, next: data.length === limit ? (data[data.length - 1]?.id ?? null) : null };
      },
    );

    app.post(
      '/api/billing/redeem',
      {
        config: { permission: 'billing.manage' },
        preValidation: requireStrings('code'),
        schema: {
          tags,
          summary: "Redeem a code: its amount is credited to the current organization's balance",
          security: bearerSecurity,
          body: RedeemBody,
          response: { 201: TransactionSchema, ...errorResponses, ...PAYMENT_REQUIRED },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const credited = await redemption.redeem(request.body.code, {
          orgId: principal.orgId,
          userId: userIdOf(principal),
          ip: request.ip,
        });
        reply.code(201);
        return credited;
      },
    );

    const adminTags = ['admin: billing'];
    app.get(
      '/api/admin/billing/wallets',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary: "Every organization's wallet (organizations that never had one are at zero, postpaid)",
          security: bearerSecurity,
          response: { 200: WalletListSchema, ...errorResponses },
        },
      },
      async () => ({ data: await billing.listWallets() }),
    );

    app.patch(
      '/api/admin/organizations/:id/billing',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary: "Set an organization's billing mode (postpaid or prepaid) and low-balance thresholds",
          security: bearerSecurity,
          params: IdParam,
          body: WalletPatchBody,
          response: { 200: WalletSchema, ...errorResponses },
        },
      },
      async (request) => {
        const wallet = await billing.configure(request.params.id, request.body);
        await record(request, request.params.id, 'billing.configure', 'organization', request.params.id, {
          ...request.body,
        });
        return wallet;
      },
    );

    app.post(
      '/api/admin/organizations/:id/billing/adjustments',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary: "Credit or debit an organization's balance by hand, with a reason",
          security: bearerSecurity,
          params: IdParam,
          body: AdjustmentBody,
          response: { 201: TransactionSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const entry = await billing.adjust(
          request.params.id,
          request.body.amountMicros,
          request.body.reason,
          userIdOf(principal) ?? 'master',
        );
        await record(request, request.params.id, 'billing.adjust', 'organization', request.params.id, {
          amountMicros: entry.amountMicros,
          reason: entry.reason,
          transactionId: entry.id,
        });
        reply.code(201);
        return entry;
      },
    );

    app.get(
      '/api/admin/organizations/:id/billing/member-wallets',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary:
            "An organization's team and user wallets, and which of them prepaid requests use (billingMemberWallets)",
          security: bearerSecurity,
          params: IdParam,
          response: { 200: MemberWalletListSchema, ...errorResponses },
        },
      },
      async (request) => ({ mode: billing.memberWalletMode(), data: await billing.memberWallets(request.params.id) }),
    );

    app.post(
      '/api/admin/organizations/:id/billing/member-wallets/adjustments',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary:
            "Top up (or debit) a team's or a member's wallet by hand, with a reason (the wallet is created on first use)",
          security: bearerSecurity,
          params: IdParam,
          body: MemberAdjustmentBody,
          response: { 201: TransactionSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const entry = await billing.adjustMember(
          request.params.id,
          { type: request.body.ownerType, id: request.body.ownerId },
          request.body.amountMicros,
          request.body.reason,
          userIdOf(principal) ?? 'master',
        );
        await record(request, request.params.id, 'billing.adjust', request.body.ownerType, request.body.ownerId, {
          walletId: entry.walletId,
          amountMicros: entry.amountMicros,
          reason: entry.reason,
          transactionId: entry.id,
        });
        reply.code(201);
        return entry;
      },
    );

    app.get(
      '/api/admin/organizations/:id/billing/member-wallets/:walletId/transactions',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary: "A team or user wallet's ledger, newest first",
          security: bearerSecurity,
          params: Type.Object({
            id: Type.String({ minLength: 1, maxLength: 64 }),
            walletId: Type.String({ minLength: 1, maxLength: 64 }),
          }),
          querystring: TransactionQuery,
          response: { 200: TransactionListSchema, ...errorResponses },
        },
      },
      async (request) => {
        const limit = request.query.limit ?? 50;
        const data = await billing.memberTransactions(
          request.params.id,
          request.params.walletId,
          limit,
          request.query.before,
        );
        return { data, next: data.length === limit ? (data[data.length - 1]?.id ?? null) : null };
      },
    );

    app.get(
      '/api/admin/billing/redemption-batches',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary: 'Every batch of redemption codes, newest first',
          security: bearerSecurity,
          response: { 200: Type.Object({ data: Type.Array(BatchSchema) }), ...errorResponses },
        },
      },
      async () => ({ data: await redemption.listBatches() }),
    );

    app.post(
      '/api/admin/billing/redemption-batches',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary: 'Generate a batch of redemption codes (amount, count, expiry, uses per code, prefix)',
          security: bearerSecurity,
          body: BatchCreateBody,
          response: { 201: BatchCreatedSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const created = await redemption.createBatch(request.body, userIdOf(principalOf(request)));
        const { batch } = created;
        await record(request, null, 'billing.codes.create', 'redemption_batch', batch.id, {
          name: batch.name,
          count: batch.count,
          amountMicros: batch.amountMicros,
          maxUses: batch.maxUses,
          expiresAt: batch.expiresAt,
        });
        reply.code(201);
        return created;
      },
    );

    app.patch(
      '/api/admin/billing/redemption-batches/:id',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary: 'Disable (or enable again) every code of a batch',
          security: bearerSecurity,
          params: IdParam,
          body: BatchPatchBody,
          response: { 200: BatchSchema, ...errorResponses },
        },
      },
      async (request) => {
        const batch = await redemption.setStatus(request.params.id, request.body.status);
        await record(
          request,
          null,
          `billing.codes.${request.body.status === 'disabled' ? 'disable' : 'enable'}`,
          'redemption_batch',
          batch.id,
          {},
        );
        return batch;
      },
    );

    app.get(
      '/api/admin/billing/redemption-batches/:id/codes.csv',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: adminTags,
          summary: "A batch's codes as CSV",
          security: bearerSecurity,
          params: IdParam,
        },
      },
      async (request, reply) => {
        const { batch, csv } = await redemption.exportCsv(request.params.id);
        await record(request, null, 'billing.codes.export', 'redemption_batch', batch.id, {});
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="aihub-codes-${batch.id}.csv"`)
          .send(csv);
      },
    );
  };
}
