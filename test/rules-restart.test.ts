import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/core/log.ts';
import type { EventDraft, JournalRecord } from '../src/core/types.ts';
import type { Alarm } from '../src/rules/index.ts';
import { decodeBatch } from '../src/uplink/decode.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/uplink/embedded-broker.ts';
import { PIN } from './helpers/gateway.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';

const ROOT = new URL('..', import.meta.url).pathname;
type EventRecord = JournalRecord & EventDraft;

/** `coldgate run` as a service starts it, in its own process group so that kill -9 takes all of it. */
function startChild(config: string, env: Record<string, string>): ChildProcess {
  const child = spawn('npx', ['tsx', 'src/cli/coldgate.ts', 'run', '--config', config], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[gateway] ${d}`));
  return child;
}

async function killGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid!, signal);
  } catch {
    return;
  }
  await exited;
}

describe('alarm state across kill -9 (gateway child process)', () => {
  const tmp = tempDir('coldgate-restart-');
  const children: ChildProcess[] = [];
  let broker: EmbeddedBroker | undefined;
  let client: mqtt.MqttClient | undefined;

  afterAll(async () => {
    for (const c of children) await killGroup(c, 'SIGKILL');
    client?.end(true);
    await broker?.close();
    tmp.cleanup();
  });

  it('keeps the raised alarm open after SIGKILL and a restart, without raising it again', async () => {
    broker = await startEmbeddedBroker('127.0.0.1', 0, silentLogger);
    // Every event the gateway publishes, by seq: a redelivery after the restart has the same seq.
    const events = new Map<number, EventRecord>();
    client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    client.on('message', (_t, payload) => {
      for (const r of decodeBatch(payload).records) if (r.kind === 'event') events.set(r.seq, r);
    });
    await client.subscribeAsync('coldgate/v1/restart-van/events', { qos: 1 });

    const simPort = await freePort();
    const httpPort = await freePort();
    const config = path.join(tmp.dir, 'gateway.json');
    writeFileSync(
      config,
      JSON.stringify({
        gatewayId: 'restart-van',
        uplink: { protocolVersion: 4, batchIntervalMs: 50 },
        // A chiller stuck at 12 C: warning and critical alarms at the first readings.
        sim: { modbus: { host: '127.0.0.1', port: simPort, compartments: [{ name: 'chiller', setpoint: 12, probes: 1 }] } },
        buses: [{ id: 'sim', type: 'tcp', host: '127.0.0.1', port: simPort }],
        probes: [{ id: 'chiller-1', bus: 'sim', unit: 1, address: 0, compartment: 'chiller', intervalMs: 250 }],
        compartments: [{ id: 'chiller', name: 'Chiller', preset: 'chilled', delaySec: 0 }],
        local: { pin: PIN },
      }),
    );
    const env = { COLDGATE_MQTT_URL: broker.url, COLDGATE_HTTP_PORT: String(httpPort), COLDGATE_DATA_DIR: path.join(tmp.dir, 'data'), COLDGATE_LOG_LEVEL: 'warn' };
    const state = async () => {
      try {
        return (await (await fetch(`http://127.0.0.1:${httpPort}/api/state`)).json()) as { alarms: Alarm[]; compartments: { probes: { at?: string }[] }[] };
      } catch {
        return undefined;
      }
    };
    const raised = () => [...events.values()].filter((e) => e.type === 'alarm.raised');

    const first = startChild(config, env);
    children.push(first);
    // On the broker means committed in the journal; the rules state was saved at the same moment.
    await waitFor(() => raised().some((e) => e.severity === 'critical'), 45_000, 'critical alarm.raised on the broker');
    const before = (await state())!.alarms.filter((a) => a.type === 'temperature');
    expect(before.map((a) => a.severity).sort()).toEqual(['critical', 'warning']);
    await killGroup(first, 'SIGKILL');

    const restartedAt = Date.now();
    children.push(startChild(config, env));
    // Wait until the restarted gateway has judged fresh readings, still above both limits.
    const after = await waitFor(async () => {
      const s = await state();
      const at = s?.compartments[0]?.probes[0]?.at;
      return at !== undefined && Date.parse(at) > restartedAt + 1000 ? s : undefined;
    }, 45_000, 'the restarted gateway reading the probe');
    const critical = before.find((a) => a.severity === 'critical')!;
    expect(after.alarms.filter((a) => a.type === 'temperature').map((a) => [a.id, a.active, a.ackedBy])).toEqual(before.map((a) => [a.id, true, undefined]));

    // Still the same alarm to act on: acknowledging it after the restart works and is published.
    const ack = await fetch(`http://127.0.0.1:${httpPort}/api/alarms/${critical.id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin: PIN }) });
    expect(ack.status).toBe(200);
    await waitFor(() => [...events.values()].some((e) => e.type === 'alarm.acknowledged' && (e.data as { alarmId: string }).alarmId === critical.id), 15_000, 'alarm.acknowledged on the broker');
    // Each condition was raised exactly once over both runs (distinct seqs; redeliveries share one).
    expect(raised().map((e) => (e.data as { alarm: Alarm }).alarm.key).sort()).toEqual(['temp:chiller:criticalHigh', 'temp:chiller:high']);
  });
});
