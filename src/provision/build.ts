import type { GatewayConfigInput } from '../config/schema.ts';
import type { FoundUnit } from '../../drivers/modbus-probe/cli-scan.ts';
import type { BusAnswer, ProbeRef, ProvisionAnswers } from './answers.ts';

/** Units that answered the scan, by bus id. */
export type ScanResults = Record<string, FoundUnit[]>;

export const busIdOf = (b: BusAnswer, index: number) => b.id ?? `bus${index + 1}`;

interface Unit {
  bus: string;
  unit: number;
  /** Input registers refused but holding registers read: the probe keeps its value in holding registers. */
  holdingOnly: boolean;
}

function busConfig(b: BusAnswer, id: string): NonNullable<GatewayConfigInput['buses']>[number] {
  const net = /^(tcp|rtu-tcp):\/\/([^:/]+):(\d+)$/.exec(b.port);
  if (net) return { id, type: net[1] as 'tcp' | 'rtu-tcp', host: net[2]!, port: Number(net[3]) };
  return { id, type: 'rtu', path: b.port, baudRate: b.baudRate, parity: b.parity };
}

function resolveRef(ref: ProbeRef, units: Unit[]): Unit | string {
  const [bus, unit] = typeof ref === 'number' ? [undefined, ref] : [ref.split(':')[0]!, Number(ref.split(':')[1])];
  const matches = units.filter((u) => u.unit === unit && (bus === undefined || u.bus === bus));
  if (matches.length === 1) return matches[0]!;
  const found = units.map((u) => `${u.bus}:${u.unit}`).join(', ') || 'none';
  if (matches.length === 0) return `unit ${ref} did not answer the scan (found: ${found})`;
  return `unit ${unit} answers on ${matches.map((m) => m.bus).join(' and ')}: write BUS:UNIT, e.g. "${matches[0]!.bus}:${unit}"`;
}

/**
 * Which compartment each found unit belongs to: as the answers name them, or else split evenly
 * in scan order. E.g. units 1-4 and compartments front, rear without `probes` -> 1,2 front; 3,4 rear.
 */
function assign(a: ProvisionAnswers, units: Unit[]): { owner: Map<Unit, string>; problems: string[] } {
  const owner = new Map<Unit, string>();
  const problems: string[] = [];
  if (!a.compartments.some((c) => c.probes)) {
    const n = a.compartments.length;
    if (n > 0) units.forEach((u, i) => owner.set(u, a.compartments[Math.floor((i * n) / units.length)]!.id));
    return { owner, problems };
  }
  a.compartments.forEach((c, ci) =>
    c.probes?.forEach((ref, pi) => {
      const where = `compartments[${ci}].probes[${pi}]`;
      const u = resolveRef(ref, units);
      if (typeof u === 'string') problems.push(`${where}: ${u}`);
      else if (owner.has(u)) problems.push(`${where}: ${u.bus}:${u.unit} is already in compartment "${owner.get(u)}"`);
      else owner.set(u, c.id);
    }),
  );
  return { owner, problems };
}

const title = (id: string) => id.charAt(0).toUpperCase() + id.slice(1).replace(/[-_.]+/g, ' ');

/**
 * The config document for the answers and what the scan found: one probe per unit at register 0
 * in the bus's profile, named after its compartment (`front-1`, `front-2`) or, without one,
 * after its place (`bus1-u7`). Problems name the answer field.
 */
export function buildConfig(a: ProvisionAnswers, scans: ScanResults, schemaRef?: string): { doc: GatewayConfigInput; problems: string[] } {
  const buses = a.buses.map((b, i) => ({ answer: b, id: busIdOf(b, i) }));
  const units: Unit[] = buses.flatMap(({ id }) =>
    (scans[id] ?? []).map((f) => ({ bus: id, unit: f.unit, holdingOnly: !('registers' in f.input) && 'registers' in f.holding })),
  );
  const { owner, problems } = assign(a, units);
  const counters = new Map<string, number>();
  const probes = units.map((u) => {
    const compartment = owner.get(u);
    const n = (counters.get(compartment ?? '') ?? 0) + 1;
    counters.set(compartment ?? '', n);
    const profile = buses.find((b) => b.id === u.bus)!.answer.profile;
    return {
      id: compartment ? `${compartment}-${n}` : `${u.bus}-u${u.unit}`,
      bus: u.bus,
      unit: u.unit,
      address: 0,
      ...(profile !== 'int16-tenths' && { profile }),
      ...(u.holdingOnly && { function: 3 as const }),
      ...(compartment && { compartment }),
    };
  });
  const { broker } = a;
  const tls = broker.ca || broker.cert || broker.key ? { tls: { ...(broker.ca && { ca: broker.ca }), ...(broker.cert && { cert: broker.cert }), ...(broker.key && { key: broker.key }) } } : {};
  const doc: GatewayConfigInput = {
    ...(schemaRef && { $schema: schemaRef }),
    gatewayId: a.gatewayId,
    dataDir: a.dataDir,
    uplink: {
      url: broker.url,
      protocolVersion: broker.protocolVersion,
      ...(broker.username && { username: broker.username }),
      ...(broker.password && { password: broker.password }),
      ...tls,
    },
    buses: buses.map(({ answer, id }) => busConfig(answer, id)),
    probes,
    ...(a.gps && { gps: { source: a.gps.port, baudRate: a.gps.baudRate } }),
    compartments: a.compartments.map((c) => ({ id: c.id, name: c.name ?? title(c.id), preset: c.preset })),
    local: { http: a.display, ...(a.pin && { pin: a.pin }) },
  };
  return { doc, problems };
}
