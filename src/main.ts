import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { registerAnalyticsCommands } from './cli/analytics.js';
import { CONFIG_VARIABLES, type Config, ConfigError, isEmail, loadConfig, readEnvironment } from './config/index.js';
import { openDatabase } from './infra/db/client.js';
import { masterPrincipal } from './modules/access/service.js';
import { SYSTEM_ACTOR } from './modules/audit/service.js';
import { openRuntime, startServer } from './server.js';

function config(): Config {
  return loadConfig(readEnvironment());
}

async function withRuntime<T>(fn: (runtime: Awaited<ReturnType<typeof openRuntime>>) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(config());
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

/** The configured database, opened without migrating it (backup, restore, dry runs). */
async function withDatabase<T>(fn: (database: ReturnType<typeof openDatabase>) => Promise<T>): Promise<T> {
  const c = config();
  const database = openDatabase({ url: c.databaseUrl, dataDir: c.dataDir, poolSize: 2 });
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

/** The `aihub` command line. */
export function buildCli(): Command {
  const program = new Command('aihub')
    .description('AI Hub: a self-hosted AI gateway and developer platform')
    .version('0.1.0')
    .showHelpAfterError();

  program
    .command('start')
    .description('Run the server (migrates the database first)')
    .action(async () => {
      await startServer(config());
    });

  program
    .command('worker')
    .description('Run job workers without the HTTP server (the server runs them too unless AIHUB_WORKERS=false)')
    .action(async () => {
      const { runWorker } = await import('./jobs/worker.js');
      await runWorker(config());
    });

  program
    .command('migrate')
    .description('Bring the database schema up to date, then exit')
    .option('--dry-run', 'list the migrations that would run, change nothing', false)
    .action(async (opts: { dryRun: boolean }) => {
      if (opts.dryRun) {
        await withDatabase(async (database) => {
          const { pendingMigrations } = await import('./infra/db/migrate.js');
          const pending = await pendingMigrations(database.db);
          console.log(
            pending.length === 0
              ? `Nothing to do: ${database.engine} ${database.location} is up to date.`
              : `Would apply ${pending.length} migration(s) to ${database.engine} ${database.location}:\n${pending.map((m) => `  ${m}`).join('\n')}`,
          );
        });
        return;
      }
      await withRuntime(async (rt) => {
        console.log(`Database is up to date (${rt.database.engine} ${rt.database.location}).`);
      });
    });

  program
    .command('backup')
    .description('Write a consistent backup of the whole database to a file (works while the server runs)')
    .requiredOption('--to <file>', 'backup file to write (gzipped JSON lines; restores into SQLite or PostgreSQL)')
    .action(async (opts: { to: string }) => {
      const { backupDatabase } = await import('./infra/db/backup.js');
      await withDatabase(async (database) => {
        const { tables } = await backupDatabase(database, opts.to);
        const rows = tables.reduce((sum, t) => sum + t.rows, 0);
        console.log(
          `Backed up ${rows} rows of ${tables.length} tables from ${database.engine} ${database.location} to ${opts.to}.`,
        );
        console.log('Keep the secret key (AIHUB_SECRET_KEY or secret.key) with it: stored provider keys need it.');
      });
    });

  program
    .command('restore')
    .description('Restore a backup into the configured database (empty, or replaced with --force)')
    .requiredOption('--from <file>', 'backup file written by `aihub backup`')
    .option('--force', 'replace everything in a database that is not empty', false)
    .action(async (opts: { from: string; force: boolean }) => {
      const { RestoreError, restoreDatabase } = await import('./infra/db/backup.js');
      await withDatabase(async (database) => {
        try {
          const { header, tables, migratedAfter } = await restoreDatabase(database, opts.from, { replace: opts.force });
          const rows = tables.reduce((sum, t) => sum + t.rows, 0);
          console.log(
            `Restored ${rows} rows of ${tables.length} tables (backup of ${header.createdAt}, ${header.engine}) into ${database.engine} ${database.location}.`,
          );
          if (migratedAfter.length > 0) console.log(`Then applied ${migratedAfter.length} newer migration(s).`);
        } catch (error) {
          if (error instanceof RestoreError) throw new CliError(error.message);
          throw error;
        }
      });
    });

  program
    .command('doctor')
    .description('Check configuration, database, Redis and the providers, and say what to fix')
    .option('--timeout <ms>', 'time each network check may take', '5000')
    .action(async (opts: { timeout: string }) => {
      const { printFindings, runDoctor } = await import('./cli/doctor.js');
      const findings = await runDoctor({ env: readEnvironment(), timeoutMs: Number(opts.timeout) || 5000 });
      if (printFindings(findings)) process.exitCode = 1;
    });

  const user = program.command('user').description('Manage users');
  user
    .command('create')
    .description('Create a user (prints a generated password when --password is not given)')
    .requiredOption('--email <email>', 'email address (the sign-in name)')
    .option('--password <password>', 'password, at least 8 characters')
    .option('--name <name>', 'display name')
    .option('--admin', 'make the user an instance admin', false)
    .action(async (opts: { email: string; password?: string; name?: string; admin: boolean }) => {
      if (!isEmail(opts.email)) throw new CliError(`--email "${opts.email}" is not an email address`);
      const password = opts.password ?? randomBytes(12).toString('base64url');
      if (password.length < 8) throw new CliError('--password must be at least 8 characters');
      await withRuntime(async ({ services }) => {
        const created = await services.users.create({
          email: opts.email,
          password,
          name: opts.name,
          role: opts.admin ? 'admin' : 'user',
        });
        await services.audit.record({
          orgId: created.org_id,
          actor: SYSTEM_ACTOR,
          action: 'user.create',
          targetType: 'user',
          targetId: created.id,
          detail: { email: created.email, role: created.role, source: 'cli' },
        });
        console.log(`Created ${created.role} ${created.email} (${created.id})`);
        if (!opts.password) console.log(`Password: ${password}`);
      });
    });

  user
    .command('reset-2fa')
    .description(
      'Turn off a user’s two-factor authentication (lost device); they sign in with the password and enrol again',
    )
    .requiredOption('--user <emailOrId>', "the user's email or id")
    .action(async (opts: { user: string }) => {
      await withRuntime(async ({ services }) => {
        const target = opts.user.includes('@')
          ? await services.users.findByEmail(opts.user)
          : await services.users.get(opts.user).catch(() => undefined);
        if (!target) throw new CliError(`No user ${opts.user}`);
        await services.twoFactor.reset(target, SYSTEM_ACTOR, { ip: null, userAgent: 'aihub cli' });
        console.log(`Two-factor authentication of ${target.email} is off; they sign in with their password.`);
      });
    });

  const org = program.command('org').description('Manage organizations');
  org
    .command('list')
    .description('List every organization with its slug, status and member count')
    .action(async () => {
      await withRuntime(async ({ services }) => {
        for (const o of await services.organizations.listFor(masterPrincipal()))
          console.log(
            `${o.id}  ${o.slug.padEnd(24)} ${o.status.padEnd(8)} ${String(o.members).padStart(5)} members  ${o.name}`,
          );
      });
    });
  org
    .command('create')
    .description('Create an organization, optionally with an owner')
    .requiredOption('--name <name>', 'display name')
    .option('--slug <slug>', 'short name used in URLs and the x-aihub-organization header')
    .option('--owner <email>', 'make this existing account its owner')
    .action(async (opts: { name: string; slug?: string; owner?: string }) => {
      await withRuntime(async ({ services }) => {
        const owner = opts.owner ? await services.users.findByEmail(opts.owner) : undefined;
        if (opts.owner && !owner) throw new CliError(`No user ${opts.owner}`);
        const created = await services.organizations.create({ name: opts.name, slug: opts.slug }, masterPrincipal());
        if (owner) await services.organizations.addMember(created.id, owner.id, 'owner');
        await services.audit.record({
          orgId: created.id,
          actor: SYSTEM_ACTOR,
          action: 'organization.create',
          targetType: 'organization',
          targetId: created.id,
          detail: { name: created.name, slug: created.slug, source: 'cli' },
        });
        console.log(`Created organization ${created.name} (${created.id}, slug ${created.slug})`);
      });
    });
  org
    .command('add-member')
    .description('Add an existing account to an organization with a role')
    .requiredOption('--org <idOrSlug>', 'the organization')
    .requiredOption('--email <email>', "the account's email")
    .option(
      '--role <role>',
      'owner, admin, billing_manager, team_admin, developer, viewer, auditor or a custom role',
      'developer',
    )
    .action(async (opts: { org: string; email: string; role: string }) => {
      await withRuntime(async ({ services }) => {
        const found = await services.organizations.findOrg(opts.org);
        if (!found) throw new CliError(`No organization ${opts.org}`);
        const member = await services.organizations.addMemberByEmail(
          found.id,
          opts.email,
          opts.role,
          masterPrincipal(found.id),
        );
        await services.audit.record({
          orgId: found.id,
          actor: SYSTEM_ACTOR,
          action: 'member.add',
          targetType: 'user',
          targetId: member.userId,
          detail: { role: member.role, source: 'cli' },
        });
        console.log(`Added ${member.email} to ${found.name} as ${member.role}`);
      });
    });

  const key = program.command('key').description('Manage API keys');
  key
    .command('create')
    .description('Create an API key for a user and print its secret (shown once)')
    .requiredOption('--user <emailOrId>', "the key owner's email or id")
    .option('--name <name>', 'a name to recognise the key by', 'cli')
    .addOption(
      new Option('--expires-in-days <days>', 'expire after this many days').argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1)
          throw new CliError('--expires-in-days must be a whole number of days, at least 1');
        return n;
      }),
    )
    .option('--org <idOrSlug>', "the organization the key belongs to (default: the owner's home organization)")
    .action(async (opts: { user: string; name: string; expiresInDays?: number; org?: string }) => {
      await withRuntime(async ({ services }) => {
        const owner = opts.user.includes('@')
          ? await services.users.findByEmail(opts.user)
          : await services.users.get(opts.user).catch(() => undefined);
        if (!owner) throw new CliError(`No user ${opts.user}`);
        const orgId = opts.org ? (await services.organizations.findOrg(opts.org))?.id : owner.org_id;
        if (!orgId) throw new CliError(`No organization ${opts.org}`);
        if (!(await services.organizations.isMember(orgId, owner.id)))
          throw new CliError(`${owner.email} is not a member of ${opts.org ?? orgId}`);
        const expiresAt = opts.expiresInDays ? services.clock.now() + opts.expiresInDays * 86_400_000 : null;
        const created = await services.keys.create(
          { name: opts.name, expiresAt, userId: owner.id },
          { principal: masterPrincipal(orgId), ip: null },
        );
        console.log(`Created key ${created.key.id} for ${owner.email}. Store the secret now; it is not shown again:`);
        console.log(created.secret);
      });
    });

  const billing = program.command('billing').description('Balances and the ledger');
  billing
    .command('verify')
    .description(
      "Check that every wallet's balance (organizations', teams' and users') is the sum of its ledger (exit 1 otherwise)",
    )
    .action(async () => {
      await withRuntime(async ({ services }) => {
        await services.billing.charger.flush();
        const wrong = await services.billing.service.verify();
        for (const w of wrong)
          console.error(
            `${w.walletId ? `${w.orgId} wallet ${w.walletId}` : w.orgId}: balance ${w.balance} but the ledger sums to ${w.ledger} (micro-units)`,
          );
        if (wrong.length > 0) throw new CliError(`${wrong.length} wallet(s) do not match their ledger`);
        console.log('Every balance is the sum of its ledger.');
      });
    });

  registerAnalyticsCommands(program, withRuntime, (message) => new CliError(message));

  const cfg = program.command('config').description('Configuration');
  cfg
    .command('check')
    .description('Validate the configuration (environment and .env) and print the effective values')
    .action(() => {
      const c = config();
      const shown: Record<string, string> = {
        PORT: String(c.port),
        HOST: c.host,
        AIHUB_DATA_DIR: c.dataDir,
        DATABASE_URL: c.databaseUrl ? c.databaseUrl.replace(/\/\/[^@/]*@/, '//***@') : '(SQLite in data dir)',
        REDIS_URL: c.redisUrl ? c.redisUrl.replace(/\/\/[^@/]*@/, '//***@') : '(in-memory)',
        AIHUB_SECRET_KEY: c.secretKey ? '(set)' : '(key file in data dir)',
        AIHUB_MASTER_KEY: c.masterKey ? '(set)' : '(off)',
        AIHUB_ADMIN_EMAIL: c.adminEmail ?? '(none)',
        AIHUB_ALLOW_REGISTRATION: String(c.allowRegistration),
        AIHUB_LOG_LEVEL: c.logLevel,
        AIHUB_PUBLIC_URL: c.publicUrl ?? '(from each request)',
        AIHUB_SMTP_URL: c.smtpUrl ? c.smtpUrl.replace(/\/\/[^@/]*@/, '//***@') : '(off: links are logged)',
      };
      console.log('Configuration is valid.');
      for (const v of CONFIG_VARIABLES)
        if (shown[v.name] !== undefined) console.log(`  ${v.name.padEnd(26)} ${shown[v.name]}`);
    });

  return program;
}

class CliError extends Error {}

/** Longest a failed command lets open handles delay its exit. */
const FAILED_EXIT_MS = 3_000;

export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof CliError) {
      console.error(error.message);
    } else if (error instanceof Error && 'code' in error && error.code === 'conflict') {
      console.error(error.message);
    } else {
      console.error(error instanceof Error ? error.message : String(error));
    }
    process.exitCode = 1;
    // What the failed command opened is closed, so the process ends by itself. Should anything still hold
    // the event loop, a failed start must not linger as a process that never serves (no supervisor restarts
    // it): leave anyway, without waiting for it.
    setTimeout(() => process.exit(1), FAILED_EXIT_MS).unref();
  }
}

// `tsx src/main.ts …` (npm run dev) runs the CLI directly; bin/aihub.js imports this module instead.
if (process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  await runCli(process.argv);
}
