/**
 * Seq ranges, shared by the box (which seqs a replay can resend: src/uplink/uplink.ts) and the
 * receiver (its ledger of received seqs: src/receiver/). As the ledger keeps them: inclusive [from, to] pairs, sorted, disjoint, and never
 * adjacent (adjacent ranges merge). Worked example: the ledger [[1,10],[15,20]] receives seqs
 * 11, 12 and 16: 16 is a duplicate, 11 and 12 are new; the ledger becomes [[1,12],[15,20]];
 * contiguous through 12; holes below the highest (20): [[13,14]].
 */
export type Range = [number, number];

/** The ranges with [from, to] added, merged. */
export function addRange(ranges: readonly Range[], from: number, to: number): Range[] {
  const out: Range[] = [];
  let lo = from;
  let hi = to;
  let placed = false;
  for (const [a, b] of ranges) {
    if (b + 1 < lo) out.push([a, b]);
    else if (a > hi + 1) {
      if (!placed) out.push([lo, hi]);
      placed = true;
      out.push([a, b]);
    } else {
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
    }
  }
  if (!placed) out.push([lo, hi]);
  return out;
}

export function union(...lists: readonly (readonly Range[])[]): Range[] {
  let out: Range[] = [];
  for (const list of lists) for (const [a, b] of list) out = addRange(out, a, b);
  return out;
}

/** Sorted seqs (ascending) to ranges: [1,2,3,7] -> [[1,3],[7,7]]. */
export function rangesOf(seqs: readonly number[]): Range[] {
  const out: Range[] = [];
  for (const s of seqs) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + 1) last[1] = Math.max(last[1], s);
    else out.push([s, s]);
  }
  return out;
}

export function covers(ranges: readonly Range[], seq: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = ranges[mid]!;
    if (seq < a) hi = mid - 1;
    else if (seq > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Whether any seq in [from, to] is in the ranges. */
export function intersects(ranges: readonly Range[], from: number, to: number): boolean {
  return from <= to && ranges.some(([a, b]) => a <= to && b >= from);
}

/** Whether every seq in [from, to] is in the ranges (an empty span is). */
export function coversAll(ranges: readonly Range[], from: number, to: number): boolean {
  return from > to || ranges.some(([a, b]) => a <= from && b >= to);
}

/** The highest S such that 1..S are all covered (0: seq 1 is not). */
export function contiguousThrough(ranges: readonly Range[]): number {
  const first = ranges[0];
  return first && first[0] <= 1 ? first[1] : 0;
}

/** What is missing in from..highest (from 1 unless given). */
export function holes(ranges: readonly Range[], highest: number, from = 1): Range[] {
  const out: Range[] = [];
  let next = from;
  for (const [a, b] of ranges) {
    if (a > highest) break;
    if (a > next) out.push([next, a - 1]);
    next = Math.max(next, b + 1);
  }
  if (next <= highest) out.push([next, highest]);
  return out;
}
