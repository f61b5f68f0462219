import type { MailMessage } from './mailer.js';

/** Every message AI Hub sends, in one place: plain text plus a simple HTML version, English. */

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function html(paragraphs: string[], link: string, button: string, footer: string): string {
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  const href = escapeHtml(link);
  return `<!doctype html>
<html><body style="font-family: -apple-system, Segoe UI, Roboto, sans-serif; color: #1f2328; max-width: 560px">
${body}
<p><a href="${href}" style="display: inline-block; padding: 10px 18px; background: #409eff; color: #fff; border-radius: 4px; text-decoration: none">${escapeHtml(button)}</a></p>
<p style="color: #6e7781; font-size: 13px">Or open this link: <a href="${href}">${href}</a></p>
<p style="color: #6e7781; font-size: 13px">${escapeHtml(footer)}</p>
</body></html>`;
}

function text(paragraphs: string[], link: string, footer: string): string {
  return `${paragraphs.join('\n\n')}\n\n${link}\n\n${footer}\n`;
}

function message(
  kind: MailMessage['kind'],
  to: string,
  subject: string,
  paragraphs: string[],
  link: string,
  button: string,
  footer: string,
): MailMessage {
  return {
    kind,
    to,
    subject,
    text: text(paragraphs, link, footer),
    html: html(paragraphs, link, button, footer),
    link,
  };
}

export function verifyEmailMessage(to: string, link: string, validHours: number): MailMessage {
  return message(
    'verify_email',
    to,
    'Confirm your email address for AI Hub',
    ['Hello,', `Please confirm that ${to} is your email address by opening this link:`],
    link,
    'Confirm email address',
    `The link is valid for ${validHours} hours. If you did not create an AI Hub account, ignore this message.`,
  );
}

export function passwordResetMessage(to: string, link: string, validMinutes: number): MailMessage {
  return message(
    'password_reset',
    to,
    'Reset your AI Hub password',
    ['Hello,', 'Someone (hopefully you) asked to reset the password of your AI Hub account. Choose a new one here:'],
    link,
    'Choose a new password',
    `The link works once and for ${validMinutes} minutes. If you did not ask for it, ignore this message: your password stays as it is.`,
  );
}

export function invitationMessage(
  to: string,
  link: string,
  invite: { organization: string; role: string; team: string | null; invitedBy: string | null; validDays: number },
): MailMessage {
  const where = invite.team ? `the team ${invite.team} of ${invite.organization}` : invite.organization;
  const who = invite.invitedBy ? `${invite.invitedBy} invited you` : 'You are invited';
  return message(
    'invitation',
    to,
    `You are invited to ${invite.organization} on AI Hub`,
    ['Hello,', `${who} to join ${where} on AI Hub as ${invite.role}.`, 'Accept the invitation here:'],
    link,
    'Accept invitation',
    `The invitation expires in ${invite.validDays} days. If you did not expect it, ignore this message.`,
  );
}

/** A prepaid balance fell below a threshold its organization set (docs/billing.md). */
export function lowBalanceMessage(
  to: string,
  link: string,
  notice: { organization: string; balance: string; threshold: string },
): MailMessage {
  return message(
    'low_balance',
    to,
    `AI Hub: the balance of ${notice.organization} is below ${notice.threshold}`,
    ['Hello,', `The balance of ${notice.organization} is now ${notice.balance}, below ${notice.threshold}.`],
    link,
    'Top up or redeem a code',
    'Prepaid requests are refused once the balance is used up. You get this message once each time the balance falls below a threshold.',
  );
}
