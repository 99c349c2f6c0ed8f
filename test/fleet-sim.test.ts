import { describe, expect, it } from 'vitest';
import { runFleet, FLEET_DEFAULTS } from '../scripts/fleet/run.ts';
import { hasPeer, peerPresent } from './helpers/peers.ts';
import { pgBin } from './helpers/postgres.ts';

const peers = hasPeer('mosquitto') && peerPresent(pgBin() !== undefined, 'PostgreSQL server binaries (initdb) are not installed');

/**
 * A small fleet under the issue's faults (scripts/fleet/README.md): a receiver killed with
 * SIGKILL, the broker restarted without persistence while the receivers are down, a gateway
 * process killed with SIGKILL; every seq each journal committed must then be in the database
 * exactly once (or in a declared gap), with no holes in the receivers' status.
 */
describe.runIf(peers)('fleet simulation (scripts/fleet-sim)', () => {
  it('20 gateways, 2 processes, 2 receivers, 40 s of faults: every committed seq lands exactly once', async () => {
    const lines: string[] = [];
    const result = await runFleet({ ...FLEET_DEFAULTS, gateways: 20, processes: 2, seconds: 40, settleSeconds: 30, print: (line) => lines.push(line) });
    const report = `${lines.join('\n')}\n${JSON.stringify(result.verdict, null, 2)}`;
    // Each fault happened, in order (a run that skipped one would prove less).
    expect(result.timeline.map((e) => e.what.replace(/\d+/g, 'N')), report).toEqual(expect.arrayContaining(['kill -N receiver-N', expect.stringMatching(/^broker stopped/), 'kill -N gateways-N']));
    expect(result.verdict.problems, report).toEqual([]);
    expect(result.pass, report).toBe(true);
    expect(result.verdict.gatewaysOk).toBe(20);
    // Recovered, not excused: end-to-end mode keeps what the broker forgot, so no range is declared not-held.
    expect(result.verdict.coveredByGap, report).toEqual({});
    expect(result.verdict.chain, report).toEqual({ ok: 20 });
    // The fleet produced: about 20 gateways x 4 readings a second x 40 s (the killed process lost 2 s).
    expect(result.figures.readingsLanded).toBeGreaterThan(20 * 4 * 30);
    expect(result.figures.commitLatencyMs.samples).toBeGreaterThan(0);
  }, 110_000);
});
