import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '../src/config/load.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { UplinkConfig } from '../src/config/schema-uplink.ts';
import { silentLogger } from '../src/core/log.ts';
import type { EventDraft, JournalRecord } from '../src/core/types.ts';
import { Journal } from '../src/journal/journal.ts';
import { readJson } from '../src/local/body.ts';
import { HttpError } from '../src/local/respond.ts';
import type { Supervisor } from '../src/remote/index.ts';
import { remoteChangeProblems } from '../src/remote/policy.ts';
import { decodeBatch } from '../src/uplink/decode.ts';
import { startEmbeddedBroker } from '../src/uplink/embedded-broker.ts';
import { Uplink } from '../src/uplink/uplink.ts';
import { ManualProbes } from './helpers/gateway.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { CommandClient, startManaged } from './helpers/remote.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 's3cret';
const PIN = '2468';

/** A TCP server that keeps every byte sent to it and never answers: what a proxy on another port would capture. */
async function startRecorder(): Promise<{ port: number; bytes: () => Buffer; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    bytes: () => Buffer.concat(chunks),
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** An MQTT remaining length (1-4 bytes of 7 bits). */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** Writes a PUBLISH header announcing `announced` bytes, then zeros until the peer closes or `limit` bytes are out; resolves with how many went out. */
function floodPublish(socket: net.Socket, announced: number, limit: number): Promise<{ written: number; closedByPeer: boolean }> {
  const topic = Buffer.from('coldgate/v1/van-a/cmd/blob');
  socket.write(Buffer.from([0x30, ...varint(announced), 0, topic.length]));
  socket.write(topic);
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  return new Promise((resolve) => {
    let done = false;
    const finish = (closedByPeer: boolean) => {
      if (done) return;
      done = true;
      resolve({ written, closedByPeer });
    };
    socket.once('close', () => finish(true));
    socket.on('error', () => finish(true));
    const pump = () => {
      while (!done && written < limit) {
        written += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      // Everything is out and the peer still listens: give it a moment to hang up.
      setTimeout(() => finish(socket.destroyed), 1000);
    };
    pump();
  });
}

describe('remote set-config cannot take the box over (mosquitto MQTT 5, simulated Modbus TCP probe)', () => {
  const tmp = tempDir();
  const file = path.join(tmp.dir, 'config.json');
  const probes = new ManualProbes([4.2, 5.1]);
  let mosquitto: Mosquitto;
  let gateway: Supervisor;
  let ops: CommandClient;

  const goodConfig = () => ({
    gatewayId: 'van-a',
    dataDir: './data',
    uplink: { url: mosquitto.url, protocolVersion: 5, username: 'van-a', password: PASSWORD },
    buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1', port: probes.port, timeoutMs: 300 }],
    probes: [{ id: 'p1', bus: 'b', unit: 1, address: 0, intervalMs: 500, compartment: 'chiller' }],
    compartments: [{ id: 'chiller', name: 'Chiller', preset: 'chilled' }],
    local: { http: { port: 0 }, pin: PIN },
  });
  /** The config as get-config hands it out: secrets as the marker. */
  const asFetched = () => {
    const c = goodConfig();
    return { ...c, uplink: { ...c.uplink, password: '(unchanged)' }, local: { ...c.local, pin: '(unchanged)' } };
  };
  const setConfig = (config: unknown, extra: Record<string, unknown> = {}) => ops.send('set-config', { config, by: 'ops-jane', deadlineMs: 3000, ...extra });
  /** Events as the cloud gets them (the journal lets them go once the broker has them). */
  const events = async () =>
    ops.messages
      .filter((m) => m.topic === 'coldgate/v1/van-a/events')
      .flatMap((m) => decodeBatch(m.payload).records)
      .filter((r): r is JournalRecord & EventDraft => r.kind === 'event' && r.type.startsWith('config.'));

  beforeAll(async () => {
    mosquitto = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'mosquitto') });
    await Promise.all([mosquitto.start(), probes.start()]);
    writeFileSync(file, JSON.stringify(goodConfig(), null, 2));
    ({ gateway, ops } = await startManaged(file, mosquitto.url, 'ops-hardening', ['coldgate/v1/van-a/events']));
  });

  afterAll(async () => {
    await ops?.end();
    await gateway?.stop();
    await Promise.all([probes.close(), mosquitto?.stop()]);
    tmp.cleanup();
  });

  it('refuses a dataDir under /proc, /sys or /dev, also one that gets there by a relative path, at once and without a restart', async () => {
    const before = readFileSync(file, 'utf8');
    const startedAt = gateway.current().startedAt;
    const t0 = Date.now();
    const direct = (await setConfig({ ...asFetched(), dataDir: '/proc/self/coldgate' }))!;
    expect(direct).toMatchObject({ ok: false, error: expect.stringMatching(/^refused/) });
    expect(direct.problems).toContain('dataDir: must not be under /proc: give a path on a disk, e.g. /var/lib/coldgate');
    const escaping = (await setConfig({ ...asFetched(), dataDir: `${'../'.repeat(20)}sys/coldgate` }))!;
    expect(escaping.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^dataDir: \/sys\/coldgate is under \/sys: give a folder on a disk$/)]));
    expect((await setConfig({ ...asFetched(), uplink: { ...asFetched().uplink, tls: { ca: '/dev/zero' } } }))!.problems).toContain('uplink.tls.ca: must not be under /dev: give a path on a disk, e.g. /etc/coldgate/ca.pem');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(gateway.current().startedAt).toBe(startedAt);
  });

  it('refuses to change or remove the PIN, move the dataDir or grant itself those rights, and records each attempt without the secrets', async () => {
    const fetched = asFetched();
    const cases: [unknown, string][] = [
      [{ ...fetched, local: { ...fetched.local, pin: '9999' } }, 'local.pin: cannot be changed or removed remotely'],
      [{ ...fetched, local: { http: { port: 0 } } }, 'local.pin: cannot be changed or removed remotely'],
      [{ ...fetched, dataDir: './elsewhere' }, 'dataDir: cannot be changed remotely'],
      [{ ...fetched, local: { ...fetched.local, pin: '9999', remoteChanges: { pin: true } } }, 'local.remoteChanges: can only be changed in the file on the box'],
    ];
    for (const [config, problem] of cases) {
      const reply = (await setConfig(config, { by: 'ops-pin' }))!;
      expect(reply).toMatchObject({ ok: false, error: 'refused: the config is not valid or not allowed remotely; nothing changed' });
      expect(reply.problems).toEqual(expect.arrayContaining([expect.stringContaining(problem)]));
    }
    expect(JSON.parse(readFileSync(file, 'utf8')).local.pin).toBe(PIN);
    const refused = await waitFor(async () => {
      const now = (await events()).filter((e) => e.data?.by === 'remote:ops-pin');
      return now.length >= cases.length ? now : undefined;
    }, 5000, 'one event per refused change');
    expect(refused.map((e) => e.type)).toEqual(cases.map(() => 'config.refused'));
    expect(refused[0]).toMatchObject({ severity: 'warning', data: { by: 'remote:ops-pin', outcome: 'refused', changes: [{ path: 'local.pin', from: '(secret)', to: '(secret, new)' }] } });
    expect(refused[1]!.data!.changes).toEqual([{ path: 'local.pin', from: '(secret)' }]);
    expect(JSON.stringify(refused)).not.toMatch(/9999|2468|s3cret/);
  });

  it('does not send the stored broker password to a new broker host or port; a password sent with the command goes there', async () => {
    const recorder = await startRecorder();
    try {
      const fetched = asFetched();
      const moved = { ...fetched, uplink: { ...fetched.uplink, url: `mqtt://127.0.0.1:${recorder.port}` } };
      const refused = (await setConfig(moved))!;
      expect(refused.problems).toEqual([`uplink.password: the broker changes from plain 127.0.0.1:${mosquitto.url.split(':')[2]} to plain 127.0.0.1:${recorder.port}; the stored password is only for the current broker: send the new broker's password in the command`]);
      // With its own password the change goes ahead: the recorder never answers, so it is rolled back.
      const own = (await setConfig({ ...moved, uplink: { ...moved.uplink, password: 'for-the-new-one' } }, { deadlineMs: 2000 }))!;
      expect(own).toMatchObject({ ok: false, outcome: 'rolled-back', problems: [expect.stringMatching(/^uplink uplink: offline/)] });
      const captured = recorder.bytes().toString('latin1');
      expect(captured).toContain('for-the-new-one');
      expect(captured).not.toContain(PASSWORD);
    } finally {
      await recorder.close();
    }
  });

  it('sends replies only under coldgate/v1/{gatewayId}/reply/ and does not run a command that names another reply topic', async () => {
    const watched = ['coldgate/v1/van-a/telemetry', 'coldgate/v1/van-b/cmd/end-trip', 'ops/anything'];
    await ops.client.subscribeAsync(watched, { qos: 1 });
    expect(await ops.send('start-trip', { by: 'intruder' }, { responseTopic: 'coldgate/v1/van-a/telemetry', waitMs: 1500 })).toBeUndefined();
    await ops.client.publishAsync('coldgate/v1/van-a/cmd/start-trip', JSON.stringify({ by: 'intruder', replyTo: 'coldgate/v1/van-b/cmd/end-trip' }), { qos: 1 });
    await ops.client.publishAsync('coldgate/v1/van-a/cmd/ping', JSON.stringify({ replyTo: 'ops/anything' }), { qos: 1 });
    // An answer that must be refused before anything runs (not JSON) is not sent there either.
    expect(await ops.send('ping', '{oops', { responseTopic: 'ops/anything', waitMs: 1500 })).toBeUndefined();
    // Telemetry batches do arrive there (deflated); a reply would be plain JSON with a command name.
    expect(ops.messages.filter((m) => watched.includes(m.topic) && m.payload.toString('latin1').startsWith('{"command"'))).toEqual([]);
    expect(gateway.current().gateway.rules.snapshot().trip).toBeUndefined();
    await ops.client.unsubscribeAsync(watched);
  });

  it('refuses a command over 256 KiB with a reply; the broker never delivers one over the 1 MiB packet cap, and memory stays flat', async () => {
    const big = (await ops.send('ping', Buffer.alloc(512 * 1024, 0x20)))!;
    expect(big).toMatchObject({ ok: false, error: 'payload too large: 524288 bytes, at most 262144' });
    const before = gateway.current().gateway.health().find((h) => h.kind === 'uplink')!.lastOkAt;
    const huge = Buffer.alloc(20 * 1024 * 1024, 0x20);
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    expect(await ops.send('blob', huge, { waitMs: 3000 })).toBeUndefined();
    const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
    console.log(`RSS growth around a 20 MiB command: ${grew.toFixed(1)} MiB`);
    expect(grew).toBeLessThan(40);
    // Still the same connection, still answering.
    expect(gateway.current().gateway.health().find((h) => h.kind === 'uplink')!.lastOkAt).toBe(before);
    expect(await ops.send('ping', {})).toMatchObject({ ok: true });
  });

  it('answers a deeply nested body with a clear error', async () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(await ops.send('ping', deep(100_000))).toMatchObject({ ok: false, error: 'payload is nested deeper than 64 levels' });
    expect(await ops.send('set-config', `{"by":"ops","config":{"x":${deep(20_000)}}}`)).toMatchObject({ ok: false, error: 'payload is nested deeper than 64 levels' });
    expect(await ops.send('ping', {})).toMatchObject({ ok: true });
  });

  it('refuses an uplink rate limit below what the probes produce', async () => {
    const fetched = asFetched();
    const reply = (await setConfig({ ...fetched, uplink: { ...fetched.uplink, rateLimitBytesPerSec: 100 } }))!;
    expect(reply.problems).toEqual(['uplink.rateLimitBytesPerSec: 100 B/s is below what the probes and GPS produce (2.0 readings/s need at least 800 B/s): give 0 (unlimited) or at least 800']);
  });

  it('applies an allowed change and records who changed what, secrets redacted', async () => {
    const fetched = asFetched();
    const config = { ...fetched, uplink: { ...fetched.uplink, rateLimitBytesPerSec: 5000 }, probes: [...fetched.probes, { id: 'p2', bus: 'b', unit: 1, address: 1, intervalMs: 1000 }] };
    const reply = await setConfig(config);
    expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true, outcome: 'applied' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ uplink: { password: PASSWORD, rateLimitBytesPerSec: 5000 }, local: { pin: PIN } });
    const applied = await waitFor(async () => (await events()).find((e) => e.type === 'config.applied'), 5000, 'config.applied event');
    expect(applied).toMatchObject({
      severity: 'info',
      source: 'van-a',
      message: 'Config applied (set-config by remote:ops-jane): uplink.rateLimitBytesPerSec, probes[1]',
      data: { by: 'remote:ops-jane', outcome: 'applied', changes: [{ path: 'uplink.rateLimitBytesPerSec', to: 5000 }, { path: 'probes[1]', to: { id: 'p2' } }] },
    });
    expect(JSON.stringify(await events())).not.toMatch(/s3cret|2468/);
  });
});

