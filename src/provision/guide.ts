import { existsSync } from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { Id } from '../config/schema-common.ts';
import { PRESETS, PresetName } from '../config/schema-rules.ts';
import type { FoundUnit } from '../../drivers/modbus-probe/cli-scan.ts';
import { BusAnswer, CompartmentAnswer, ProvisionAnswers, type ProvisionAnswersInput } from './answers.ts';
import { busIdOf, type ScanResults } from './build.ts';
import type { SerialPortInfo } from './ports.ts';
import { viaSchema, type Parsed, type Prompter } from './prompter.ts';

export interface GuideDeps {
  listPorts: () => Promise<SerialPortInfo[]>;
  scan: (bus: BusAnswer) => Promise<FoundUnit[]>;
}

const AnswerShape = ProvisionAnswers.shape;

function existing(what: string): (t: string) => Parsed<string> {
  return (t) => (t !== '' && existsSync(t) ? { value: t } : { error: `${t || 'nothing given'}: no such file (give the full path of the ${what})` });
}

function optional<T>(parse: (t: string) => Parsed<T>): (t: string) => Parsed<T | undefined> {
  return (t) => (t === '' ? { value: undefined } : parse(t));
}

/** `int16 tenths` is what most probes send: good enough to tell the installer which probe is which. */
function preview(f: FoundUnit): string {
  const regs = 'registers' in f.input ? f.input.registers : 'registers' in f.holding ? f.holding.registers : undefined;
  if (!regs?.length) return 'answers';
  const raw = regs[0]! > 0x7fff ? regs[0]! - 0x10000 : regs[0]!;
  return `reads ${(raw / 10).toFixed(1)} °C`;
}

/** `1`, `2` (from the list), a device path, or tcp:// / rtu-tcp:// */
function portParser(ports: SerialPortInfo[], allowNone: boolean): (t: string) => Parsed<string[]> {
  return (t) => {
    if (t === '' || t === 'none') return allowNone ? { value: [] } : { error: 'give at least one port' };
    const out: string[] = [];
    for (const part of t.split(/[\s,]+/).filter(Boolean)) {
      const picked = /^\d+$/.test(part) ? ports[Number(part) - 1]?.path : part;
      if (!picked) return { error: `${part}: not in the list (1-${ports.length})` };
      if (picked.startsWith('/') && !existsSync(picked)) return { error: `${picked}: no such device` };
      if (!picked.startsWith('/') && !/^(tcp|rtu-tcp):\/\/[^/:]+:\d+$/.test(picked)) return { error: `${part}: expected a number from the list, /dev/..., tcp://HOST:PORT or rtu-tcp://HOST:PORT` };
      out.push(picked);
    }
    return { value: out };
  };
}

const compartmentsParser = (t: string): Parsed<{ id: string; preset: PresetName }[]> => {
  const out = [];
  for (const part of t.split(/[\s,]+/).filter(Boolean)) {
    const [id = '', preset = 'chilled'] = part.split('=');
    if (!Id.safeParse(id).success) return { error: `${id}: an id is 1-64 letters, digits, "_", "." or "-"` };
    if (!PresetName.safeParse(preset).success) return { error: `${preset}: presets are ${Object.keys(PRESETS).join(', ')}` };
    out.push({ id, preset: preset as PresetName });
  }
  return out.length ? { value: out } : { error: 'give at least one compartment, e.g. cargo=chilled' };
};

async function askBus(p: Prompter, deps: GuideDeps, port: string, index: number, prior?: ProvisionAnswersInput['buses']): Promise<{ bus: BusAnswer; found: FoundUnit[] } | undefined> {
  const was = prior?.find((b) => b.port === port);
  for (;;) {
    const serial = port.startsWith('/');
    const baudRate = serial ? await p.ask(`  baud rate of ${port}`, viaSchema(z.coerce.number().pipe(BusAnswer.shape.baudRate.unwrap())), String(was?.baudRate ?? 9600)) : 9600;
    const parity = serial ? await p.ask('  parity (none, even, odd)', viaSchema(BusAnswer.shape.parity.unwrap()), was?.parity ?? 'none') : 'none';
    const ids = await p.ask('  unit ids to scan', viaSchema(BusAnswer.shape.ids.unwrap()), was?.ids ?? '1-32');
    const bus = BusAnswer.parse({ id: `bus${index + 1}`, port, baudRate, parity, ids });
    let found: FoundUnit[] = [];
    try {
      found = await deps.scan(bus);
    } catch (err) {
      p.say(`  cannot scan ${port}: ${(err as Error).message}`);
    }
    if (found.length > 0) {
      for (const f of found) p.say(`  unit ${f.unit}: ${preview(f)}`);
      return { bus, found };
    }
    p.say('  nothing answered: check the wiring (A/B), baud rate, parity and that the probes have power');
    if (!(await p.confirm(`  scan ${port} again with other settings?`))) return undefined;
  }
}

/**
 * The interactive guide: every question has a default (from an existing config, the flags or
 * the box itself) and is asked again until the answer is valid. Probes come from a scan of each
 * bus, shown with their readings so the installer can tell front from rear by warming one.
 */
