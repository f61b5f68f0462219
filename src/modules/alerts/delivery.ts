/**
 * Delivering one alert event to one destination: a signed JSON webhook, a Slack-compatible incoming webhook
 * (`{"text": …}`), or mail. A failure throws, so the `alerts.deliver` job retries it with backoff.
 */
import type { SecretBox } from '../../core/secrets.js';
import type { AlertDestinationsTable, AlertEventsTable } from '../../infra/db/schema.js';
import type { MailMessage } from '../mail/mailer.js';
import { alertMailMessage } from './mail.js';
import { SIGNATURE_HEADER, signBody, TIMESTAMP_HEADER } from './signature.js';

const TIMEOUT_MS = 10_000;

/** The JSON a webhook receives (docs/alerts.md). */
export interface AlertPayload {
  event: 'alert.firing' | 'alert.resolved' | 'alert.test';
  id: string;
  rule: { id: string; name: string; kind: string };
  subject: string;
  subjectName: string | null;
  state: 'firing' | 'resolved';
  value: number | null;
  threshold: number;
  message: string;
  organizationId: string | null;
  at: number;
}

export function payloadOf(event: AlertEventsTable, test = false): AlertPayload {
  return {
    event: test ? 'alert.test' : event.state === 'firing' ? 'alert.firing' : 'alert.resolved',
    id: event.id,
    rule: { id: event.rule_id, name: event.rule_name, kind: event.kind },
    subject: event.subject,
    subjectName: event.subject_name,
    state: event.state,
    value: event.value,
    threshold: event.threshold,
    message: event.message,
    organizationId: event.organization_id,
    at: event.at,
  };
}

export interface DeliveryDeps {
  secrets: SecretBox;
  /** Send a mail and wait for the SMTP server's answer (throws when it fails or none is configured). */
  mail: (message: MailMessage) => Promise<void>;
  /** Seconds since the epoch, for the signature's timestamp. */
  now: () => number;
  publicUrl: string | undefined;
}

/** Send one event to one destination; throws on any failure (non-2xx, timeout, SMTP error). */
export async function deliver(
  deps: DeliveryDeps,
  destination: AlertDestinationsTable,
  event: AlertEventsTable,
  test = false,
): Promise<void> {
  const payload = payloadOf(event, test);
  switch (destination.kind) {
    case 'webhook': {
      const body = JSON.stringify(payload);
      const timestamp = Math.floor(deps.now() / 1000);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'AI Hub alerts',
        'x-aihub-event': payload.event,
        'x-aihub-delivery': event.id,
        [TIMESTAMP_HEADER]: String(timestamp),
      };
      if (destination.secret)
        headers[SIGNATURE_HEADER] = signBody(deps.secrets.decrypt(destination.secret), timestamp, body);
      await post(destination.target, headers, body);
      return;
    }
    case 'slack': {
      if (!destination.secret) throw new Error('the Slack destination has no URL');
      const url = deps.secrets.decrypt(destination.secret);
      const text = test ? `[test] ${event.message}` : event.message;
      await post(url, { 'content-type': 'application/json', 'user-agent': 'AI Hub alerts' }, JSON.stringify({ text }));
      return;
    }
    case 'email': {
      for (const to of destination.target
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean))
        await deps.mail(alertMailMessage(to, payload, deps.publicUrl));
      return;
    }
  }
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  await res.body?.cancel();
  // The host only: a Slack URL's path is its secret.
  if (!res.ok) throw new Error(`${new URL(url).host} answered ${res.status}`);
}