describe('a set-config step that hangs is rolled back within its deadline', () => {
  const tmp = tempDir();
  const file = path.join(tmp.dir, 'config.json');
  const probes = new ManualProbes([4.2]);
  const fifo = path.join(tmp.dir, 'stuck', 'CURRENT');
  let mosquitto: Mosquitto;
  let gateway: Supervisor;
  let ops: CommandClient;

  beforeAll(async () => {
    mosquitto = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'mosquitto') });
    await Promise.all([mosquitto.start(), probes.start()]);
    writeFileSync(
      file,
      JSON.stringify({
        gatewayId: 'van-a',
        dataDir: './data',
        uplink: { url: mosquitto.url },
        buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1', port: probes.port }],
        probes: [{ id: 'p1', bus: 'b', unit: 1, address: 0, intervalMs: 500 }],
        local: { http: { port: 0 }, remoteChanges: { dataDir: true } },
      }),
    );
    // LevelDB reads CURRENT on open; a FIFO there blocks that read (in a worker thread) until someone writes.
    mkdirSync(path.dirname(fifo));
    execFileSync('mkfifo', [fifo]);
    ({ gateway, ops } = await startManaged(file, mosquitto.url, 'ops-hang'));
  });

  afterAll(async () => {
    // Release the blocked open so its thread ends.
    try {
      const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      writeFileSync(fd, 'garbage\n');
      closeSync(fd);
    } catch {
      /* nobody is blocked on it */
    }
    await ops?.end();
    await gateway?.stop();
    await Promise.all([probes.close(), mosquitto?.stop()]);
    tmp.cleanup();
  });

  it('gives up a journal open that never returns, restarts with the old config and keeps the old file', async () => {
    const before = readFileSync(file, 'utf8');
    const config = { ...JSON.parse(before), dataDir: './stuck' };
    const t0 = Date.now();
    const reply = (await ops.send('set-config', { config, by: 'ops', deadlineMs: 2000 }))!;
    const took = Date.now() - t0;
    expect(reply).toMatchObject({ ok: false, outcome: 'rolled-back', problems: ['start: not done within 2000 ms'], rejected: `${file}.rejected` });
    expect(took).toBeGreaterThanOrEqual(2000);
    expect(took).toBeLessThan(8000);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(JSON.parse(readFileSync(`${file}.rejected`, 'utf8')).dataDir).toBe('./stuck');
    expect(gateway.current().loaded.config.dataDir).toBe(path.join(tmp.dir, 'data'));
    await expect.poll(() => gateway.current().gateway.health().find((d) => d.id === 'p1')?.state, { timeout: 5000 }).toBe('ok');
    expect(await ops.send('ping', {})).toMatchObject({ ok: true });
  });
});

