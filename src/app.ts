import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { LogLevel } from './config/index.js';
import { ApiError } from './core/errors.js';
import { newId } from './core/ids.js';
import { createResponsesEndpoint, type Endpoint, registerResponsesRoutes, registerV1Routes } from './gateway/index.js';
import { DEFAULT_WEB_DIR, registerConsole } from './http/console.js';
import { registerErrorHandling } from './http/errors.js';
import { registerJsonParser } from './http/json-body.js';
import { lazyChildLoggerFactory } from './http/lazy-logger.js';
import { lazySchemaCompilers } from './http/lazy-schemas.js';
import { loggerOptions } from './http/log-options.js';
import { ErrorBody } from './http/schemas.js';
import type { TlsMaterial } from './http/tls.js';
import { logV1Request } from './http/v1-log.js';
import { jobRoutes } from './jobs/routes.js';
import { JobsService } from './jobs/service.js';
import { accessRuleRoutes } from './modules/access-rules/routes.js';
import { alertRoutes } from './modules/alerts/routes.js';
import { analyticsRoutes } from './modules/analytics/routes.js';
import { auditRoutes } from './modules/audit/routes.js';
import { createAccessHook } from './modules/auth/guard.js';
import { authRoutes } from './modules/auth/routes.js';
import { sessionRoutes } from './modules/auth/session-routes.js';
import { registerBatchRoutes } from './modules/batches/routes.js';
import { pricingGroupRoutes } from './modules/billing/groups-routes.js';
import { billingRoutes } from './modules/billing/routes.js';
import { channelRoutes } from './modules/channels/routes.js';
import { ChannelSchema } from './modules/channels/schema.js';
import { emailAuthRoutes } from './modules/email-auth/routes.js';
import { registerFilesRoutes } from './modules/files/routes.js';
import { invitationRoutes } from './modules/invitations/routes.js';
import { InvitationSchema } from './modules/invitations/schema.js';
import { keyRoutes } from './modules/keys/routes.js';
import { KeySchema } from './modules/keys/schema.js';
import { limitRoutes } from './modules/limits/routes.js';
import { linkOrigin } from './modules/mail/links.js';
import { mailRoutes } from './modules/mail/routes.js';
import { modelRoutes } from './modules/models/routes.js';
import { ModelSchema } from './modules/models/schema.js';
import { organizationRoutes } from './modules/organizations/routes.js';
import { MemberSchema, OrganizationSchema, RoleSchema } from './modules/organizations/schema.js';
import { paymentsRoutes } from './modules/payments/routes.js';
import { playgroundRoutes } from './modules/playground/routes.js';
import { providerRoutes } from './modules/providers/routes.js';
import { ProviderDescriptionSchema } from './modules/providers/schema.js';
import { settingsRoutes } from './modules/settings/routes.js';
import { ssoRoutes } from './modules/sso/routes.js';
import { SsoConnectionSchema } from './modules/sso/schema.js';
import { statementRoutes } from './modules/statements/index.js';
import { teamRoutes } from './modules/teams/routes.js';
import { TeamSchema } from './modules/teams/schema.js';
import { tlsRoutes } from './modules/tls/routes.js';
import type { CertificateStatus } from './modules/tls/schema.js';
import { fileCertificateStatus } from './modules/tls/service.js';
import { twoFactorRoutes } from './modules/two-factor/routes.js';
import { exportRoutes } from './modules/usage/export-routes.js';
import { usageRoutes } from './modules/usage/routes.js';
import { userAdminRoutes } from './modules/users/routes.js';
import { UserSchema } from './modules/users/schema.js';
import { registerMetricsRoute } from './observability/routes.js';
import type { Services } from './services.js';

const API_BODY_LIMIT = 1024 * 1024;

export interface BuildAppOptions {
  /** Pino logger options, or false for none (tests). */
  logger?: boolean | { level: LogLevel };
  /** Serve HTTPS with HTTP/2 (and HTTP/1.1 for clients that do not speak it) with this certificate. */
  tls?: TlsMaterial;
  /** Serve HTTPS even before `tls` exists: the ACME certificate arrives later (setSecureContext). */
  acme?: boolean;
  /** What GET /api/admin/tls answers (plain HTTP when absent). */
  certificateStatus?: () => CertificateStatus;
}

