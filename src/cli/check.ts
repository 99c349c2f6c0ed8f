import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import type { UplinkConfig } from '../config/schema-uplink.ts';
import { silentLogger } from '../core/log.ts';
import { checkProbes, formatProbeChecks } from '../../drivers/modbus-probe/check.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

export interface BrokerCheck {
  url: string;
  ok: boolean;
  detail: string;
  hint?: string;
}

const BROKER_TIMEOUT_MS = 5000;

/** Connects once with the gateway's own settings and disconnects; says what to fix when it fails. */
export async function checkBroker(cfg: UplinkConfig, gatewayId: string): Promise<BrokerCheck> {
  if (cfg.embeddedBroker) return { url: cfg.url, ok: true, detail: 'embedded broker, started by coldgate run' };
  return new Promise((resolve) => {
    const client = mqtt.connect(cfg.url, {
      protocolVersion: cfg.protocolVersion,
      clientId: `coldgate-check-${gatewayId}-${process.pid}`,
      username: cfg.username,
      password: cfg.password,
      reconnectPeriod: 0,
      connectTimeout: BROKER_TIMEOUT_MS,
    });
    const done = (result: BrokerCheck) => {
      client.end(true);
      resolve(result);
    };
    client.once('connect', () => done({ url: cfg.url, ok: true, detail: 'connected' }));
    client.once('error', (err) =>
      done({ url: cfg.url, ok: false, detail: err.message, hint: /auth|Not authorized|Bad user/i.test(err.message) ? 'check uplink.username and uplink.password' : 'check uplink.url, the network and the broker' }),
    );
    setTimeout(() => done({ url: cfg.url, ok: false, detail: `no answer in ${BROKER_TIMEOUT_MS / 1000} s`, hint: 'check uplink.url and that the broker port is reachable' }), BROKER_TIMEOUT_MS).unref();
  });
}

/** `coldgate check --config FILE [--json]`: every probe and the broker, green or red with what to do. */
export async function checkCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, strict: true });
  const file = values.config ?? process.env.COLDGATE_CONFIG;
  if (!file) {
    io.stderr.write('check: pass --config FILE (or set COLDGATE_CONFIG)\n');
    return EXIT_USAGE;
  }
  let config;
  try {
    config = loadConfig(file).config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) io.stderr.write(`${file}: ${problem}\n`);
    return EXIT_USAGE;
  }
  const [probes, broker] = await Promise.all([checkProbes(config, silentLogger), checkBroker(config.uplink, config.gatewayId)]);
  const ok = broker.ok && probes.every((p) => p.quality === 'good');
  if (values.json) io.stdout.write(`${JSON.stringify({ ok, probes, broker })}\n`);
  else {
    io.stdout.write(formatProbeChecks(probes));
    io.stdout.write(`\nbroker ${broker.url}: ${broker.ok ? 'OK' : 'FAIL'} ${broker.detail}${broker.hint ? ` -> ${broker.hint}` : ''}\n`);
  }
  return ok ? EXIT_OK : EXIT_FAILURE;
}
