import { resolveProbe, type BusConfig, type ProbeConfig } from '../../src/config/schema-modbus.ts';
import type { Logger } from '../../src/core/log.ts';
import type { ReadingQuality } from '../../src/core/types.ts';
import { hintFor } from './faults.ts';
import { BusLink, describeBus } from './link.ts';
import { planJobs } from './plan.ts';
import { judgePoll, type Judged } from './reading.ts';
import { BusScheduler } from './scheduler.ts';

export interface ProbeCheck {
  probe: string;
  bus: string;
  /** Where the bus is, e.g. tcp://10.0.0.5:502. */
  at: string;
  unit: number;
  function: 3 | 4;
  address: number;
  quality: ReadingQuality;
  /** °C when quality is good. */
  value: number | null;
  error?: string;
  /** What to try next, for a failed probe. */
  hint?: string;
}

function hint(j: Judged): string | undefined {
  if (j.quality === 'comms-error') return hintFor(j.fault);
  if (j.quality === 'good') return undefined;
  if (/^(fault value|status register)/.test(j.reason)) return 'the transmitter reports its sensor broken or unplugged: check the sensor element and its cable';
  return 'the value makes no sense as a temperature: check type, word order, scale and offset against the device manual';
}

/** Opens each bus, reads every probe once (buses in parallel, one request at a time per bus) and closes again. */
export async function checkProbes(cfg: { buses: BusConfig[]; probes: ProbeConfig[] }, log: Logger): Promise<ProbeCheck[]> {
  const results = new Map<string, ProbeCheck>();
  await Promise.all(
    cfg.buses.map(async (bus) => {
      const probes = cfg.probes.filter((p) => p.bus === bus.id).map(resolveProbe);
      if (probes.length === 0) return;
      const link = new BusLink(bus, log);
      const scheduler = new BusScheduler(
        link,
        planJobs(probes, bus),
        (polls) => {
          for (const { plan: { probe }, outcome } of polls) {
            const j = judgePoll(probe, bus.id, outcome);
            const h = hint(j);
            results.set(probe.id, {
              probe: probe.id,
              bus: bus.id,
              at: describeBus(bus),
              unit: probe.unit,
              function: probe.function,
              address: probe.address,
              quality: j.quality,
              value: j.value,
              ...('error' in j && { error: j.error }),
              ...(h !== undefined && { hint: h }),
            });
          }
        },
        log,
      );
      link.start();
      await link.waitOpen(Math.max(3000, bus.timeoutMs * 3));
      try {
        await scheduler.pollOnce();
      } finally {
        await link.stop();
      }
    }),
  );
  // Only a config that skipped validation gets here without a result.
  const orphan = (p: ProbeConfig): ProbeCheck => ({
    probe: p.id,
    bus: p.bus,
    at: '',
    unit: p.unit,
    function: resolveProbe(p).function,
    address: p.address,
    quality: 'comms-error',
    value: null,
    error: `probe ${p.id}: no bus with id "${p.bus}"`,
    hint: 'add the bus to "buses" or fix the probe\'s "bus" field',
  });
  return cfg.probes.map((p) => results.get(p.id) ?? orphan(p));
}

/**
 * A plain table, one probe a line, with what to do under each failed one:
 *   probe  bus  unit  register  reading
 *   t0     cab  1     4:0       3.5 °C
 *   t9     cab  9     4:0       comms error: timeout (no answer in 1000 ms)
 *                                 -> no answer: check the unit id, wiring ...
 */
export function formatProbeChecks(checks: readonly ProbeCheck[]): string {
  const rows = checks.map((c) => [c.probe, c.bus, String(c.unit), `${c.function}:${c.address}`, c.quality === 'good' ? `${c.value} °C` : `${c.quality.replace('-', ' ')}: ${c.error?.replace(/^probe [^:]*: /, '') ?? ''}`]);
  const header = ['probe', 'bus', 'unit', 'register', 'reading'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const indent = ' '.repeat(widths.slice(0, 4).reduce((a, w) => a + w + 2, 0));
  const out = [line(header)];
  checks.forEach((c, i) => {
    out.push(line(rows[i]!));
    if (c.hint) out.push(`${indent}-> ${c.hint}`);
  });
  const bad = checks.filter((c) => c.quality !== 'good').length;
  out.push(bad === 0 ? `all ${checks.length} probes read` : `${bad} of ${checks.length} probes failed`);
  return out.join('\n');
}
