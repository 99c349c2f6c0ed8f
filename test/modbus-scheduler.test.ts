import { afterEach, describe, expect, it } from 'vitest';
import { ModbusCommsError } from '../drivers/modbus-probe/faults.ts';
import { planJobs } from '../drivers/modbus-probe/plan.ts';
import type { PollOutcome } from '../drivers/modbus-probe/reading.ts';
import { BusScheduler, type PollLink } from '../drivers/modbus-probe/scheduler.ts';
import { BusConfig, ProbeConfig, resolveProbe } from '../src/config/schema-modbus.ts';
import { silentLogger } from '../src/core/log.ts';
import { waitFor } from './helpers/net.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A link whose units answer after `latencyMs`, or time out when listed in `dead`; it records what was sent and any overlap. */
function scriptedLink(opts: { latencyMs: number; dead?: number[] }) {
  const cfg = BusConfig.parse({ id: 'b', type: 'tcp', host: 'x', timeoutMs: 50, maxBackoffMs: 60_000 });
  const log: string[] = [];
  let busy = 0;
  let maxBusy = 0;
  const request = async <T>(what: string, unit: number, value: T): Promise<T> => {
    busy += 1;
    maxBusy = Math.max(maxBusy, busy);
    log.push(what);
    try {
      if (opts.dead?.includes(unit)) {
        await sleep(cfg.timeoutMs);
        throw new ModbusCommsError({ kind: 'timeout', text: 'timeout (no answer in 50 ms)' });
      }
      await sleep(opts.latencyMs);
      return value;
    } finally {
      busy -= 1;
    }
  };
  const link: PollLink = {
    cfg,
    read: (unit, fn, address, count) => request(`read ${unit}:${address}+${count}`, unit, Array.from({ length: count }, () => 200)),
    writeCoil: (unit, address) => request(`coil ${unit}:${address}`, unit, undefined),
    readBit: (unit, fn, address) => request(`bit ${fn} ${unit}:${address}`, unit, address % 2 === 1),
  };
  return { link, log, maxBusy: () => maxBusy };
}

function schedule(link: PollLink, probes: Record<string, unknown>[]) {
  const polls: { id: string; at: number; outcome: PollOutcome }[] = [];
  const resolved = probes.map((p, i) => resolveProbe(ProbeConfig.parse({ id: `p${i}`, bus: 'b', unit: 1, address: i, ...p })));
  const s = new BusScheduler(link, planJobs(resolved, link.cfg), (done) => done.forEach(({ plan, outcome }) => polls.push({ id: plan.probe.id, at: performance.now(), outcome })), silentLogger);
  return { s, polls };
}

describe('BusScheduler', () => {
  let running: BusScheduler | undefined;
  afterEach(async () => running?.stop());

  it('never overlaps requests and drops slots rather than queueing them when the bus is slower than the interval', async () => {
    const { link, maxBusy } = scriptedLink({ latencyMs: 60 });
    const { s, polls } = schedule(link, [{ unit: 1, intervalMs: 100 }, { unit: 2, intervalMs: 100 }]);
    running = s;
    s.start();
    await sleep(1000);
    await s.stop();
    expect(maxBusy()).toBe(1);
    // Two 60 ms reads per 100 ms slot cannot fit: about 1000 / 120 cycles ran, the rest were counted as overruns.
    expect(polls.length).toBeLessThanOrEqual(18);
    expect(polls.length).toBeGreaterThanOrEqual(10);
    expect(s.counters.overruns).toBeGreaterThan(0);
  });

  it('puts a coil write ahead of polls that are due', async () => {
    const { link, log } = scriptedLink({ latencyMs: 20 });
    const { s } = schedule(link, [{ unit: 1 }, { unit: 2 }, { unit: 3 }]);
    running = s;
    s.start();
    const write = s.writeCoil(7, 4, true);
    await write;
    // The first poll was already on the wire; the write went next, ahead of units 2 and 3.
    expect(log.slice(0, 2)).toEqual(['read 1:0+1', 'coil 7:4']);
  });

  it('backs off a dead unit exponentially, reporting its probes without asking it', async () => {
    const { link, log } = scriptedLink({ latencyMs: 1, dead: [9] });
    const { s, polls } = schedule(link, [{ unit: 1, intervalMs: 100 }, { unit: 9, intervalMs: 100 }]);
    running = s;
    s.start();
    await sleep(2500);
    await s.stop();
    const asked = log.filter((l) => l.startsWith('read 9')).length;
    // 3 timeouts, then pauses of 1 s and 2 s: 4 requests in 2.5 s instead of 25.
    expect(asked).toBe(4);
    const dead = polls.filter((p) => p.id === 'p1' && !p.outcome.ok).map((p) => (p.outcome.ok ? '' : p.outcome.fault.kind));
    expect(dead.filter((k) => k === 'backoff').length).toBeGreaterThan(10);
    expect(polls.filter((p) => p.id === 'p0' && p.outcome.ok).length).toBeGreaterThanOrEqual(22);
  });

  it('hands over every probe of a coalesced read in one call, answered or failed', async () => {
    const { link } = scriptedLink({ latencyMs: 1, dead: [2] });
    const calls: string[][] = [];
    const probes = [{ unit: 1 }, { unit: 1 }, { unit: 1 }, { unit: 2 }, { unit: 2 }].map((p, i) => resolveProbe(ProbeConfig.parse({ id: `p${i}`, bus: 'b', address: i, ...p })));
    const s = new BusScheduler(link, planJobs(probes, link.cfg), (polls) => calls.push(polls.map(({ plan, outcome }) => `${plan.probe.id}:${outcome.ok}`)), silentLogger);
    await s.pollOnce();
    expect(calls).toEqual([['p0:true', 'p1:true', 'p2:true'], ['p3:false', 'p4:false']]);
  });

  it('refuses writes once stopped', async () => {
    const { link } = scriptedLink({ latencyMs: 1 });
    const { s } = schedule(link, [{}]);
    s.start();
    await waitFor(() => s.counters.requests > 0);
    await s.stop();
    await expect(s.writeCoil(1, 0, true)).rejects.toThrow(/coil write to unit 1 address 0 not sent: the bus is not running/);
  });
});
