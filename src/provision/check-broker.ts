import mqtt, { type IClientOptions } from 'mqtt';
import type { UplinkConfig } from '../config/schema-uplink.ts';
import { readTls } from '../uplink/tls.ts';

export interface BrokerCheck {
  url: string;
  ok: boolean;
  detail: string;
  hint?: string;
}

const BROKER_TIMEOUT_MS = 5000;

function hintFor(message: string): string {
  if (/auth|Not authorized|Bad user/i.test(message)) return 'check uplink.username and uplink.password (or the client certificate) against the broker';
  if (/certificate|self.signed|CERT_|unable to verify/i.test(message)) return 'check uplink.tls.ca (the CA that signed the broker) and the box clock';
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return 'the broker name does not resolve: check uplink.url and the box DNS';
  return 'check uplink.url, the network (SIM, APN, Wi-Fi) and that the broker port is reachable';
}

/** Connects once with the gateway's own settings and disconnects; says what to fix when it fails. */
export async function checkBroker(cfg: UplinkConfig, gatewayId: string): Promise<BrokerCheck> {
  if (cfg.embeddedBroker) return { url: cfg.url, ok: true, detail: 'embedded broker, started by coldgate run' };
  let tls;
  try {
    tls = readTls(cfg.tls);
  } catch (err) {
    return { url: cfg.url, ok: false, detail: (err as Error).message, hint: 'fix the file or the path in the config' };
  }
  return new Promise((resolve) => {
    const client = mqtt.connect(cfg.url, {
      protocolVersion: cfg.protocolVersion,
      clientId: `coldgate-check-${gatewayId}-${process.pid}`,
      username: cfg.username,
      password: cfg.password,
      reconnectPeriod: 0,
      connectTimeout: BROKER_TIMEOUT_MS,
      ...tls,
    });
    const done = (result: BrokerCheck) => {
      clearTimeout(timer);
      client.end(true);
      resolve(result);
    };
    client.once('connect', () => done({ url: cfg.url, ok: true, detail: `connected (MQTT ${cfg.protocolVersion === 5 ? '5' : '3.1.1'})` }));
    client.once('error', (err) => done({ url: cfg.url, ok: false, detail: err.message, hint: hintFor(err.message) }));
    const timer = setTimeout(() => done({ url: cfg.url, ok: false, detail: `no answer in ${BROKER_TIMEOUT_MS / 1000} s`, hint: hintFor('') }), BROKER_TIMEOUT_MS);
  });
}
