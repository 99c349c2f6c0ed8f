import { z } from 'zod';

/**
 * GS1 mod-10 check digit of the digits before it: weights 3,1,3,... from the right.
 * "00614141123456789" -> 0, so the SSCC is "006141411234567890".
 */
export function gs1CheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[digits.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return (10 - (sum % 10)) % 10;
}

const SSCC_ERROR = 'expected an SSCC: 18 digits, the last the GS1 check digit (as printed under the pallet label barcode, without "(00)")';
export const Sscc = z
  .string({ error: SSCC_ERROR })
  .regex(/^[0-9]{18}$/, { error: SSCC_ERROR, abort: true })
  .refine((s) => gs1CheckDigit(s.slice(0, 17)) === Number(s[17]), { error: (i) => `SSCC ${String(i.input)}: wrong check digit (expected ${gs1CheckDigit(String(i.input).slice(0, 17))}): retype it from the label` });

// A reference ends up in a file name of nobody, but in CSV cells, HTML, URNs and logs: plain characters only.
const REF_ERROR = 'expected 1-64 letters, digits, spaces or . _ / # : - (starting with a letter or digit)';
const Reference = z.string({ error: REF_ERROR }).regex(/^[A-Za-z0-9][A-Za-z0-9 ._/#:-]{0,63}$/, REF_ERROR);
// GS1 AI (10): up to 20 characters of GS1's "character set 82" less the ones CSV and HTML quote.
const LOT_ERROR = 'expected a lot code: 1-20 letters, digits or . _ / - (GS1 AI 10)';
const Lot = z.string({ error: LOT_ERROR }).regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,19}$/, LOT_ERROR);

export const MAX_SHIPMENT_ITEMS = 20;

/** What the trip is for, given when it starts (display, HTTP API, remote command). */
export const ShipmentRefs = z
  .strictObject({
    billOfLading: Reference.optional().describe('bill of lading (CMR) number'),
    order: Reference.optional().describe('purchase or transport order number'),
    sscc: z.array(Sscc).min(1).max(MAX_SHIPMENT_ITEMS).optional().describe('pallets (logistic units) on board, by SSCC'),
    lots: z.array(Lot).min(1).max(MAX_SHIPMENT_ITEMS).optional().describe('lot (batch) codes of the goods on board'),
  })
  .describe('shipment references of a trip');
export type ShipmentRefs = z.infer<typeof ShipmentRefs>;

/** One line for people: "BoL CMR-1, order PO-7, SSCC 006141411234567890, lots L1 L2"; "" for none. */
export function describeShipment(s: ShipmentRefs | undefined): string {
  if (!s) return '';
  return [
    s.billOfLading && `BoL ${s.billOfLading}`,
    s.order && `order ${s.order}`,
    s.sscc && `SSCC ${s.sscc.join(' ')}`,
    s.lots && `lots ${s.lots.join(' ')}`,
  ]
    .filter(Boolean)
    .join(', ');
}
