import { createTransport, type Transporter } from 'nodemailer';
import type { Clock } from '../../core/clock.js';
import type { IdGenerator } from '../../core/ids.js';

/** What a message is for (the outbox and the log say it). */
export type MailKind = 'verify_email' | 'password_reset' | 'invitation' | 'low_balance' | 'alert';

export interface MailMessage {
  kind: MailKind;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The one link the message carries (written to the log when there is no SMTP server). */
  link: string;
}

export type OutboxStatus = 'logged' | 'sending' | 'sent' | 'failed';

/** A message as platform admins see it in GET /api/admin/mail/outbox. */
export interface OutboxEntry {
  id: string;
  at: number;
  kind: MailKind;
  to: string;
  subject: string;
  /** The link, while nobody received it by mail (no SMTP, or delivery failed); null once delivered. */
  link: string | null;
  status: OutboxStatus;
  error: string | null;
}

/** Where the mailer reports (the server's pino logger fits). */
export interface MailLog {
  info(detail: Record<string, unknown>, message: string): void;
  warn(detail: Record<string, unknown>, message: string): void;
  error(detail: Record<string, unknown>, message: string): void;
}

export interface MailerOptions {
  /** smtp(s)://user:pass@host:port; undefined = no SMTP (links go to the log and the outbox). */
  smtpUrl: string | undefined;
  from: string;
  clock: Clock;
  newId: IdGenerator;
  /** How many messages the outbox keeps (the newest). */
  outboxSize?: number;
}

const OUTBOX_SIZE = 100;
const SILENT: MailLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Outgoing mail. `send` never throws and never waits for the SMTP server: a request that sends mail answers
 * at once, and a failed delivery is logged and kept in the outbox with its error (and its link, so an admin
 * can pass it on). Without SMTP every message's link is written to the log at warn level and kept in the
 * outbox: mail is never silently dropped.
 *
 * @example
 * mailer.send({ kind: 'password_reset', to: 'ana@example.com', subject, text, html, link });
 */
export class Mailer {
  readonly #transport: Transporter | undefined;
  readonly #outbox: OutboxEntry[] = [];
  readonly #pending = new Set<Promise<void>>();
  readonly #size: number;
  #log: MailLog = SILENT;

  constructor(private readonly options: MailerOptions) {
    this.#size = options.outboxSize ?? OUTBOX_SIZE;
    // A dead SMTP server must not hold messages for nodemailer's two-minute defaults.
    this.#transport = options.smtpUrl
      ? createTransport({
          url: options.smtpUrl,
          connectionTimeout: 10_000,
          greetingTimeout: 10_000,
          socketTimeout: 30_000,
        })
      : undefined;
  }

  /** Whether an SMTP server is configured (else links are only logged and kept in the outbox). */
  get configured(): boolean {
    return this.#transport !== undefined;
  }

  /** Report to this log from now on (the server's, once the app exists). */
  logTo(log: MailLog): void {
    this.#log = log;
  }

  /** Queue a message: delivered in the background, or logged when there is no SMTP server. */
  send(message: MailMessage): void {
    void this.deliver(message).catch(() => undefined);
  }

  /**
   * Deliver a message and wait for the SMTP server's answer (kept in the outbox like `send`'s). Rejects when
   * the delivery fails, and when no SMTP server is configured (the message is logged): for senders that
   * retry, such as alerts.
   */
  deliver(message: MailMessage): Promise<void> {
    const entry: OutboxEntry = {
      id: this.options.newId('mail'),
      at: this.options.clock.now(),
      kind: message.kind,
      to: message.to,
      subject: message.subject,
      link: message.link,
      status: this.#transport ? 'sending' : 'logged',
      error: null,
    };
    this.#outbox.push(entry);
    if (this.#outbox.length > this.#size) this.#outbox.splice(0, this.#outbox.length - this.#size);
    const transport = this.#transport;
    if (!transport) {
      this.#log.warn(
        { mail: message.kind, to: message.to, link: message.link },
        `mail not sent (no AIHUB_SMTP_URL): ${message.kind} for ${message.to}: ${message.link}`,
      );
      return Promise.reject(new Error('no SMTP server is configured (AIHUB_SMTP_URL)'));
    }
    const delivery = transport
      .sendMail({
        from: this.options.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      })
      .then(
        () => {
          entry.status = 'sent';
          entry.link = null;
          this.#log.info({ mail: message.kind, to: message.to }, `mail sent: ${message.kind} to ${message.to}`);
        },
        (error: unknown) => {
          entry.status = 'failed';
          entry.error = error instanceof Error ? error.message : String(error);
          this.#log.error(
            { mail: message.kind, to: message.to, err: entry.error },
            `mail delivery failed: ${message.kind} to ${message.to} (the link is in the outbox: GET /api/admin/mail/outbox)`,
          );
          throw error;
        },
      );
    const tracked: Promise<void> = delivery.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
    return delivery;
  }

  /** The newest messages first. */
  outbox(): OutboxEntry[] {
    return this.#outbox.map((e) => ({ ...e })).reverse();
  }

  /** Wait until every queued message is delivered or failed (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Finish deliveries in progress and close the SMTP connections. */
  async close(): Promise<void> {
    await this.idle();
    this.#transport?.close();
  }
}
