/**
 * A statement as PDF (pdfkit): the operator's logo, name and address from the settings, the customer, the
 * document's number, kind and period, usage by model/team/key, the ledger summary and the total, taxes
 * excluded. Rendered from the stored content, so the same document always prints the same.
 */
import PDFDocument from 'pdfkit';
import { formatAmount, type StatementContent } from './content.js';

interface Header {
  number: string;
  kind: string;
  period: string;
  issuedAt: number;
  totalMicros: number;
  correctsNumber: string | null;
  reason: string | null;
}

const TITLES: Record<string, string> = {
  statement: 'Statement',
  corrected: 'Corrected statement',
  credit_note: 'Credit note',
};

/** A font file with the glyphs the names need (e.g. CJK); Helvetica (Latin only) without it. */
const FONT_FILE = process.env.AIHUB_PDF_FONT;

/** The logo of a `data:image/png|jpeg;base64,` URL, or undefined. */
function logoOf(dataUrl: string): Buffer | undefined {
  const m = /^data:image\/(png|jpe?g);base64,([A-Za-z0-9+/=]+)$/.exec(dataUrl);
  return m ? Buffer.from(m[2] as string, 'base64') : undefined;
}

export function statementPdf(header: Header, content: StatementContent, logo: string): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    info: { Title: `${TITLES[header.kind] ?? header.kind} ${header.number}`, Producer: 'AI Hub' },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  let regular = 'Helvetica';
  let bold = 'Helvetica-Bold';
  if (FONT_FILE) {
    doc.registerFont('custom', FONT_FILE);
    regular = 'custom';
    bold = 'custom';
  }
  const money = (micros: number) => `${formatAmount(micros)} ${content.currency}`;
  const left = 50;
  const width = doc.page.width - 100;

  const image = logoOf(logo);
  if (image) {
    try {
      doc.image(image, left, 45, { fit: [120, 50] });
    } catch {
      // An image pdfkit cannot read is left out rather than failing the document.
    }
  }
  doc
    .font(bold)
    .fontSize(14)
    .text(content.operator.name || 'AI Hub', left, 50, { width, align: 'right' });
  if (content.operator.address) doc.font(regular).fontSize(9).text(content.operator.address, { width, align: 'right' });
  doc.moveDown(2);
  doc
    .font(bold)
    .fontSize(18)
    .text(`${TITLES[header.kind] ?? header.kind} ${header.number}`, left);
  doc.font(regular).fontSize(10);
  doc.text(`Period: ${header.period}    Issued: ${new Date(header.issuedAt).toISOString().slice(0, 10)}`);
  doc.text(
    `Customer: ${content.customer.name}${content.customer.teamName ? ` — team ${content.customer.teamName}` : ''}`,
  );
  if (header.correctsNumber) doc.text(`Refers to: ${header.correctsNumber}`);
  if (header.reason) doc.text(`Reason: ${header.reason}`);
  doc.moveDown();

  const columns = [
    { title: 'Model', x: left, w: 130 },
    { title: 'Team', x: left + 130, w: 80 },
    { title: 'Key', x: left + 210, w: 90 },
    { title: 'Requests', x: left + 300, w: 50, right: true },
    { title: 'In tokens', x: left + 350, w: 55, right: true },
    { title: 'Out tokens', x: left + 405, w: 55, right: true },
    { title: 'Amount', x: left + 460, w: width - 460, right: true },
  ];
  const row = (cells: string[], font: string) => {
    if (doc.y > doc.page.height - 90) doc.addPage();
    const y = doc.y;
    doc.font(font).fontSize(8);
    cells.forEach((cell, i) => {
      const c = columns[i];
      if (c) doc.text(cell, c.x, y, { width: c.w, align: c.right ? 'right' : 'left', lineBreak: false });
    });
    doc.text('', left, y + 13);
  };
  if (content.usage.length > 0 || header.kind !== 'credit_note') {
    row(
      columns.map((c) => c.title),
      bold,
    );
    for (const l of content.usage)
      row(
        [
          l.model,
          l.teamName ?? l.teamId ?? '',
          l.keyName ?? l.keyId ?? '',
          String(l.requests),
          String(l.inputTokens),
          String(l.outputTokens),
          formatAmount(l.amountMicros),
        ],
        regular,
      );
    row(['Usage total', '', '', '', '', '', formatAmount(content.usageTotalMicros)], bold);
    doc.moveDown();
  }
  if (content.ledger) {
    const l = content.ledger;
    doc.font(bold).fontSize(10).text('Balance', left);
    doc.font(regular).fontSize(9);
    for (const [label, value] of [
      ['Opening balance', l.openingBalanceMicros],
      ['Top-ups', l.topUpsMicros],
      ['Credits', l.creditsMicros],
      ['Debits', l.debitsMicros],
      ['Usage charged to the balance', l.usageChargedMicros],
      ['Closing balance', l.closingBalanceMicros],
    ] as const)
      doc.text(`${label}: ${money(value)}`, left);
    doc.moveDown();
  }
  if (content.creditMicros !== undefined)
    doc
      .font(regular)
      .fontSize(10)
      .text(`Credited: ${money(content.creditMicros)}`, left);
  doc
    .font(bold)
    .fontSize(12)
    .text(`Total (taxes excluded): ${money(header.totalMicros)}`, left, undefined, { width, align: 'right' });
  doc.end();
  return done;
}