describe('oversized MQTT packets are cut off at the header (MQTT 3.1.1, where no size can be announced)', () => {
  it('the embedded broker disconnects a client that announces a 200 MB publish', async () => {
    const broker = await startEmbeddedBroker('127.0.0.1', 0, silentLogger);
    try {
      const port = Number(broker.url.split(':')[2]);
      const socket = net.connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      const id = Buffer.from('flooder');
      const body = Buffer.concat([Buffer.from([0, 4, ...Buffer.from('MQTT'), 4, 2, 0, 60, 0, id.length]), id]);
      socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
      await new Promise((r) => socket.once('data', r)); // CONNACK
      const { written, closedByPeer } = await floodPublish(socket, 200 * 1024 * 1024, 16 * 1024 * 1024);
      expect(closedByPeer).toBe(true);
      expect(written).toBeLessThan(4 * 1024 * 1024);
      // The broker itself is fine.
      const again = net.connect(port, '127.0.0.1');
      await new Promise((r, j) => again.once('connect', r).once('error', j));
      again.destroy();
    } finally {
      await broker.close();
    }
  });

  it('the uplink drops a broker connection that announces a 200 MB packet, before buffering it', async () => {
    const tmp = tempDir();
    const flooded: Promise<{ written: number; closedByPeer: boolean }>[] = [];
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write(Buffer.from([0x20, 2, 0, 0])); // CONNACK, accepted
        flooded.push(floodPublish(socket, 200 * 1024 * 1024, 16 * 1024 * 1024));
      });
      socket.on('error', () => undefined);
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    const journal = await Journal.open(tmp.dir, JournalConfig.parse({}), silentLogger);
    const commands: string[] = [];
    const uplink = new Uplink(UplinkConfig.parse({ url: `mqtt://127.0.0.1:${port}`, protocolVersion: 4, reconnectMinMs: 60_000 }), {
      journal,
      log: silentLogger,
      gatewayId: 'van-a',
      version: 'test',
      latest: () => ({ doc: {}, changeKey: '' }),
      onCommand: (c) => commands.push(c.name),
    });
    try {
      uplink.start();
      await waitFor(() => flooded.length > 0, 5000, 'the uplink to connect');
      const { written, closedByPeer } = await flooded[0]!;
      expect(closedByPeer).toBe(true);
      expect(written).toBeLessThan(4 * 1024 * 1024);
      expect(commands).toEqual([]);
    } finally {
      await uplink.stop();
      await journal.close();
      await new Promise((r) => server.close(r));
      tmp.cleanup();
    }
  });
});

