import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBatch } from '../src/uplink/decode.ts';
import type { JournalRecord } from '../src/core/types.ts';
import { demoConfig, GatewayProcess } from './helpers/demo-gateway.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('e2e-');
afterAll(() => tmp.cleanup());

/** Collects every record the gateway publishes on telemetry and events, in arrival order. */
function collect(client: mqtt.MqttClient) {
  const records: JournalRecord[] = [];
  const topics: string[] = [];
  client.on('message', (topic, payload) => {
    topics.push(topic);
    if (!/\/(telemetry|events)$/.test(topic)) return;
    records.push(...decodeBatch(payload).records);
  });
  return { records, topics };
}

const ROOT = path.resolve(import.meta.dirname, '..');

/** Ctrl-C, and a clean stop: exit 0 after the 'stopped' line, not the deadline's exit. */
async function stopCleanly(gateway: GatewayProcess): Promise<number> {
  const { code, ms } = await gateway.stop('SIGINT');
  expect(gateway.output).not.toMatch(/stop took too long/);
  expect(gateway.output).toMatch(/"msg":"stopped"/);
  expect(code).toBe(0);
  return ms;
}

describe('the demo end to end', () => {
  it('reads the simulated devices, journals, publishes with seq, serves the page, and stops within 2 s', async () => {
    const { file, brokerPort, httpPort } = await demoConfig(path.join(tmp.dir, 'demo'));
    const gateway = new GatewayProcess(file);
    await gateway.start();
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { protocolVersion: 4, reconnectPeriod: 0 });
    const seen = collect(sub);
    await sub.subscribeAsync('coldgate/v1/#', { qos: 1 });
    try {
      await waitFor(() => seen.records.some((r) => r.kind === 'temperature') && seen.records.some((r) => r.kind === 'position'), 15_000, 'temperature and position records');
      expect(seen.topics).toContain('coldgate/v1/demo-van-01/status');
      const temps = seen.records.filter((r) => r.kind === 'temperature');
      expect(new Set(temps.map((t) => t.probe))).toEqual(new Set(['chiller-front', 'chiller-rear', 'freezer-front', 'freezer-rear']));
      for (const t of temps) {
        expect(t.quality).toBe('good');
        expect(Number.isInteger(t.seq) && t.seq > 0).toBe(true);
      }
      // The thermal model keeps the chiller near +3 C and the freezer near -20 C.
      const chiller = temps.find((t) => t.compartment === 'chiller')!.value!;
      const freezer = temps.find((t) => t.compartment === 'freezer')!.value!;
      expect(chiller).toBeGreaterThan(-1);
      expect(chiller).toBeLessThan(8);
      expect(freezer).toBeLessThan(-15);
      const position = seen.records.find((r) => r.kind === 'position')!;
      expect(position).toMatchObject({ mode: 3, tq: 'gps' });
      expect(position.kind === 'position' && Math.abs(position.lat - 48.76) < 0.1).toBe(true);

      const page = await fetch(`http://127.0.0.1:${httpPort}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script src="page.js"');
      expect(await (await fetch(`http://127.0.0.1:${httpPort}/page.js`)).text()).toContain("new EventSource('events')");
      const state = (await (await fetch(`http://127.0.0.1:${httpPort}/api/state`)).json()) as { compartments: { id: string; value: number | null }[] };
      expect(state.compartments.map((c) => c.id)).toEqual(['chiller', 'freezer']);
      expect(state.compartments.every((c) => typeof c.value === 'number')).toBe(true);
    } finally {
      await sub.endAsync();
      expect(await stopCleanly(gateway)).toBeLessThan(2000);
    }
  });

  it('runs the same from the bundle the service uses (plain node, no TypeScript loader)', async () => {
    const bundle = path.join(ROOT, 'dist/coldgate.mjs');
    execFileSync(process.execPath, ['scripts/build.mjs', '--outfile', bundle], { cwd: ROOT });
    const { file, brokerPort, httpPort } = await demoConfig(path.join(tmp.dir, 'bundle'));
    const gateway = new GatewayProcess(file, {}, [bundle]);
    await gateway.start();
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { protocolVersion: 4, reconnectPeriod: 0 });
    const seen = collect(sub);
    await sub.subscribeAsync('coldgate/v1/+/+', { qos: 1 });
    try {
      await waitFor(() => seen.records.some((r) => r.kind === 'temperature'), 15_000, 'a temperature batch');
      // The display's files and the version are found from the bundle's place in the tree.
      expect(await (await fetch(`http://127.0.0.1:${httpPort}/page.js`)).text()).toContain('EventSource');
      expect(gateway.output).toMatch(/"version":"\d+\.\d+\.\d+"/);
      // The embedded broker is a dynamic import from the bundle's vm.Script: no experimental-loader warning in the log.
      expect(gateway.output).toContain('embedded MQTT broker listening');
      expect(gateway.output).not.toContain('Warning');
    } finally {
      await sub.endAsync();
      await stopCleanly(gateway);
    }
  });

  it('continues seq after a restart with nothing lost and no seq reused', async () => {
    const broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'restart-broker') });
    await broker.start();
    const { file } = await demoConfig(path.join(tmp.dir, 'restart'));
    const env = { COLDGATE_MQTT_URL: broker.url };
    const dataDir = path.join(tmp.dir, 'restart', 'data');
    const sub = mqtt.connect(broker.url, { clientId: 'e2e-cloud', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 600 } });
    const seen = collect(sub);
    try {
      await sub.subscribeAsync('coldgate/v1/+/telemetry', { qos: 1 });
      await sub.subscribeAsync('coldgate/v1/+/events', { qos: 1 });
      const gateway = new GatewayProcess(file, env);
      await gateway.start();
      await waitFor(() => seen.records.length >= 12, 20_000, 'a dozen records from the first run');
      await stopCleanly(gateway);
      const stats = JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/coldgate.ts', 'journal', 'stats', '--data', dataDir, '--json'], { cwd: ROOT }).toString(),
      ) as { nextSeq: number };
      const firstRunEnd = stats.nextSeq - 1;
      expect(firstRunEnd).toBeGreaterThanOrEqual(12);

      await gateway.start();
      await waitFor(() => seen.records.some((r) => r.seq > firstRunEnd + 8), 20_000, 'records from the second run');
      await stopCleanly(gateway);

      const bySeq = new Map<number, JournalRecord>();
      for (const r of seen.records) {
        const earlier = bySeq.get(r.seq);
        // A duplicate is allowed (at least once), a different record under the same seq is not.
        if (earlier) expect(r).toEqual(earlier);
        bySeq.set(r.seq, r);
      }
      const max = Math.max(...bySeq.keys());
      const missing = Array.from({ length: max }, (_, i) => i + 1).filter((s) => !bySeq.has(s));
      expect(missing).toEqual([]);
      expect(max).toBeGreaterThan(firstRunEnd);
    } finally {
      await sub.endAsync();
      await broker.stop();
    }
  });

  it('a stop that hangs past the deadline exits 1 and says so (the deadline is no clean stop)', () => {
    // The run command's own deadline, with a stop that never finishes.
    const script = [
      "import { stopWithin } from './src/cli/run.ts';",
      "import { createLogger } from './src/core/log.ts';",
      'await stopWithin(300, () => new Promise(() => {}), createLogger("info", { pretty: false }));',
    ].join('\n');
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
    expect(r.stdout).toMatch(/"level":50.*"deadlineMs":300.*"msg":"stop took too long/);
    expect(r.status).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });
});
