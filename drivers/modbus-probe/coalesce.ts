/** A run of registers: `count` registers from `address` on. */
export interface Span {
  address: number;
  count: number;
}

/**
 * Groups the wanted registers of one unit and function into as few reads as possible. Two spans
 * share a read when at most `maxGap` unused registers lie between them and the read stays within
 * `maxRegisters` (125 in the Modbus spec). Input order does not matter; duplicates and overlaps merge.
 * Example (single registers): addresses [1,2,3,5,6,10,11,12,14]
 *   maxGap 0 -> reads (1,3) (5,2) (10,3) (14,1)
 *   maxGap 1 -> reads (1,6) (10,5)
 *   maxGap 3, maxRegisters 8 -> reads (1,6) (10,5): 1..12 would be 12 registers
 */
export function groupRegistersToReads(spans: readonly Span[], maxGap: number, maxRegisters = 125): Span[] {
  const sorted = [...spans].sort((a, b) => a.address - b.address);
  const reads: Span[] = [];
  for (const s of sorted) {
    const last = reads[reads.length - 1];
    const end = s.address + s.count;
    if (last && s.address - (last.address + last.count) <= maxGap && end - last.address <= maxRegisters) {
      last.count = Math.max(last.count, end - last.address);
    } else {
      reads.push({ ...s });
    }
  }
  return reads;
}
