import type { BusConfig, ResolvedProbe } from '../../src/config/schema-modbus.ts';
import { groupRegistersToReads, type Span } from './coalesce.ts';
import { registerCount } from './decode.ts';

/** One probe and the registers it needs. */
export interface ProbePlan {
  probe: ResolvedProbe;
  value: Span;
  /** Address of the status register, when the probe has a fault status bit. */
  status?: number;
}

/** What the scheduler polls as one unit of work: reads of one slave, function and interval. */
export interface ReadJob {
  unit: number;
  fn: 3 | 4;
  intervalMs: number;
  probes: ProbePlan[];
  /** Every distinct register run the probes need; a read that the device refuses is split back into these. */
  spans: Span[];
  reads: Span[];
}

export function planProbe(probe: ResolvedProbe): ProbePlan {
  const value = { address: probe.address, count: registerCount(probe.type) };
  return probe.faultStatus ? { probe, value, status: probe.faultStatus.address } : { probe, value };
}

function spansOf(plans: readonly ProbePlan[]): Span[] {
  const all = plans.flatMap((p) => (p.status === undefined ? [p.value] : [p.value, { address: p.status, count: 1 }]));
  const seen = new Map(all.map((s) => [`${s.address}/${s.count}`, s]));
  return [...seen.values()].sort((a, b) => a.address - b.address);
}

function job(unit: number, fn: 3 | 4, intervalMs: number, probes: ProbePlan[], reads: (spans: Span[]) => Span[]): ReadJob {
  const spans = spansOf(probes);
  return { unit, fn, intervalMs, probes, spans, reads: reads(spans) };
}

/**
 * Coalesced: one job per (unit, function, interval), its registers grouped into few reads.
 * Not coalesced: one job per probe and one read per register run, as naive pollers do.
 * Example: probes at input registers 0, 1, 2, 3 of unit 1, every 5 s, with maxGap 8 ->
 * one job with the read (0,4); without coalescing, four jobs with one read each.
 */
export function planJobs(probes: readonly ResolvedProbe[], bus: Pick<BusConfig, 'coalesce' | 'maxGap' | 'maxRegisters'>): ReadJob[] {
  const plans = probes.map(planProbe);
  if (!bus.coalesce) return plans.map((p) => job(p.probe.unit, p.probe.function, p.probe.intervalMs, [p], (spans) => spans.map((s) => ({ ...s }))));
  const groups = new Map<string, ProbePlan[]>();
  for (const p of plans) {
    const key = `${p.probe.unit}/${p.probe.function}/${p.probe.intervalMs}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  return [...groups.values()].map((ps) => {
    const first = ps[0]!.probe;
    return job(first.unit, first.function, first.intervalMs, ps, (spans) => groupRegistersToReads(spans, bus.maxGap, bus.maxRegisters));
  });
}
