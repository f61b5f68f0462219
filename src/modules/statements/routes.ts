import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import { JobSchema } from '../../jobs/schema.js';
import type { JobQueue } from '../../jobs/types.js';
import type { AuditService } from '../audit/service.js';
import { principalOf } from '../auth/guard.js';
import { actorOf, userIdOf } from '../auth/principal.js';
import { STATEMENTS_JOB, type StatementRunPayload } from './jobs.js';
import {
  AdminStatementQuery,
  CreditNoteBody,
  ReissueBody,
  RevenueQuery,
  RevenueSchema,
  RunBody,
  StatementDetailSchema,
  StatementList,
  StatementQuery,
  StatementSchema,
} from './schema.js';
import type { StatementService } from './service.js';

export interface StatementRoutesDeps {
  statements: StatementService;
  jobs: JobQueue;
  audit: AuditService;
}

/**
 * Statements: the current organization's (/api/billing/statements, with CSV and PDF downloads) and the
 * platform admin's side — every organization's, "issue now" (a job), credit notes, corrected statements,
 * and the revenue/margin report (/api/admin/billing/…).
 */
export function statementRoutes({ statements, jobs, audit }: StatementRoutesDeps): FastifyPluginAsyncTypebox {
  const record = (
    request: FastifyRequest,
    orgId: string | null,
    action: string,
    targetId: string,
    detail: Record<string, unknown>,
  ) =>
    audit.record({
      orgId,
      actor: actorOf(request.principal),
      action,
      targetType: 'statement',
      targetId,
      ip: request.ip,
      detail,
    });
  const sendCsv = async (reply: FastifyReply, id: string, orgId: string | null) => {
    const { number, body } = await statements.csv(id, orgId);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${number}.csv"`)
      .send(body);
  };
  const sendPdf = async (reply: FastifyReply, id: string, orgId: string | null) => {
    const { number, body } = await statements.pdf(id, orgId);
    return reply
      .header('content-type', 'application/pdf')
      .header('content-disposition', `attachment; filename="${number}.pdf"`)
      .send(body);
  };

  return async (app) => {
    const tags = ['billing'];
    const read = { permission: 'billing.read' } as const;
    app.get(
      '/api/billing/statements',
      {
        config: read,
        schema: {
          tags,
          summary: "The current organization's statements, corrected statements and credit notes, newest first",
          security: bearerSecurity,
          querystring: StatementQuery,
          response: { 200: StatementList, ...errorResponses },
        },
      },
      async (request) => ({
        data: await statements.list({
          orgId: principalOf(request).orgId,
          period: request.query.period,
          limit: request.query.limit ?? 100,
          offset: request.query.offset ?? 0,
        }),
      }),
    );

    app.get(
      '/api/billing/statements/:id',
      {
        config: read,
        schema: {
          tags,
          summary: 'One statement with its lines: usage by model, team and key, and the balance movements',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: StatementDetailSchema, ...errorResponses },
        },
      },
      async (request) => statements.get(request.params.id, principalOf(request).orgId),
    );

    app.get(
      '/api/billing/statements/:id/csv',
      {
        config: read,
        schema: { tags, summary: 'A statement as CSV', security: bearerSecurity, params: IdParam },
      },
      async (request, reply) => sendCsv(reply, request.params.id, principalOf(request).orgId),
    );

    app.get(
      '/api/billing/statements/:id/pdf',
      {
        config: read,
        schema: { tags, summary: 'A statement as PDF', security: bearerSecurity, params: IdParam },
      },
      async (request, reply) => sendPdf(reply, request.params.id, principalOf(request).orgId),
    );

    const adminTags = ['admin: billing'];
    const admin = { permission: 'platform.organizations' } as const;
    app.get(
      '/api/admin/billing/statements',
      {
        config: admin,
        schema: {
          tags: adminTags,
          summary: "Every organization's statements, newest first (filter by organization and period)",
          security: bearerSecurity,
          querystring: AdminStatementQuery,
          response: { 200: StatementList, ...errorResponses },
        },
      },
      async (request) => ({
        data: await statements.list({
          orgId: request.query.orgId ?? null,
          period: request.query.period,
          limit: request.query.limit ?? 100,
          offset: request.query.offset ?? 0,
        }),
      }),
    );

    app.post(
      '/api/admin/billing/statements/run',
      {
        config: admin,
        schema: {
          tags: adminTags,
          summary: 'Issue the statements of a month now (a job; statements that exist are kept)',
          security: bearerSecurity,
          body: RunBody,
          response: { 202: JobSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        // Refuse a bad period here, not in a failed job.
        const period = statements.period(request.body.period).period;
        const principal = principalOf(request);
        const payload: StatementRunPayload = {
          period,
          ...(request.body.orgId !== undefined ? { orgId: request.body.orgId } : {}),
          actor: userIdOf(principal) ?? 'master',
        };
        const job = await jobs.enqueue(STATEMENTS_JOB, payload, { userId: userIdOf(principal) });
        await record(request, null, 'billing.statements.run', job.id, { period, orgId: request.body.orgId ?? null });
        reply.code(202);
        return job;
      },
    );

    app.get(
      '/api/admin/billing/statements/:id',
      {
        config: admin,
        schema: {
          tags: adminTags,
          summary: "Any organization's statement with its lines",
          security: bearerSecurity,
          params: IdParam,
          response: { 200: StatementDetailSchema, ...errorResponses },
        },
      },
      async (request) => statements.get(request.params.id, null),
    );

    app.get(
      '/api/admin/billing/statements/:id/csv',
      {
        config: admin,
        schema: {
          tags: adminTags,
          summary: "Any organization's statement as CSV",
          security: bearerSecurity,
          params: IdParam,
        },
      },
      async (request, reply) => sendCsv(reply, request.params.id, null),
    );

    app.get(
      '/api/admin/billing/statements/:id/pdf',
      {
        config: admin,
        schema: {
          tags: adminTags,
          summary: "Any organization's statement as PDF",
          security: bearerSecurity,
          params: IdParam,
        },
      },
      async (request, reply) => sendPdf(reply, request.params.id, null),
    );

    app.post(
      '/api/admin/billing/statements/:id/credit-note',
      {
        config: admin,
        schema: {
          tags: adminTags,
          summary: 'Issue a credit note against a document (a new, numbered document; the original is unchanged)',
          security: bearerSecurity,
          params: IdParam,
          body: CreditNoteBody,
          response: { 201: StatementSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const note = await statements.creditNote(
          request.params.id,
          request.body.amountMicros,
          request.body.reason,
          userIdOf(principalOf(request)) ?? 'master',
        );
        await record(request, note.orgId, 'billing.statements.credit_note', note.id, {
          corrects: request.params.id,
          amountMicros: request.body.amountMicros,
          reason: note.reason,
        });
        reply.code(201);
        return note;
      },
    );

    app.post(
      '/api/admin/billing/statements/:id/reissue',
      {
        config: admin,
        schema: {
          tags: adminTags,
          summary: 'Issue a corrected statement: the same period recomputed from the data as it is now',
          security: bearerSecurity,
          params: IdParam,
          body: ReissueBody,
          response: { 201: StatementSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const corrected = await statements.reissue(
          request.params.id,
          request.body.reason,
          userIdOf(principalOf(request)) ?? 'master',
        );
        await record(request, corrected.orgId, 'billing.statements.reissue', corrected.id, {
          corrects: request.params.id,
          reason: corrected.reason,
        });
        reply.code(201);
        return corrected;
      },
    );

    app.get(
      '/api/admin/billing/revenue',
      {
        config: admin,
        schema: {
          tags: adminTags,
          summary: 'List price, cost and margin per day or month (from the request log)',
          security: bearerSecurity,
          querystring: RevenueQuery,
          response: { 200: RevenueSchema, ...errorResponses },
        },
      },
      async (request) =>
        statements.revenue(
          request.query.from,
          request.query.to,
          request.query.interval ?? 'day',
          request.query.orgId ?? null,
        ),
    );
  };
}
