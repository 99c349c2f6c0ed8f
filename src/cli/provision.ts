import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, formatIssues } from '../config/errors.ts';
import { parseConfig, readJsonFile } from '../config/load.ts';
import { ROOT } from '../core/paths.ts';
import type { GatewayConfigInput } from '../config/schema.ts';
import { ProvisionAnswers, type ProvisionAnswersInput } from '../provision/answers.ts';
import { buildConfig, busIdOf, type ScanResults } from '../provision/build.ts';
import { configText, replaceConfigFile } from '../provision/config-file.ts';
import { answersFromConfig } from '../provision/defaults.ts';
import { runGuide } from '../provision/guide.ts';
import { listSerialPorts } from '../provision/ports.ts';
import { Prompter } from '../provision/prompter.ts';
import { scanBus } from '../provision/scan.ts';
import { reportChecks } from './check.ts';
import { EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

const DEFAULT_CONFIG = '/etc/coldgate/config.json';
const SCHEMA = path.join(ROOT, 'config/schema.json');

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  answers: { type: 'string' },
  'non-interactive': { type: 'boolean' },
  'no-check': { type: 'boolean' },
  'gateway-id': { type: 'string' },
  broker: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  bus: { type: 'string', multiple: true },
  ids: { type: 'string' },
  parity: { type: 'string' },
  compartment: { type: 'string', multiple: true },
  gps: { type: 'string' },
  pin: { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

class ProvisionError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

function readJson(file: string, what: string): unknown {
  try {
    return readJsonFile(file);
  } catch (err) {
    if (err instanceof ConfigError) throw new ProvisionError(err.problems.map((p) => `${file}: cannot read the ${what}: ${p}`));
    throw err;
  }
}

/** Flags win over the answers file, field by field. `--bus PORT[@BAUD]`, `--compartment ID=PRESET[@UNIT,UNIT]`, `--gps PORT|none`. */
function mergeFlags(base: Record<string, unknown>, f: Flags): Record<string, unknown> {
  const a = structuredClone(base) as Record<string, unknown> & { broker?: Record<string, unknown> };
  const set = (key: string, value: unknown) => value !== undefined && (a[key] = value);
  set('gatewayId', f['gateway-id']);
  set('dataDir', f['data-dir']);
  set('pin', f.pin);
  const broker = { ...a.broker };
  for (const [flag, key] of [['broker', 'url'], ['username', 'username'], ['password', 'password'], ['ca', 'ca'], ['cert', 'cert'], ['key', 'key']] as const) if (f[flag] !== undefined) broker[key] = f[flag];
  if (Object.keys(broker).length) a.broker = broker;
  if (f.bus)
    a.buses = f.bus.map((spec) => {
      const [port, baud] = spec.split('@');
      return { port, ...(baud && { baudRate: Number(baud) }), ...(f.ids && { ids: f.ids }), ...(f.parity && { parity: f.parity }) };
    });
  if (f.compartment)
    a.compartments = f.compartment.map((spec) => {
      const [head = '', units] = spec.split('@');
      const [id, preset] = head.split('=');
      return { id, ...(preset && { preset }), ...(units && { probes: units.split(',').map((u) => (/^\d+$/.test(u) ? Number(u) : u)) }) };
    });
  if (f.gps !== undefined) {
    if (f.gps === 'none') delete a.gps;
    else {
      const [port, baud] = f.gps.split('@');
      a.gps = { port, ...(baud && { baudRate: Number(baud) }) };
    }
  }
  return a;
}

async function nonInteractive(f: Flags, io: CommandIo): Promise<{ answers: ProvisionAnswers; scans: ScanResults }> {
  const source = f.answers ?? 'the flags';
  const raw = mergeFlags(f.answers ? (readJson(f.answers, 'answers file') as Record<string, unknown>) : {}, f);
  const parsed = ProvisionAnswers.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const missing = parsed.error.issues.filter((i) => i.code === 'invalid_type' && i.input === undefined).map((i) => i.path.join('.'));
    const flagFor: Record<string, string> = { gatewayId: '--gateway-id ID', broker: '--broker URL', 'broker.url': '--broker URL' };
    const hint = missing.map((m) => flagFor[m]).filter(Boolean);
    throw new ProvisionError([...formatIssues(parsed.error.issues).map((p) => `${source}: ${p}`), ...(hint.length && !f.answers ? [`pass ${hint.join(' and ')}`] : [])]);
  }
  const answers = parsed.data;
  const scans: ScanResults = {};
  const problems: string[] = [];
  for (const [i, bus] of answers.buses.entries()) {
    try {
      scans[busIdOf(bus, i)] = await scanBus(bus, io.stderr);
      if (scans[busIdOf(bus, i)]!.length === 0) problems.push(`buses[${i}]: no unit answered on ${bus.port} (ids ${bus.ids}): check wiring (A/B), baud rate and parity, or the ids`);
    } catch (err) {
      problems.push(`buses[${i}].port: cannot scan ${bus.port}: ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new ProvisionError(problems);
  return { answers, scans };
}

/** Certificates are read by the service at start: a typo must show now, while the installer is here. */
function missingFiles(a: ProvisionAnswers): string[] {
  return (['ca', 'cert', 'key'] as const).flatMap((k) => (a.broker[k] && !existsSync(a.broker[k]) ? [`broker.${k}: ${a.broker[k]}: no such file`] : []));
}

/**
 * `coldgate provision [--config FILE] [--answers FILE | --non-interactive flags...]`: asks (or
 * reads) the answers, scans the buses, writes a validated config (an existing one is kept as
 * FILE.prev) and checks every device once. Exit 0 all green, 1 written but something is red,
 * 2 nothing written.
 */
export async function provisionCommand(argv: string[], io: CommandIo & { stdin?: NodeJS.ReadableStream }): Promise<number> {
  const { values: f } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  const out = path.resolve(f.config ?? process.env.COLDGATE_CONFIG ?? DEFAULT_CONFIG);
  const stdin = io.stdin ?? process.stdin;
  const interactive = !f.answers && !f['non-interactive'];
  let result: { answers: ProvisionAnswers; scans: ScanResults };
  try {
    if (interactive) {
      if (!(stdin as NodeJS.ReadStream).isTTY) throw new ProvisionError(['no terminal to ask on: pass --answers FILE, or --non-interactive with flags (coldgate provision --help)']);
      const existing = existsSync(out) ? answersFromConfig(readJson(out, 'existing config') as GatewayConfigInput) : undefined;
      const defaults = mergeFlags((existing ?? {}) as Record<string, unknown>, f) as ProvisionAnswersInput;
      const prompter = new Prompter(stdin, io.stdout);
      try {
        result = await runGuide(prompter, { listPorts: () => listSerialPorts(), scan: (bus) => scanBus(bus, io.stdout) }, Object.keys(defaults).length ? defaults : undefined);
        if (!(await prompter.confirm(`\nWrite ${out}${existsSync(out) ? ' (the current one is kept as .prev)' : ''}?`))) {
          io.stdout.write('nothing written\n');
          return EXIT_USAGE;
        }
      } finally {
        prompter.close();
      }
    } else result = await nonInteractive(f, io);
    const { doc, problems } = buildConfig(result.answers, result.scans, path.relative(path.dirname(out), SCHEMA));
    problems.push(...missingFiles(result.answers));
    if (problems.length) throw new ProvisionError(problems);
    const config = parseConfig(doc, out).config;
    mkdirSync(path.dirname(out), { recursive: true });
    const backup = replaceConfigFile(out, configText(doc));
    io.stdout.write(`wrote ${out}: gateway ${config.gatewayId}, ${config.probes.length} probes on ${config.buses.length} buses, ${config.compartments.length} compartments, gps ${config.gps ? config.gps.source : 'none'}${backup ? `; the previous config is kept as ${backup}` : ''}\n`);
    if (f['no-check']) return EXIT_OK;
    io.stdout.write('\nchecking every device once:\n');
    return await reportChecks(config, io);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ProvisionError) {
      for (const problem of err.problems) io.stderr.write(`provision: ${problem}\n`);
      io.stderr.write('provision: nothing written\n');
      return EXIT_USAGE;
    }
    throw err;
  }
}
