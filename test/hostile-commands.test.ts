import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JournalRecord } from '../src/core/types.ts';
import { COMMAND_NAMES, type Supervisor } from '../src/remote/index.ts';
import { decodeBatch } from '../src/uplink/decode.ts';
import { ManualProbes } from './helpers/gateway.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { startManaged, type CommandClient, type Reply } from './helpers/remote.ts';
import { tempDir } from './helpers/tmp.ts';

/**
 * A managed gateway on mosquitto (MQTT 5) reading a probe every 250 ms, under a seeded stream of
 * hostile commands: unknown names, every known name with bodies of the wrong shape, random bytes,
 * deep nesting, long strings, prototype keys, and set-config with mutated configs. Every command
 * must get a reply that says what was wrong (never a stack overflow or an internal error), the
 * gateway must keep running, and every record it committed must reach the broker: the seqs the
 * cloud receives on telemetry and events together are 1..N without a hole.
 */
const COMMANDS = 600;
const PIN = '2468';

function rng(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

const tmp = tempDir('coldgate-hostile-');
const file = path.join(tmp.dir, 'config.json');
const probes = new ManualProbes([4.2]);
let mosquitto: Mosquitto;
let gateway: Supervisor;
let ops: CommandClient;

const goodConfig = () => ({
  gatewayId: 'van-a',
  dataDir: './data',
  uplink: { url: mosquitto.url, protocolVersion: 5 },
  buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1', port: probes.port, timeoutMs: 300 }],
  probes: [{ id: 'p1', bus: 'b', unit: 1, address: 0, intervalMs: 250, compartment: 'chiller' }],
  compartments: [{ id: 'chiller', name: 'Chiller', preset: 'chilled' }],
  local: { http: { port: 0 }, pin: PIN },
});

function hostileValue(r: () => number, depth = 0): unknown {
  switch (Math.floor(r() * 9)) {
    case 0: return null;
    case 1: return Math.floor(r() * 2 ** 53) * (r() < 0.5 ? -1 : 1);
    case 2: return 'x'.repeat(Math.floor(r() * 3000));
    case 3: return '/proc/self/../../dev/zero';
    case 4: return depth < 3 ? [hostileValue(r, depth + 1), hostileValue(r, depth + 1)] : [];
    case 5: return depth < 3 ? { [`k${Math.floor(r() * 5)}`]: hostileValue(r, depth + 1) } : {};
    case 6: return '(unchanged)';
    case 7: return r() < 0.5;
    default: return '\u0000\ud800<script>';
  }
}

/** A copy of the good config with one field replaced by something hostile. */
function mutatedConfig(r: () => number): Record<string, unknown> {
  const c = goodConfig() as Record<string, unknown>;
  const paths: ((v: unknown) => void)[] = [
    (v) => (c.dataDir = v),
    (v) => (c.gatewayId = v),
    (v) => ((c.uplink as Record<string, unknown>).url = v),
    (v) => ((c.local as Record<string, unknown>).pin = v),
    (v) => (c.probes = v),
    (v) => ((c.buses as Record<string, unknown>[])[0]!.port = v),
    (v) => (c.__proto__x = v),
  ];
  paths[Math.floor(r() * paths.length)]!(hostileValue(r));
  return c;
}

function hostileBody(r: () => number, name: string): string | Buffer | Record<string, unknown> {
  switch (Math.floor(r() * 8)) {
    case 0: return Buffer.from(Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256)));
    case 1: {
      // Deep enough to overflow anything that walks it recursively (clone, validation), small enough to pass the size cap.
      const depth = 20_000 + Math.floor(r() * 80_000);
      return `{"by":"fuzz","config":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    }
    case 2: return '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';
    case 3: return { by: hostileValue(r), alarmId: hostileValue(r), correlationId: hostileValue(r) };
    case 4: return { config: mutatedConfig(r), by: 'fuzz', deadlineMs: 1000 };
    case 5: return { by: 'fuzz', [`extra${Math.floor(r() * 3)}`]: hostileValue(r) };
    case 6: return name === 'set-config' ? { config: hostileValue(r), by: 'fuzz' } : 'null';
    default: return JSON.stringify(hostileValue(r));
  }
}

beforeAll(async () => {
  mosquitto = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'mosquitto') });
  await Promise.all([mosquitto.start(), probes.start()]);
  writeFileSync(file, JSON.stringify(goodConfig(), null, 2));
  ({ gateway, ops } = await startManaged(file, mosquitto.url, 'ops-hostile', ['coldgate/v1/van-a/telemetry', 'coldgate/v1/van-a/events']));
});

afterAll(async () => {
  await ops?.end();
  await gateway?.stop();
  await Promise.all([probes.close(), mosquitto?.stop()]);
  tmp.cleanup();
});

it(`answers ${COMMANDS} hostile commands with a reason each, keeps running and loses no record`, async () => {
  const r = rng(11);
  const names = [...COMMAND_NAMES, 'reboot', 'get-secrets', '..', 'ping%00'];
  const unanswered: string[] = [];
  const bad: string[] = [];
  let refused = 0;
  for (let i = 0; i < COMMANDS; i++) {
    const name = names[Math.floor(r() * names.length)]!;
    const body = hostileBody(r, name);
    const reply: Reply | undefined = await ops.send(name, body, { waitMs: 15_000 });
    if (!reply) {
      unanswered.push(name);
      continue;
    }
    if (!reply.ok) refused++;
    const text = JSON.stringify(reply);
    if (/Maximum call stack|internal|\n\s+at |polluted/.test(text) || (!reply.ok && typeof reply.error !== 'string')) bad.push(`${name}: ${text.slice(0, 200)}`);
  }
  expect(unanswered).toEqual([]);
  expect(bad).toEqual([]);
  // Most were refused: the stream is hostile, not a run of valid commands.
  expect(refused).toBeGreaterThan(COMMANDS / 2);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(await ops.send('ping', {})).toMatchObject({ ok: true });
  expect(JSON.parse(readFileSync(file, 'utf8')).gatewayId).toBe('van-a');

  // Nothing lost: once the journal has nothing pending, the cloud has every seq of this journal.
  const journal = () => gateway.current().gateway.journal.stats();
  await waitFor(() => journal().lanes.telemetry.records + journal().lanes.events.records === 0, 20_000, 'the journal to drain');
  const incarnation = journal().incarnation;
  const records: JournalRecord[] = ops.messages
    .filter((m) => m.topic === 'coldgate/v1/van-a/telemetry' || m.topic === 'coldgate/v1/van-a/events')
    .map((m) => decodeBatch(m.payload))
    .filter((b) => b.incarnation === incarnation)
    .flatMap((b) => b.records);
  const seqs = [...new Set(records.map((x) => x.seq))].sort((a, b) => a - b);
  const readings = records.filter((x) => x.kind === 'temperature').length;
  expect(readings, 'readings flowed during the fuzz').toBeGreaterThan(20);
  expect(seqs[0]).toBe(1);
  expect(seqs.length).toBe(journal().nextSeq - 1);
  console.log('hostile commands', JSON.stringify({ commands: COMMANDS, refused, readings, seqs: seqs.length }));
}, 300_000);
