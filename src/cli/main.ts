import { EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

type Command = (argv: string[], io: CommandIo) => Promise<number>;

/**
 * The dispatcher and its help in one table: a command cannot be added without its usage. Each
 * command's module is loaded when asked for: the service runs `run` only and never builds the
 * others' schemas and tables.
 */
export const COMMANDS: Record<string, { load: () => Promise<Command>; usage: string }> = {
  run: { load: async () => (await import('./run.ts')).runCommand, usage: 'run --config FILE                 run the gateway (npm start runs config/demo.json)' },
  validate: { load: async () => (await import('./validate.ts')).validateCommand, usage: 'validate --config FILE            check a config; every problem on its own line' },
  provision: {
    load: async () => (await import('./provision.ts')).provisionCommand,
    usage: `provision [--config FILE]         guide the installer through a new config (asks, scans, writes, checks)
  provision --answers FILE | --non-interactive [--gateway-id ID --broker URL
            [--username U --password P | --cert F --key F] [--ca F]
            --bus PORT[@BAUD]... [--ids A-B] [--parity P]
            --compartment ID=PRESET[@UNIT,BUS:UNIT]... --gps PORT[@BAUD]|none
            --pin N --data-dir DIR] [--no-check]
                                    the same without questions (default FILE /etc/coldgate/config.json;
                                    an existing one is kept as FILE.prev)`,
  },
  check: { load: async () => (await import('./check.ts')).checkCommand, usage: 'check --config FILE [--json]      read each probe, the GPS, the broker and the disk once: one table' },
  scan: {
    load: async () => (await import('../../drivers/modbus-probe/cli-scan.ts')).scanCommand,
    usage: `scan --port PATH|tcp://HOST:PORT|rtu-tcp://HOST:PORT [--baud N] [--parity none|even|odd] [--ids A-B] [--timeout MS] [--json]
                                    find Modbus devices on a bus`,
  },
  'gps decode': {
    load: async () => (await import('../../drivers/gps-nmea/cli-decode.ts')).gpsDecodeCommand,
    usage: `gps decode FILE [--date YYYY-MM-DD]
                                    decode an NMEA capture, one gpsd-style TPV line per epoch`,
  },
  'journal stats': { load: async () => (await import('./journal-stats.ts')).journalStatsCommand, usage: 'journal stats --data DIR [--json] what is buffered, acked, dropped (only an existing journal)' },
  'trips list': {
    load: async () => (await import('./trips.ts')).tripsListCommand,
    usage: `trips list [--json] [--since DATE] [--data DIR | --config FILE]
                                    the archived trips, newest first (works while the gateway runs)`,
  },
  'trips show': { load: async () => (await import('./trips.ts')).tripsShowCommand, usage: 'trips show ID [--json] [--data DIR | --config FILE]  one archived trip: report, probes, episodes' },
  'trips export': {
    load: async () => (await import('./trips.ts')).tripsExportCommand,
    usage: `trips export ID --format csv [--out FILE] [--data DIR | --config FILE]
                                    one row per reading (RFC 4180), for a spreadsheet or an inspector`,
  },
  'keys init': { load: async () => (await import('./keys.ts')).keysInitCommand, usage: 'keys init [--data DIR | --config FILE]  make the box\'s Ed25519 key (the gateway does at its first start)' },
  'keys show': { load: async () => (await import('./keys.ts')).keysShowCommand, usage: 'keys show [--json] [--data DIR | --config FILE]  the public key and its fingerprint, to register in the cloud' },
  verify: {
    load: async () => (await import('./verify.ts')).verifyCommand,
    usage: `verify FILE [--key PUBKEY] [--json]
                                    check a capture of MQTT batches (one JSON per line) against the hash chain
                                    and the signatures (PUBKEY: PEM file or raw base64); exit 1 names each problem`,
  },
  receive: {
    load: async () => (await import('./receive.ts')).receiveCommand,
    usage: `receive --mqtt URL --db URL [--share GROUP] [--config FILE] [--metrics-port N] [--name NAME]
                                    the cloud receiver: gateways' batches into PostgreSQL, each seq once (src/receiver)`,
  },
  'receiver status': { load: async () => (await import('./receive.ts')).receiverStatusCommand, usage: 'receiver status --db URL [--json] [--gateway ID]  per gateway: records, holes, gaps, chain, last batch' },
  'receiver export': {
    load: async () => (await import('./receive.ts')).receiverExportCommand,
    usage: `receiver export --db URL --gateway ID --from T --to T --format csv
                                    one gateway's readings from T (inclusive) to T (exclusive) as CSV`,
  },
  'receiver keys': { load: async () => (await import('./receive.ts')).receiverKeysCommand, usage: 'receiver keys add GATEWAY PUBKEY --db URL | list --db URL [--json]  the keys chains are checked with' },
};

const EXIT_CODES = 'exit codes: 0 ok, 1 failure at run time, 2 bad usage or bad config\n';
const USAGE = `usage: coldgate <command> [options]\n\n${Object.values(COMMANDS).map((c) => `  ${c.usage}\n`).join('')}\n${EXIT_CODES}`;
const usageOf = (name: string) => `usage: coldgate ${COMMANDS[name]!.usage}\n\n${EXIT_CODES}`;

/** Asking for help is not a mistake: usage on stdout, exit 0, as command-line users expect. */
const asksHelp = (args: readonly string[]) => args.some((a) => a === '--help' || a === '-h');

export async function main(argv: string[], io: CommandIo): Promise<number> {
  const two = argv.slice(0, 2).join(' ');
  const [name, rest] = COMMANDS[two] ? [two, argv.slice(2)] : [argv[0] ?? '', argv.slice(1)];
  const entry = COMMANDS[name];
  if (!entry || name === '') {
    if (name === '--help' || name === '-h' || name === 'help') {
      io.stdout.write(USAGE);
      return EXIT_OK;
    }
    io.stderr.write(name ? `coldgate: unknown command "${argv.join(' ')}"\n\n${USAGE}` : USAGE);
    return EXIT_USAGE;
  }
  // Before the command parses anything: `provision --help` must not start asking questions.
  if (asksHelp(rest.slice(0, rest.includes('--') ? rest.indexOf('--') : undefined))) {
    io.stdout.write(usageOf(name));
    return EXIT_OK;
  }
  const run = await entry.load();
  try {
    return await run(rest, io);
  } catch (err) {
    // parseArgs throws TypeErrors with codes for unknown or malformed options.
    if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`coldgate ${name}: ${(err as Error).message}\n\n${usageOf(name)}`);
      return EXIT_USAGE;
    }
    throw err;
  }
}
