/**
 * The share certificate: one A4 page drawn with pdfkit, stating who holds how
 * many shares in which society, as at a date. Built in memory (a few kilobytes),
 * never inside a transaction. The same content always gives the same bytes (the
 * PDF's dates and file id come from `createdAt`), so a retried email attaches the
 * very certificate the first attempt drew.
 */
import { createRequire } from 'node:module';
import { formatMoney } from '../lib/money.js';
import { longDate } from '../lib/long-dates.js';

export interface CertificateContent {
  society: { name: string; registrationNumber: string; address: string };
  member: { name: string; number: number; kind: 'person' | 'organisation'; admittedOn: string };
  sharesHeld: number;
  amountPaid: number;
  pricePerShare: number;
  currency: string;
  /** The day the certificate speaks for (YYYY-MM-DD, the society's calendar). */
  issuedOn: string;
  /** When its facts were taken (an ISO instant), for the PDF's metadata. */
  createdAt: string;
}

/**
 * DejaVu Sans covers Latin with every accent, Greek and Cyrillic, so names print as
 * members write them; pdfkit's built-in Helvetica cannot print "Łukasz" or "Οδυσσέας".
 * Only the glyphs used are embedded.
 */
const require = createRequire(import.meta.url);
const fonts = {
  regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
};

export async function renderCertificate(content: CertificateContent): Promise<Buffer> {
  // Loaded on first use: pdfkit is the slowest module to load, and start-up does not need it.
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({
    size: 'A4',
    margin: 56,
    info: {
      Title: `Share certificate: member ${content.member.number}`,
      Author: content.society.name,
      Subject: `${content.sharesHeld} shares held by ${content.member.name}`,
      CreationDate: new Date(content.createdAt),
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.registerFont('Regular', fonts.regular);
  doc.registerFont('Bold', fonts.bold);

  const { society, member } = content;
  const width = doc.page.width - 112;
  doc.lineWidth(3).rect(36, 36, doc.page.width - 72, doc.page.height - 72).stroke('#c8102e');

  doc.moveDown(2);
  doc.font('Bold').fontSize(24).fillColor('#1a1a1a').text(society.name, { align: 'center', width });
  doc.moveDown(0.3);
  doc.font('Regular').fontSize(11).fillColor('#555555').text(`Registered society number ${society.registrationNumber}`, { align: 'center', width });
  doc.text(society.address, { align: 'center', width });

  doc.moveDown(2.5);
  doc.font('Bold').fontSize(28).fillColor('#c8102e').text('Share Certificate', { align: 'center', width, characterSpacing: 1 });

  doc.moveDown(2);
  doc.font('Regular').fontSize(13).fillColor('#1a1a1a').text('This is to certify that', { align: 'center', width });
  doc.moveDown(0.8);
  doc.font('Bold').fontSize(22).text(member.name, { align: 'center', width });
  doc.moveDown(0.3);
  doc.font('Regular').fontSize(13).text(`Member number ${member.number}`, { align: 'center', width });
  doc.moveDown(1.2);

  const shares = content.sharesHeld === 1 ? '1 fully paid withdrawable share' : `${content.sharesHeld.toLocaleString('en-GB')} fully paid withdrawable shares`;
  doc.text(
    `is the registered holder of ${shares} of ${formatMoney(content.pricePerShare, content.currency)} each in ${society.name}, ` +
      `${formatMoney(content.amountPaid, content.currency)} having been paid, subject to the rules of the society.`,
    { align: 'center', width, lineGap: 4 },
  );
  doc.moveDown(1.2);
  doc.text(`Admitted to membership on ${longDate(member.admittedOn)}.`, { align: 'center', width });

  doc.moveDown(3);
  doc.font('Bold').fontSize(13).text(`Date: ${longDate(content.issuedOn)}`, { align: 'center', width });

  doc.moveDown(3);
  doc
    .font('Regular')
    .fontSize(9)
    .fillColor('#555555')
    .text(
      'Shares in the society are withdrawable but not transferable, and carry no right to vote beyond the one vote every member has, ' +
        'whatever the number of shares held. The register of members kept by the society is the evidence of title; this certificate ' +
        'shows the holding on the date above.',
      { align: 'center', width },
    );

  doc.end();
  return done;
}
