import type { MailMessage } from '../mail/mailer.js';
import type { AlertPayload } from './delivery.js';

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The mail of one alert: the message as subject and first line, its facts below, a link to the history. */
export function alertMailMessage(to: string, alert: AlertPayload, publicUrl: string | undefined): MailMessage {
  const link = `${publicUrl ?? ''}/admin/alerts`;
  const prefix = alert.event === 'alert.test' ? '[AI Hub test] ' : '[AI Hub] ';
  const facts = [
    `Rule: ${alert.rule.name} (${alert.rule.kind})`,
    `Subject: ${alert.subjectName ?? alert.subject}`,
    `Value: ${alert.value ?? 'n/a'} (threshold ${alert.threshold})`,
    `At: ${new Date(alert.at).toISOString()}`,
  ];
  return {
    kind: 'alert',
    to,
    subject: `${prefix}${alert.message}`.slice(0, 200),
    text: `${alert.message}\n\n${facts.join('\n')}\n\n${link}\n`,
    html: `<!doctype html><html><body><p><strong>${escapeHtml(alert.message)}</strong></p><p>${facts
      .map(escapeHtml)
      .join('<br>')}</p><p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p></body></html>`,
    link,
  };
}
