import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A message the test SMTP server received, parsed. */
export interface DeliveredMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The first http(s) link of the plain-text body. */
  link: string;
  parsed: ParsedMail;
}

export interface TestSmtpServer {
  /** AIHUB_SMTP_URL for the app. */
  url: string;
  received: DeliveredMail[];
  /** The next message to `to` whose subject matches (waits for it; fails after `timeoutMs`). */
  next(to: string, subject?: RegExp, timeoutMs?: number): Promise<DeliveredMail>;
  close(): Promise<void>;
}

/** A real SMTP server (the `smtp-server` package) on a loopback port; what it receives is parsed by `mailparser`. */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const received: DeliveredMail[] = [];
  const taken = new Set<DeliveredMail>();
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    // Plain SMTP on loopback: no STARTTLS (its built-in certificate is self-signed), no AUTH.
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const text = parsed.text ?? '';
          received.push({
            to: session.envelope.rcptTo.map((r) => r.address).join(','),
            subject: parsed.subject ?? '',
            text,
            html: typeof parsed.html === 'string' ? parsed.html : '',
            link: /https?:\/\/\S+/.exec(text)?.[0] ?? '',
            parsed,
          });
          for (const wake of waiters.splice(0)) wake();
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    async next(to: string, subject?: RegExp, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const mail = received.find((m) => m.to === to && !taken.has(m) && (!subject || subject.test(m.subject)));
        if (mail) {
          taken.add(mail);
          return mail;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, left);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
