import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Journal } from '../src/journal/journal.ts';
import { Uplink } from '../src/uplink/uplink.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { parseConfig } from '../src/config/load.ts';
import { createLogger, type Logger } from '../src/core/log.ts';
import { Collector } from './helpers/gateway-child.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { hasPeer } from './helpers/peers.ts';
import { tempDir } from './helpers/tmp.ts';

const ready = hasPeer('mosquitto') && hasPeer('openssl') && hasPeer('mosquitto_passwd');
const tmp = tempDir('tls-');
const cleanups: (() => Promise<unknown>)[] = [];
const PASSWORD = 'pw-7f3a9c-never-log-me';
let broker: Mosquitto;
let tlsPort: number;
let certs: string;

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: certs, stdio: 'pipe' });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate for the gateway. */
function makeCertificates() {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=coldgate test CA');
  for (const [name, cn, ext] of [
    ['server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'van-tls', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    writeFileSync(path.join(certs, `${name}.ext`), `${ext}\n`);
    openssl('req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
    // mosquitto drops to its own user and must read the server key (test keys only).
    chmodSync(path.join(certs, `${name}.key`), 0o644);
  }
}

beforeAll(async () => {
  if (!ready) return;
  const dir = path.join(tmp.dir, 'broker');
  certs = path.join(dir, 'certs');
  tlsPort = await freePort();
  // password_file is global (no per-listener settings): a wrong password is refused on every listener, anonymous is allowed.
  const extra = [`password_file ${dir}/passwd`, `listener ${tlsPort} 127.0.0.1`, `cafile ${certs}/ca.crt`, `certfile ${certs}/server.crt`, `keyfile ${certs}/server.key`, 'require_certificate true', 'use_identity_as_username true'];
  broker = new Mosquitto({ port: await freePort(), dir, extra });
  mkdirSync(certs, { mode: 0o755 });
  makeCertificates();
  execFileSync('mosquitto_passwd', ['-b', '-c', path.join(dir, 'passwd'), 'van-pw', PASSWORD]);
  chmodSync(path.join(dir, 'passwd'), 0o644);
  await broker.start();
  cleanups.push(() => broker.stop());
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  tmp.cleanup();
});

/** The product's logger (src/core/log.ts, redaction and all), its JSON lines kept for the test. */
function captureLogger(): { log: Logger; text: () => string } {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { log: createLogger('debug', { destination: sink }), text: () => out };
}

async function deliver(name: string, env: Record<string, string>, log: Logger) {
  const { config } = parseConfig({ gatewayId: name, dataDir: path.join(tmp.dir, name), uplink: { batchIntervalMs: 10, reconnectMinMs: 200 } }, path.join(tmp.dir, 'cfg.json'), env);
  const journal = await Journal.open(config.dataDir, JournalConfig.parse({}), log);
  cleanups.push(() => journal.close());
  const uplink = new Uplink(config.uplink, { journal, log, gatewayId: name, version: 'test', latest: () => ({ doc: {}, changeKey: '' }) });
  log.info({ uplink: config.uplink }, 'uplink config');
  uplink.start();
  cleanups.push(() => uplink.stop());
  await journal.append({ kind: 'event', ts: new Date().toISOString(), tq: 'system', type: 'boot', severity: 'info', message: 'hello' });
  return { journal, uplink };
}

it.runIf(ready)('mqtts with a CA, a client certificate and key from the environment (mutual TLS)', async () => {
  const collector = new Collector(broker.url, 'coldgate/v1/van-tls/events');
  await collector.connect();
  cleanups.push(() => collector.close());
  const { log } = captureLogger();
  const env = { COLDGATE_MQTT_URL: `mqtts://127.0.0.1:${tlsPort}`, COLDGATE_MQTT_CA: `${certs}/ca.crt`, COLDGATE_MQTT_CERT: `${certs}/client.crt`, COLDGATE_MQTT_KEY: `${certs}/client.key` };
  const { journal, uplink } = await deliver('van-tls', env, log);
  await waitFor(() => collector.seen.size === 1 && journal.stats().lanes.events.records === 0, 10_000, 'the event over TLS');
  expect(uplink.health().detail).toBe(`connected to mqtts://127.0.0.1:${tlsPort}`);
  // Without a client certificate the broker refuses the TLS handshake.
  const bare = mqtt.connect(`mqtts://127.0.0.1:${tlsPort}`, { ca: readFileSync(`${certs}/ca.crt`), reconnectPeriod: 0, connectTimeout: 3000 });
  const refused = await new Promise<string>((resolve) => {
    bare.once('connect', () => resolve('connected'));
    bare.once('error', (e) => resolve(e.message));
    bare.once('close', () => resolve('closed'));
  });
  bare.end(true);
  expect(refused).not.toBe('connected');
});

it.runIf(ready)('username and password from the environment; the password never reaches a log line, right or wrong', async () => {
  const collector = new Collector(broker.url, 'coldgate/v1/+/events');
  await collector.connect();
  cleanups.push(() => collector.close());
  const good = captureLogger();
  const { journal } = await deliver('van-pw', { COLDGATE_MQTT_URL: broker.url, COLDGATE_MQTT_USERNAME: 'van-pw', COLDGATE_MQTT_PASSWORD: PASSWORD }, good.log);
  await waitFor(() => journal.stats().lanes.events.records === 0, 10_000, 'the event with a password');
  const bad = captureLogger();
  const wrong = `${PASSWORD}-wrong`;
  const { uplink } = await deliver('van-bad', { COLDGATE_MQTT_URL: broker.url, COLDGATE_MQTT_USERNAME: 'van-pw', COLDGATE_MQTT_PASSWORD: wrong }, bad.log);
  await waitFor(() => /uplink error/.test(bad.text()), 10_000, 'the refusal to be logged');
  expect(uplink.connected()).toBe(false);
  expect(collector.arrivals.map((a) => a.topic)).toEqual(['coldgate/v1/van-pw/events']);
  for (const text of [good.text(), bad.text()]) {
    expect(text).toContain('"password":"[redacted]"');
    expect(text).not.toContain(PASSWORD);
  }
  expect(bad.text()).toMatch(/Not authorized|Bad User Name or Password/i);
  // Credentials in the URL would be logged with it: the config refuses them.
  expect(() => parseConfig({ gatewayId: 'x', uplink: { url: `mqtt://van-pw:${PASSWORD}@127.0.0.1:1883` } }, 'cfg.json')).toThrow(/must not hold credentials/);
});