export async function runGuide(p: Prompter, deps: GuideDeps, defaults: ProvisionAnswersInput | undefined): Promise<{ answers: ProvisionAnswers; scans: ScanResults }> {
  const d = defaults;
  p.say('coldgate provision: answer each question, or press Enter for the value in [brackets].\n');
  const host = os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-');
  const gatewayId = await p.ask('Gateway id (unique in the fleet, part of every MQTT topic)', viaSchema(Id), d?.gatewayId ?? host);
  const url = await p.ask('Broker URL', viaSchema(AnswerShape.broker.shape.url), d?.broker?.url);
  const login = await p.ask('Broker login: 1) username and password  2) client certificate  3) none', (t) => (/^[123]$/.test(t) ? { value: t } : { error: 'answer 1, 2 or 3' }), d?.broker?.cert ? '2' : !d?.broker || d.broker.username ? '1' : '3');
  const broker: ProvisionAnswersInput['broker'] = { url, ...(d?.broker?.protocolVersion && { protocolVersion: d.broker.protocolVersion }) };
  if (login === '1') {
    broker.username = await p.ask('  username', viaSchema(z.string().min(1, 'give a username')), d?.broker?.username ?? gatewayId);
    broker.password = await p.ask('  password', viaSchema(z.string().min(1, 'give a password')), d?.broker?.password);
  }
  if (login === '2') {
    broker.cert = await p.ask('  client certificate file (PEM)', existing('certificate'), d?.broker?.cert);
    broker.key = await p.ask('  client key file (PEM)', existing('key'), d?.broker?.key);
  }
  if (/^(mqtts|ssl|wss):/.test(url)) {
    const ca = await p.ask('  CA certificate of the broker (empty: the system CAs)', optional(existing('CA certificate')), d?.broker?.ca);
    if (ca) broker.ca = ca;
  }

  const ports = await deps.listPorts();
  p.say(ports.length ? '\nSerial ports on this box:' : '\nNo serial ports found on this box (is the USB adapter plugged in?)');
  ports.forEach((port, i) => p.say(`  ${i + 1}) ${port.path}${port.description ? `  (${port.description})` : ''}`));
  const busPorts = await p.ask('Probe buses: numbers from the list, device paths or tcp://HOST:PORT, comma separated (none: no probes)', portParser(ports, true), d?.buses?.map((b) => b.port).join(',') || (ports.length ? '1' : 'none'));
  const buses: BusAnswer[] = [];
  const scans: ScanResults = {};
  for (const port of busPorts) {
    p.say(`\nBus ${buses.length + 1} on ${port}:`);
    const scanned = await askBus(p, deps, port, buses.length, d?.buses);
    if (!scanned) continue;
    buses.push(scanned.bus);
    scans[busIdOf(scanned.bus, buses.length - 1)] = scanned.found;
  }
  const units = buses.flatMap((b, i) => (scans[busIdOf(b, i)] ?? []).map((f) => ({ bus: busIdOf(b, i), unit: f.unit, f })));

  const presets = Object.keys(PRESETS).join(', ');
  const priorCompartments = d?.compartments?.map((c) => `${c.id}=${c.preset ?? 'chilled'}`).join(',');
  const compartmentList = await p.ask(`\nCompartments as ID=PRESET, comma separated (presets: ${presets})`, compartmentsParser, priorCompartments || (units.length >= 2 ? 'front=chilled,rear=frozen' : 'cargo=chilled'));
  const members = new Map<string, string[]>(compartmentList.map((c) => [c.id, []]));
  const ids = [...members.keys()];
  for (const [i, u] of units.entries()) {
    const suggested = ids[Math.floor((i * ids.length) / units.length)]!;
    const choice = ids.length === 1 ? suggested : await p.ask<string>(`  ${u.bus} unit ${u.unit} (${preview(u.f)}): compartment (${ids.join(', ')}, none)`, (t) => (t === 'none' || members.has(t) ? { value: t } : { error: `answer one of ${ids.join(', ')}, none` }), suggested);
    members.get(choice)?.push(`${u.bus}:${u.unit}`);
  }
  const compartments = compartmentList.map((c) => CompartmentAnswer.parse({ ...c, probes: members.get(c.id) }));

  const spare = ports.filter((port) => !busPorts.includes(port.path));
  const gpsGuess = d?.gps?.port ?? spare.find((s) => /ACM|gps|gnss|u-blox/i.test(`${s.path} ${s.description}`))?.path;
  const gpsPort = await p.ask('\nGPS receiver port: number from the list, device path, tcp://HOST:PORT, or none', (t) => {
    if (t === 'none') return { value: undefined };
    const r = portParser(ports, false)(t);
    return 'value' in r ? { value: r.value[0] } : r;
  }, gpsGuess ?? 'none');
  const gps = gpsPort ? { port: gpsPort, baudRate: await p.ask('  GPS baud rate', viaSchema(z.coerce.number().pipe(AnswerShape.gps.unwrap().shape.baudRate.unwrap())), String(d?.gps?.baudRate ?? 9600)) } : undefined;
  const pin = await p.ask('Display PIN for acknowledging alarms and trips (4-8 digits)', viaSchema(AnswerShape.pin.unwrap()), d?.pin ?? String(1000 + Math.floor(Math.random() * 9000)));

  const answers = ProvisionAnswers.parse({ ...d, gatewayId, broker, buses, compartments, gps, pin });
  return { answers, scans };
}
