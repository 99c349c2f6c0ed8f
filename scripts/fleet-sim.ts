/**
 * `npm run fleet-sim -- [--gateways 200] [--processes 4] [--seconds 120] [--probes 4] [--hz 1]
 * [--batch-interval-ms 5000] [--receivers 2] [--settle-seconds 120] [--end-to-end auto|off] [--keep] [--json]`: simulated gateways (the real journal
 * and uplink) against mosquitto, `coldgate receive` processes in one share group, PostgreSQL;
 * receivers and gateways killed, the broker restarted without persistence; then, from the
 * database, whether every committed seq landed exactly once (scripts/fleet/README.md).
 * Exit 0 on PASS, 1 on FAIL, 2 on bad options.
 */
import { parseArgs } from 'node:util';
import { FLEET_DEFAULTS, fleetProblems, runFleet, type FleetResult } from './fleet/run.ts';

function options() {
  const text = { type: 'string' } as const;
  const { values } = parseArgs({
    options: { gateways: text, processes: text, seconds: text, probes: text, hz: text, receivers: text, 'settle-seconds': text, 'batch-interval-ms': text, 'end-to-end': text, keep: { type: 'boolean' }, json: { type: 'boolean' } },
  });
  const number = (name: 'gateways' | 'processes' | 'seconds' | 'probes' | 'hz' | 'receivers' | 'settle-seconds' | 'batch-interval-ms', fallback: number) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} ${raw}: expected a whole number of at least 1`);
    return n;
  };
  const endToEnd = values['end-to-end'] ?? 'auto';
  if (endToEnd !== 'auto' && endToEnd !== 'off') throw new Error(`--end-to-end ${endToEnd}: expected auto or off`);
  const fleet = {
    ...FLEET_DEFAULTS,
    gateways: number('gateways', FLEET_DEFAULTS.gateways),
    processes: number('processes', FLEET_DEFAULTS.processes),
    seconds: number('seconds', FLEET_DEFAULTS.seconds),
    probes: number('probes', FLEET_DEFAULTS.probes),
    hz: number('hz', FLEET_DEFAULTS.hz),
    batchIntervalMs: number('batch-interval-ms', FLEET_DEFAULTS.batchIntervalMs),
    receivers: number('receivers', FLEET_DEFAULTS.receivers),
    settleSeconds: number('settle-seconds', FLEET_DEFAULTS.settleSeconds),
    endToEnd: endToEnd as 'auto' | 'off',
    keep: values.keep === true,
  };
  const problems = fleetProblems(fleet);
  if (problems.length) throw new Error(problems.join('; '));
  return { json: values.json === true, fleet };
}

function printSummary(r: FleetResult): void {
  const f = r.figures;
  const v = r.verdict;
  const gaps = Object.entries(v.coveredByGap).map(([reason, n]) => `${n} ${reason}`).join(', ') || 'none';
  console.log(`\n${r.pass ? 'PASS' : 'FAIL'}: ${v.gatewaysOk} of ${f.gateways} gateways complete; ${v.committed} records committed, ${v.missing} missing, ${v.duplicates} stored twice, covered by gaps: ${gaps}`);
  for (const p of v.problems) console.log(`  ${p}`);
  console.log(`chain (receivers' check) ${Object.entries(v.chain).map(([k, n]) => `${n} ${k}`).join(', ')}`);
  console.log(`readings/s landed     ${f.landedReadingsPerSec} (offered ${f.offeredReadingsPerSec}, batches every ${f.batchIntervalMs} ms; ${f.readingsLanded} readings in the database)`);
  console.log(`commit latency        p50 ${f.commitLatencyMs.p50 ?? '-'} ms, p99 ${f.commitLatencyMs.p99 ?? '-'} ms (${f.commitLatencyMs.samples} commits)`);
  console.log(`receivers' peak RSS   ${Object.entries(f.receiverPeakRssMib).map(([name, mib]) => `${name} ${mib} MiB`).join(', ')}`);
  console.log(`gateway process RSS   peak ${f.workerPeakRssMib} MiB (${Math.ceil(f.gateways / f.processes)} gateways each)`);
  console.log(`settled after         ${f.settleSeconds} s`);
  if (r.workDir) console.log(`logs and journals     ${r.workDir}`);
}

let parsed: ReturnType<typeof options>;
try {
  parsed = options();
} catch (err) {
  process.stderr.write(`fleet-sim: ${(err as Error).message}\n`);
  process.exit(2);
}
const { json, fleet } = parsed;
try {
  const result = await runFleet({ ...fleet, print: (line) => process.stderr.write(`${line}\n`) });
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else printSummary(result);
  process.exit(result.pass ? 0 : 1);
} catch (err) {
  process.stderr.write(`fleet-sim failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