/** Build the HTTP app from its services. No side effects: the caller listens and closes. */
export async function buildApp(services: Services, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { config } = services;
  const app = Fastify({
    // One port for both: HTTP/2 where the client offers it (ALPN), HTTP/1.1 otherwise.
    ...((options.tls || options.acme ? { http2: true, https: { allowHTTP1: true, ...options.tls } } : {}) as object),
    logger:
      options.logger === false
        ? false
        : loggerOptions(typeof options.logger === 'object' ? options.logger.level : config.logLevel, config.logFormat),
    // Our own access lines instead: one per /api and /v1 request at info, the console's files at debug.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => newId('req'),
    requestIdHeader: false,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    // Each route's validators and serializers compiled on its first request: a /v1-only process never
    // holds the control plane's (~15 MiB).
    schemaController: { compilersFactory: lazySchemaCompilers() },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('principal', null);
  // While closing, keep closing connections that turn idle (a stream that just finished), so shutdown
  // does not wait for clients' keep-alive timeouts.
  app.addHook('preClose', async () => {
    // (An HTTP/2 server has no such method: Fastify closes its sessions itself.)
    const timer = setInterval(() => app.server.closeIdleConnections?.(), 100);
    app.server.once('close', () => clearInterval(timer));
  });
  // Synchronous (done callback): an async hook costs a promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  registerErrorHandling(app);
  registerJsonParser(app);

  if (config.corsOrigins !== false) {
    await app.register(cors, {
      origin: config.corsOrigins,
      credentials: config.corsOrigins !== true,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      exposedHeaders: ['x-request-id', 'retry-after'],
    });
  }
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'AI Hub API',
        version: '0.1.0',
        description: 'Control plane (/api) of AI Hub. The data plane (/v1) follows the OpenAI and Anthropic APIs.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    // Every operation says which permission it needs (x-permission), from the route's declaration.
    transform: ({ schema, url, route }) => ({
      schema: { ...schema, 'x-permission': route.config?.permission } as typeof schema,
      url,
    }),
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  app.addSchema(ErrorBody);
  app.addSchema(UserSchema);
  app.addSchema(KeySchema);
  app.addSchema(ChannelSchema);
  app.addSchema(ModelSchema);
  app.addSchema(ProviderDescriptionSchema);
  app.addSchema(OrganizationSchema);
  app.addSchema(MemberSchema);
  app.addSchema(RoleSchema);
  app.addSchema(TeamSchema);
  app.addSchema(InvitationSchema);
  app.addSchema(SsoConnectionSchema);

  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/ready', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await services.database.ping();
      return { status: 'ready', database: services.database.engine };
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: services.database.engine });
    }
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  services.observability.metrics?.watchCertificate(
    options.certificateStatus ?? (() => fileCertificateStatus(undefined)),
  );
  registerMetricsRoute(app, services.observability.metrics, config.metrics.token, config.metrics.allowIps);

  // Control plane and docs: security headers, a smaller body limit and an access log; the /v1 hot path has none of these.
  await app.register(async (scope) => {
    // Cookies (the console's refresh token) only here: on the root their hooks ran on every /v1 request.
    await scope.register(cookie);
    await scope.register(helmet, {
      // Plain-HTTP deployments (an IP and a port) must keep working: no forced upgrade, no HSTS here;
      // the TLS-terminating proxy sets HSTS.
      hsts: false,
      contentSecurityPolicy: {
        directives: {
          upgradeInsecureRequests: null,
          defaultSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          styleSrc: ["'self'", "'unsafe-inline'"],
          scriptSrc: ["'self'"],
        },
      },
    });
    // Global IP rules for /api, /docs and the console run before anything else.
    scope.addHook('onRequest', async (request) => services.accessRules.enforce('api', request.ip));
    // Authorization of every /api route: its declared permission, in the organization the request is about.
    scope.addHook(
      'onRequest',
      createAccessHook(services.auth, services.access, {
        policy: services.twoFactor,
        emailVerificationRequired: () => services.settings.get().emailVerificationRequired,
      }),
    );
    scope.addHook('onRoute', (route) => {
      if (route.url.startsWith('/api') && route.bodyLimit === undefined) route.bodyLimit = API_BODY_LIMIT;
    });
    scope.addHook('onResponse', async (request, reply) => {
      const url = request.url.split('?')[0] ?? '';
      // The console's files and the docs page at debug: a page load fetches dozens of them.
      const level = url.startsWith('/api/') ? 'info' : 'debug';
      const ms = Math.round(reply.elapsedTime);
      request.log[level](
        { method: request.method, url, status: reply.statusCode, ms },
        `${request.method} ${url} ${reply.statusCode} ${ms} ms`,
      );
    });
    await scope.register(swaggerUi, { routePrefix: '/docs' });
    await scope.register(
      authRoutes({
        auth: services.auth,
        users: services.users,
        access: services.access,
        onRegistered: (user, request) =>
          services.emailAuth.sendVerification(user, linkOrigin(config.publicUrl, request)),
      }),
    );
    await scope.register(emailAuthRoutes({ emailAuth: services.emailAuth, publicUrl: config.publicUrl }));
    await scope.register(
      invitationRoutes({ invitations: services.invitations, auth: services.auth, publicUrl: config.publicUrl }),
    );
    await scope.register(mailRoutes({ mailer: services.mailer }));
    await scope.register(
      ssoRoutes({
        connections: services.sso.connections,
        flow: services.sso.flow,
        audit: services.audit,
        publicUrl: services.config.publicUrl,
      }),
    );
    await scope.register(sessionRoutes({ auth: services.auth, users: services.users }));
    await scope.register(
      twoFactorRoutes({ twoFactor: services.twoFactor, users: services.users, organizations: services.organizations }),
    );
    await scope.register(
      organizationRoutes({
        organizations: services.organizations,
        audit: services.audit,
        twoFactorEnabled: (userId) => services.twoFactor.isEnabled(userId),
      }),
    );
    await scope.register(
      userAdminRoutes({ users: services.users, audit: services.audit, organizations: services.organizations }),
    );
    await scope.register(keyRoutes({ keys: services.keys }));
    await scope.register(auditRoutes({ audit: services.audit }));
    await scope.register(
      settingsRoutes({
        settings: services.settings,
        audit: services.audit,
        countAdmins: () => services.users.countActiveAdmins(),
      }),
    );
    await scope.register(
      channelRoutes({
        channels: services.channels,
        gateway: services.gateway,
        audit: services.audit,
      }),
    );
    await scope.register(providerRoutes());
    await scope.register(modelRoutes({ models: services.models, audit: services.audit }));
    await scope.register(
      usageRoutes({
        logs: services.logs,
        summary: services.usageSummary,
        keys: services.keys,
        verifier: services.keyVerifier,
        limits: services.limits,
        clock: services.clock,
      }),
    );
    await scope.register(analyticsRoutes({ analytics: services.analytics, now: () => services.clock.now() }));
    await scope.register(
      limitRoutes({
        limits: services.limits,
        users: services.users,
        teams: services.teams,
        summary: services.usageSummary,
        audit: services.audit,
        organizations: services.organizations,
      }),
    );
    await scope.register(teamRoutes({ teams: services.teams, audit: services.audit }));
    await scope.register(accessRuleRoutes({ rules: services.accessRules, audit: services.audit }));
    await scope.register(tlsRoutes({ status: options.certificateStatus ?? (() => fileCertificateStatus(undefined)) }));
    const { endpoint: playgroundResponses } = createResponsesEndpoint({
      store: services.responses,
      clock: services.clock,
    });
    await scope.register(
      playgroundRoutes(services.gateway, services.organizations, playgroundResponses as Endpoint<unknown, unknown>),
    );
    const jobsService = new JobsService(services.jobs, services.audit);
    await scope.register(jobRoutes({ jobs: jobsService }));
    await scope.register(exportRoutes({ jobs: jobsService, blobs: services.blobs }));
    await scope.register(
      billingRoutes({
        billing: services.billing.service,
        redemption: services.billing.redemption,
        audit: services.audit,
      }),
    );
    await scope.register(
      paymentsRoutes({
        payments: services.payments.service,
        webhooks: services.payments.webhooks,
        config: services.payments.config,
        organizations: services.organizations,
        audit: services.audit,
        publicUrl: config.publicUrl,
      }),
    );
    await scope.register(pricingGroupRoutes({ groups: services.billing.groups, audit: services.audit }));
    await scope.register(
      statementRoutes({ statements: services.statements, jobs: services.jobs, audit: services.audit }),
    );
    await scope.register(alertRoutes({ alerts: services.alerts.service, audit: services.audit }));
    await registerConsole(scope, services.config.webDir ?? DEFAULT_WEB_DIR);
  });

  // Data plane: OpenAI- and Anthropic-compatible API (the hot path).
  await app.register(async (v1) => {
    v1.setChildLoggerFactory(lazyChildLoggerFactory);
    // One line per request: model calls log theirs when their usage is settled (gateway/pipeline/ledger.ts).
    v1.addHook('onResponse', (request, reply, done) => {
      logV1Request(request, reply);
      done();
    });
    v1.addHook('onRequest', (request, _reply, done) => {
      if (services.accessRules.check('v1', request.ip)) return done();
      done(new ApiError('ip_not_allowed', `Requests from ${request.ip} are not allowed here`));
    });
    registerV1Routes(v1, services.gateway, { uploadLimitBytes: config.uploadLimitBytes });
    registerResponsesRoutes(v1, services.gateway, {
      store: services.responses,
      clock: services.clock,
      jobs: services.jobs,
    });
    // The Files and Batch APIs (multipart only inside the files routes' own scope).
    await registerFilesRoutes(v1, {
      gateway: services.gateway,
      files: services.batchApi.files,
      fileMaxBytes: config.batch.fileMaxBytes,
    });
    registerBatchRoutes(v1, { gateway: services.gateway, batches: services.batchApi.batches });
  });

  return app;
}
