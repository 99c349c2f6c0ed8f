import type { GatewayConfigInput } from '../config/schema.ts';
import type { ProvisionAnswersInput } from './answers.ts';

/**
 * Answers that would give back `doc`'s settings: re-provisioning a box (a probe swapped, a new
 * broker) offers what is there as the defaults instead of making the installer type it again.
 */
export function answersFromConfig(doc: GatewayConfigInput): ProvisionAnswersInput {
  const u = doc.uplink ?? {};
  return {
    gatewayId: doc.gatewayId,
    ...(doc.dataDir && { dataDir: doc.dataDir }),
    broker: {
      url: u.url ?? 'mqtt://127.0.0.1:1883',
      ...(u.protocolVersion && { protocolVersion: u.protocolVersion }),
      ...(u.username && { username: u.username }),
      ...(u.password && { password: u.password }),
      ...(u.tls?.ca && { ca: u.tls.ca }),
      ...(u.tls?.cert && { cert: u.tls.cert }),
      ...(u.tls?.key && { key: u.tls.key }),
    },
    buses: (doc.buses ?? []).map((b) => ({
      id: b.id,
      port: b.type === 'rtu' ? b.path : `${b.type}://${b.host}:${b.port ?? 502}`,
      ...(b.type === 'rtu' && { baudRate: b.baudRate, parity: b.parity }),
    })),
    compartments: (doc.compartments ?? []).map((c) => ({ id: c.id, name: c.name, ...(c.preset && { preset: c.preset }) })),
    ...(doc.gps && { gps: { port: doc.gps.source, baudRate: doc.gps.baudRate } }),
    ...(doc.local?.pin && { pin: doc.local.pin }),
  };
}
