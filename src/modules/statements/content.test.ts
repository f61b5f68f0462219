import { describe, expect, it } from 'vitest';
import {
  documentNumber,
  formatAmount,
  parsePeriod,
  previousPeriod,
  type StatementContent,
  statementCsv,
} from './content.js';

describe('periods', () => {
  it('parses a month in UTC, end exclusive', () => {
    expect(parsePeriod('2026-02')).toEqual({
      period: '2026-02',
      start: Date.UTC(2026, 1, 1),
      end: Date.UTC(2026, 2, 1),
    });
    expect(parsePeriod('2026-12')?.end).toBe(Date.UTC(2027, 0, 1));
    for (const bad of ['2026-13', '2026-00', '26-01', '2026-1', 'x']) expect(parsePeriod(bad)).toBeUndefined();
  });

  it('finds the previous month, across a year', () => {
    expect(previousPeriod(Date.UTC(2027, 0, 1, 3)).period).toBe('2026-12');
    expect(previousPeriod(Date.UTC(2026, 6, 31, 23)).period).toBe('2026-06');
  });
});

describe('numbers and amounts', () => {
  it('numbers documents by issue year and the instance sequence', () => {
    expect(documentNumber(123, Date.UTC(2026, 11, 7))).toBe('AIH-2026-000123');
    expect(documentNumber(1_234_567, Date.UTC(2027, 0, 1))).toBe('AIH-2027-1234567');
  });

  it('formats micro-units with 2 to 6 decimals', () => {
    expect(formatAmount(0)).toBe('0.00');
    expect(formatAmount(1_500_000)).toBe('1.50');
    expect(formatAmount(1_234_500)).toBe('1.2345');
    expect(formatAmount(48)).toBe('0.000048');
    expect(formatAmount(-2_000_000)).toBe('-2.00');
  });
});

describe('statementCsv', () => {
  const content: StatementContent = {
    operator: { name: 'Hub Ltd', address: '' },
    customer: { orgId: 'org_1', name: 'Acme, Inc.', teamId: null, teamName: null },
    currency: 'EUR',
    usage: [
      {
        model: 'gpt',
        teamId: 'team_1',
        teamName: '=cmd',
        keyId: 'key_1',
        keyName: 'prod "main"',
        requests: 2,
        inputTokens: 10,
        outputTokens: 20,
        amountMicros: 96,
      },
    ],
    usageTotalMicros: 96,
    ledger: {
      openingBalanceMicros: 0,
      closingBalanceMicros: 1_000_000,
      topUpsMicros: 1_000_000,
      creditsMicros: 0,
      debitsMicros: 0,
      usageChargedMicros: 0,
    },
  };

  it('quotes commas and quotes, defuses formulas, and lists usage and the ledger', () => {
    const csv = statementCsv(
      {
        number: 'AIH-2026-000001',
        kind: 'statement',
        period: '2026-11',
        issuedAt: 0,
        correctsNumber: null,
        reason: null,
        totalMicros: 96,
      },
      content,
    );
    expect(csv).toContain('customer,"Acme, Inc."\r\n');
    expect(csv).toContain(`gpt,'=cmd,"prod ""main""",2,10,20,0.000096\r\n`);
    expect(csv).toContain('top-ups,1.00\r\n');
    expect(csv).toContain('total (taxes excluded),0.000096\r\n');
  });
});
