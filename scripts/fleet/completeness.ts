/**
 * The simulation's verdict, pure: for every gateway, is every seq its journal ever committed
 * in the database exactly once, or inside a declared gap? The inputs are what the gateways
 * reported (their journals' last seq) and what the database holds, as ranges.
 *
 * Example: a journal reports lastSeq 10; the database holds seqs 1-4 and 7-9 once and seq 3 a
 * second time, and a gap `not-held` 5-6. Then missing is [[10, 10]], duplicates [3], covered by
 * gaps 2, and the gateway fails (missing and duplicate).
 */
import { holes as missingFrom, union, type Range } from '../../src/core/seq-ranges.ts';
import type { JournalReport } from './protocol.ts';

export type { Range };

/** What the database says about one (gateway, incarnation). */
export interface Landed {
  /** Seqs present, as sorted disjoint ranges (one row each or more: see duplicates). */
  present: Range[];
  /** Seqs present more than once. */
  duplicates: number[];
  gaps: { fromSeq: number; toSeq: number; reason: string }[];
  /** From the receiver's status (src/receiver/status.ts). */
  holes: Range[];
  contiguousThrough: number;
  /** The receiver's chain verdict: `ok`, `broken at seq N` or `no key` (reported, not judged here). */
  chain: string;
}

export interface GatewayVerdict {
  gatewayId: string;
  incarnation: string;
  lastSeq: number;
  missing: Range[];
  duplicates: number[];
  holes: Range[];
  contiguousThrough: number;
  chain: string;
  /** Seqs not in the database but covered by a gap, per reason. */
  coveredByGap: Record<string, number>;
  ok: boolean;
}

export interface Verdict {
  pass: boolean;
  gateways: GatewayVerdict[];
  /** Seqs committed by all the journals together. */
  committed: number;
  missing: number;
  duplicates: number;
  coveredByGap: Record<string, number>;
  /** Gateways by the receiver's chain verdict (`ok`, `no key`, `broken at seq N` counted as `broken`). */
  chain: Record<string, number>;
  /** Why it failed, one line per gateway (at most 20) and one for the whole. */
  problems: string[];
}

const size = (ranges: readonly Range[]) => ranges.reduce((n, [a, b]) => n + b - a + 1, 0);

/** Seqs of `ranges` (merged) within 1..through that `present` (merged) does not hold. */
function outside(ranges: readonly Range[], present: readonly Range[], through: number): number {
  const clipped = union(ranges.filter(([a]) => a <= through).map(([a, b]) => [a, Math.min(b, through)] as Range));
  return size(clipped) - size(intersect(clipped, present));
}

function intersect(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i]![0], b[j]![0]);
    const hi = Math.min(a[i]![1], b[j]![1]);
    if (lo <= hi) out.push([lo, hi]);
    if (a[i]![1] < b[j]![1]) i++;
    else j++;
  }
  return out;
}

export function judgeGateway(report: JournalReport, landed: Landed | undefined): GatewayVerdict {
  const present = union(landed?.present ?? []);
  const gapRanges = (landed?.gaps ?? []).map((g) => [g.fromSeq, g.toSeq] as Range);
  const missing = missingFrom(union([...present, ...gapRanges]), report.lastSeq);
  // Each gap seq counted once, under the first reason that covers it.
  const coveredByGap: Record<string, number> = {};
  let counted: Range[] = present;
  for (const g of landed?.gaps ?? []) {
    const n = outside([[g.fromSeq, g.toSeq]], counted, report.lastSeq);
    if (n > 0) coveredByGap[g.reason] = (coveredByGap[g.reason] ?? 0) + n;
    counted = union([...counted, [g.fromSeq, g.toSeq]]);
  }
  const duplicates = landed?.duplicates ?? [];
  const holes = landed?.holes ?? [];
  const contiguousThrough = landed?.contiguousThrough ?? 0;
  const chain = landed?.chain ?? 'unknown';
  const ok = landed !== undefined && missing.length === 0 && duplicates.length === 0 && holes.length === 0 && contiguousThrough >= report.lastSeq;
  return { ...report, missing, duplicates, holes, contiguousThrough, chain, coveredByGap, ok };
}

/**
 * `landed` is keyed `${gatewayId}/${incarnation}`. `lossReasons`: gap reasons that here mean a
 * loss, not an excuse (with end-to-end mode on, a box keeps what is not committed, so a
 * `not-held` range is data the system should have kept).
 */
export function judge(reports: readonly JournalReport[], landed: ReadonlyMap<string, Landed>, lossReasons: readonly string[] = []): Verdict {
  const gateways = reports.map((r) => judgeGateway(r, landed.get(`${r.gatewayId}/${r.incarnation}`)));
  const problems: string[] = [];
  for (const g of gateways.filter((v) => !v.ok).slice(0, 20)) {
    const parts = [
      g.missing.length && `missing ${size(g.missing)} seqs (${g.missing.slice(0, 5).map(([a, b]) => (a === b ? a : `${a}-${b}`)).join(', ')}${g.missing.length > 5 ? ', ...' : ''})`,
      g.duplicates.length && `${g.duplicates.length} seqs stored twice (${g.duplicates.slice(0, 5).join(', ')})`,
      g.holes.length && `status shows holes ${JSON.stringify(g.holes.slice(0, 5))}`,
      g.contiguousThrough < g.lastSeq && `contiguousThrough ${g.contiguousThrough} < committed ${g.lastSeq}`,
      !landed.has(`${g.gatewayId}/${g.incarnation}`) && 'nothing in the database for this incarnation',
    ].filter(Boolean);
    problems.push(`${g.gatewayId} (incarnation ${g.incarnation}, committed 1..${g.lastSeq}): ${parts.join('; ')}`);
  }
  const committed = gateways.reduce((n, g) => n + g.lastSeq, 0);
  // A fleet that committed nothing proves nothing.
  if (reports.length === 0 || gateways.some((g) => g.lastSeq === 0)) problems.push(`every gateway must have committed records: ${gateways.filter((g) => g.lastSeq === 0).length} of ${reports.length} committed none`);
  const coveredByGap: Record<string, number> = {};
  for (const g of gateways) for (const [reason, n] of Object.entries(g.coveredByGap)) coveredByGap[reason] = (coveredByGap[reason] ?? 0) + n;
  for (const reason of lossReasons) {
    const lost = gateways.filter((g) => g.coveredByGap[reason]);
    if (lost.length) problems.push(`${coveredByGap[reason]} seqs of ${lost.length} gateways declared ${reason}: lost although they should have been kept (${lost.slice(0, 5).map((g) => g.gatewayId).join(', ')}${lost.length > 5 ? ', ...' : ''})`);
  }
  const chain: Record<string, number> = {};
  for (const g of gateways) {
    const kind = g.chain.startsWith('broken') ? 'broken' : g.chain;
    chain[kind] = (chain[kind] ?? 0) + 1;
  }
  return {
    pass: problems.length === 0,
    gateways,
    committed,
    missing: gateways.reduce((n, g) => n + size(g.missing), 0),
    duplicates: gateways.reduce((n, g) => n + g.duplicates.length, 0),
    coveredByGap,
    chain,
    problems,
  };
}
