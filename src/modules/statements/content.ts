/**
 * What a statement says, frozen when it is issued (stored as JSON, rendered to the console, CSV and PDF from
 * the stored copy, so a document never changes afterwards), and the pure rules around it: periods, numbers
 * and the CSV rendering.
 */

/** One line of usage: requests, tokens and list price by model, team and key. */
export interface UsageLine {
  model: string;
  teamId: string | null;
  teamName: string | null;
  keyId: string | null;
  keyName: string | null;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  amountMicros: number;
}

/** Ledger movements of the period, by kind (positive credits, negative debits). */
export interface LedgerSummary {
  openingBalanceMicros: number;
  closingBalanceMicros: number;
  /** Top-ups, redemptions and subscription grants. */
  topUpsMicros: number;
  /** Positive adjustments and refunds. */
  creditsMicros: number;
  /** Negative adjustments and expiries. */
  debitsMicros: number;
  /** Prepaid usage charged to the balance. */
  usageChargedMicros: number;
}

export interface StatementContent {
  operator: { name: string; address: string };
  customer: { orgId: string; name: string; teamId: string | null; teamName: string | null };
  currency: string;
  usage: UsageLine[];
  usageTotalMicros: number;
  /** Null on a team's statement (wallets are the organization's). */
  ledger: LedgerSummary | null;
  /** What a credit note credits (positive). */
  creditMicros?: number;
}

/** A calendar month in UTC: `YYYY-MM` and its bounds in epoch ms (end exclusive). */
export interface Period {
  period: string;
  start: number;
  end: number;
}

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** The month `YYYY-MM` names, or undefined when it is not one. */
export function parsePeriod(period: string): Period | undefined {
  const m = PERIOD.exec(period);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]) - 1;
  return { period, start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
}

/** The month before the one `now` is in (what the monthly run issues). */
export function previousPeriod(now: number): Period {
  const d = new Date(now);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
  const s = new Date(start);
  return parsePeriod(`${s.getUTCFullYear()}-${String(s.getUTCMonth() + 1).padStart(2, '0')}`) as Period;
}

/** `AIH-2026-000123`: the issue year and the instance-wide sequence. */
export function documentNumber(seq: number, issuedAt: number): string {
  return `AIH-${new Date(issuedAt).getUTCFullYear()}-${String(seq).padStart(6, '0')}`;
}

/** Micro-units as a decimal amount with two to six decimals (`1234500` → `1.2345`). */
export function formatAmount(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const units = Math.floor(abs / 1_000_000);
  const fraction = String(abs % 1_000_000)
    .padStart(6, '0')
    .replace(/0{1,4}$/, '');
  return `${sign}${units}.${fraction.padEnd(2, '0')}`;
}

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  // A leading =, +, - or @ would be a formula in a spreadsheet: quote it as text.
  const safe = /^[=+\-@\t\r]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The header fields of a document, as the CSV's first rows show them. */
export interface DocumentHeader {
  number: string;
  kind: string;
  period: string;
  issuedAt: number;
  correctsNumber: string | null;
  reason: string | null;
  totalMicros: number;
}

/** A statement as CSV: its header fields, then one row per usage line, then the ledger summary. */
export function statementCsv(header: DocumentHeader, content: StatementContent): string {
  const rows: Array<Array<string | number | null>> = [
    ['document', header.number],
    ['kind', header.kind],
    ['period', header.period],
    ['issued', new Date(header.issuedAt).toISOString()],
    ['operator', content.operator.name],
    ['customer', content.customer.name],
    ['team', content.customer.teamName],
    ['currency', content.currency],
    ['corrects', header.correctsNumber],
    ['reason', header.reason],
    ['total (taxes excluded)', formatAmount(header.totalMicros)],
    [],
    ['model', 'team', 'key', 'requests', 'input tokens', 'output tokens', 'amount'],
    ...content.usage.map((l) => [
      l.model,
      l.teamName ?? l.teamId,
      l.keyName ?? l.keyId,
      l.requests,
      l.inputTokens,
      l.outputTokens,
      formatAmount(l.amountMicros),
    ]),
    ['usage total', null, null, null, null, null, formatAmount(content.usageTotalMicros)],
  ];
  if (content.ledger) {
    const l = content.ledger;
    rows.push(
      [],
      ['opening balance', formatAmount(l.openingBalanceMicros)],
      ['top-ups', formatAmount(l.topUpsMicros)],
      ['credits', formatAmount(l.creditsMicros)],
      ['debits', formatAmount(l.debitsMicros)],
      ['usage charged to the balance', formatAmount(l.usageChargedMicros)],
      ['closing balance', formatAmount(l.closingBalanceMicros)],
    );
  }
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
