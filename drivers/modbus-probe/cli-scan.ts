import { BusConfig } from '../../src/config/schema-modbus.ts';
import { silentLogger } from '../../src/core/log.ts';
import { classifyError, hintFor } from './faults.ts';
import { BusLink, describeBus } from './link.ts';

const USAGE = `usage: coldgate scan --port PATH|tcp://HOST:PORT|rtu-tcp://HOST:PORT [--baud N] [--parity none|even|odd] [--ids A-B] [--timeout MS] [--json]
  Asks each unit id in the range (default 1-247) for its first input and holding registers.
  PATH is a serial device (RS-485 adapter); tcp:// is a Modbus TCP gateway; rtu-tcp:// a serial device server.`;

const FIRST_REGISTERS = 4;

interface ScanOptions {
  bus: BusConfig;
  from: number;
  to: number;
  json: boolean;
}

/** Either the registers a unit answered with or the exception it gave: both prove it is there. */
export type RegisterAnswer = { registers: number[] } | { error: string };

export interface FoundUnit {
  unit: number;
  input: RegisterAnswer;
  holding: RegisterAnswer;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): ScanOptions {
  const opts: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const name = arg.slice(2);
    if (name === 'json' || name === 'help') opts[name] = true;
    else if (['port', 'baud', 'parity', 'ids', 'timeout'].includes(name)) {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      opts[name] = value;
    } else throw new UsageError(`unknown option --${name}`);
  }
  if (opts.help) throw new UsageError('');
  const port = opts.port;
  if (typeof port !== 'string') throw new UsageError('--port is required');
  const ids = typeof opts.ids === 'string' ? /^(\d+)(?:-(\d+))?$/.exec(opts.ids) : ['1-247', '1', '247'];
  if (!ids) throw new UsageError(`--ids expects A-B, e.g. 1-32, got "${String(opts.ids)}"`);
  const from = Number(ids[1]);
  const to = Number(ids[2] ?? ids[1]);
  if (from < 1 || to > 247 || from > to) throw new UsageError('--ids must lie within 1-247, low to high');
  const net = /^(tcp|rtu-tcp):\/\/([^:/]+):(\d+)$/.exec(port);
  const raw = net
    ? { type: net[1], host: net[2], port: Number(net[3]) }
    : { type: 'rtu', path: port, ...(opts.baud !== undefined && { baudRate: Number(opts.baud) }), ...(opts.parity !== undefined && { parity: opts.parity }) };
  const parsed = BusConfig.safeParse({ id: 'scan', timeoutMs: opts.timeout === undefined ? 300 : Number(opts.timeout), ...raw });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.') || 'port'}: ${i.message}`).join('; '));
  return { bus: parsed.data, from, to, json: opts.json === true };
}

async function ask(link: BusLink, unit: number, fn: 3 | 4): Promise<RegisterAnswer | undefined> {
  try {
    return { registers: await link.read(unit, fn, 0, FIRST_REGISTERS) };
  } catch (err) {
    const fault = classifyError(err, link.cfg.timeoutMs);
    // 0A/0B come from a gateway that could not reach the unit: nobody is there.
    if (fault.kind === 'exception' && fault.code !== 10 && fault.code !== 11) return { error: fault.text };
    if (fault.kind === 'exception') return undefined;
    if (fault.kind === 'timeout') return undefined;
    throw err;
  }
}

const show = (a: RegisterAnswer) => ('registers' in a ? a.registers.join(' ') : a.error);

/**
 * `coldgate scan`: finds the Modbus units on a bus so an installer can write the config.
 * Exit 0 when something answered, 1 when nothing did or the port cannot be opened, 2 on bad usage.
 */
export async function scanCommand(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  let opts: ScanOptions;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`${err.message ? `coldgate scan: ${err.message}\n` : ''}${USAGE}\n`);
    return 2;
  }
  const { bus, from, to } = opts;
  const where = describeBus(bus);
  const link = new BusLink(bus, silentLogger);
  link.start();
  try {
    if (!(await link.waitOpen(Math.max(3000, bus.timeoutMs * 3)))) {
      io.stderr.write(`coldgate scan: cannot open ${where}: ${link.lastError ?? 'no connection'}\n  ${hintFor({ kind: 'disconnected', text: '' })} (a running coldgate service holds the port: stop it first)\n`);
      return 1;
    }
    const count = to - from + 1;
    io.stderr.write(`scanning ${where}, unit ids ${from}-${to}: up to ${Math.ceil((count * bus.timeoutMs) / 1000)} s (${bus.timeoutMs} ms for each id that does not answer)\n`);
    const found: FoundUnit[] = [];
    const started = Date.now();
    let lastReport = started;
    for (let unit = from; unit <= to; unit++) {
      const input = await ask(link, unit, 4);
      const holding = input === undefined ? undefined : await ask(link, unit, 3);
      if (input && holding) {
        found.push({ unit, input, holding });
        io.stderr.write(`  unit ${unit} answers: input 0-${FIRST_REGISTERS - 1}: ${show(input)}; holding 0-${FIRST_REGISTERS - 1}: ${show(holding)}\n`);
      }
      if (Date.now() - lastReport >= 2000 || unit === to) {
        lastReport = Date.now();
        io.stderr.write(`  ${unit - from + 1}/${count} ids asked, ${found.length} found\n`);
      }
    }
    const elapsedMs = Date.now() - started;
    if (opts.json) io.stdout.write(`${JSON.stringify({ port: where, ids: [from, to], elapsedMs, found })}\n`);
    else if (found.length > 0) {
      io.stdout.write(`unit  input registers 0-${FIRST_REGISTERS - 1}        holding registers 0-${FIRST_REGISTERS - 1}\n`);
      for (const f of found) io.stdout.write(`${String(f.unit).padStart(4)}  ${show(f.input).padEnd(28)}  ${show(f.holding)}\n`);
    }
    if (found.length === 0) io.stderr.write(`no unit answered on ${where}: check wiring (A/B), baud rate and parity, and the id range\n`);
    return found.length > 0 ? 0 : 1;
  } catch (err) {
    io.stderr.write(`coldgate scan: ${where}: ${classifyError(err, bus.timeoutMs).text}\n`);
    return 1;
  } finally {
    await link.stop();
  }
}