describe('the display API body reader', () => {
  it('answers a deeply nested JSON body with a clear 400', async () => {
    const server = http.createServer((req, res) => {
      readJson(req, z.strictObject({ pin: z.string() })).then(
        () => res.end('ok'),
        (err: HttpError) => res.writeHead(err.status).end(err.message),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as net.AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `${'{"pin":'.repeat(100)}"1"${'}'.repeat(100)}` });
      expect([res.status, await res.text()]).toEqual([400, 'body is nested deeper than 64 levels']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('what a remote change may do to the broker credentials (remoteChangeProblems)', () => {
  const base = { gatewayId: 'van-a', uplink: { url: 'mqtt://broker.example', password: PASSWORD } };
  const loaded = (doc: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => parseConfig(doc, '/etc/coldgate/config.json', env);
  const problems = (url: string, passwordSent: boolean, env: NodeJS.ProcessEnv = {}) =>
    remoteChangeProblems({ current: loaded(base, env), next: loaded({ ...base, uplink: { ...base.uplink, url } }, env), passwordSent }).filter((p) => p.startsWith('uplink.password'));

  it.each([
    ['the same broker with its default port spelled out', 'mqtt://broker.example:1883', false, {}, 0],
    ['another host', 'mqtt://evil.example', false, {}, 1],
    ['another port', 'mqtt://broker.example:1884', false, {}, 1],
    ['the same host and port, now over TLS', 'mqtts://broker.example:1883', false, {}, 1],
    ['another host, with its own password', 'mqtt://evil.example', true, {}, 0],
    ['another host while the password comes from COLDGATE_MQTT_PASSWORD', 'mqtt://evil.example', true, { COLDGATE_MQTT_PASSWORD: 'from-env' }, 1],
  ])('%s', (_what, url, passwordSent, env, count) => {
    expect(problems(url, passwordSent, env)).toHaveLength(count);
  });
});
