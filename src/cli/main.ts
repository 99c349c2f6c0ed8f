import { EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

const USAGE = `usage: coldgate <command> [options]

  run --config FILE                 run the gateway (npm start runs config/demo.json)
  validate --config FILE            check a config; every problem on its own line
  provision [--config FILE]         guide the installer through a new config (asks, scans, writes, checks)
  provision --answers FILE | --non-interactive [--gateway-id ID --broker URL
            [--username U --password P | --cert F --key F] [--ca F]
            --bus PORT[@BAUD]... [--ids A-B] [--parity P]
            --compartment ID=PRESET[@UNIT,BUS:UNIT]... --gps PORT[@BAUD]|none
            --pin N --data-dir DIR] [--no-check]
                                    the same without questions (default FILE /etc/coldgate/config.json;
                                    an existing one is kept as FILE.prev)
  check --config FILE [--json]      read each probe, the GPS, the broker and the disk once: one table
  scan --port PATH|tcp://HOST:PORT [--baud N] [--ids A-B] [--json]
                                    find Modbus devices on a bus
  gps decode FILE [--date YYYY-MM-DD]
                                    decode an NMEA capture, one gpsd-style TPV line per epoch
  journal stats --data DIR [--json] what is buffered, acked, dropped

exit codes: 0 ok, 1 failure at run time, 2 bad usage or bad config
`;

type Command = (argv: string[], io: CommandIo) => Promise<number>;

/** Loaded when asked for: the service runs `run` only and never builds the others' schemas and tables. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run.ts')).runCommand,
  validate: async () => (await import('./validate.ts')).validateCommand,
  check: async () => (await import('./check.ts')).checkCommand,
  provision: async () => (await import('./provision.ts')).provisionCommand,
  scan: async () => (await import('../../drivers/modbus-probe/cli-scan.ts')).scanCommand,
  'gps decode': async () => (await import('../../drivers/gps-nmea/cli-decode.ts')).gpsDecodeCommand,
  'journal stats': async () => (await import('./journal-stats.ts')).journalStatsCommand,
};

export async function main(argv: string[], io: CommandIo): Promise<number> {
  const two = argv.slice(0, 2).join(' ');
  const [name, rest] = COMMANDS[two] ? [two, argv.slice(2)] : [argv[0] ?? '', argv.slice(1)];
  const load = COMMANDS[name];
  if (!load || name === '') {
    // Asking for help is not a mistake: usage on stdout, exit 0; anything else is bad usage.
    if (name === '--help' || name === '-h' || name === 'help') {
      io.stdout.write(USAGE);
      return EXIT_OK;
    }
    io.stderr.write(name ? `coldgate: unknown command "${argv.join(' ')}"\n\n${USAGE}` : USAGE);
    return EXIT_USAGE;
  }
  const command = await load();
  try {
    return await command(rest, io);
  } catch (err) {
    // parseArgs throws TypeErrors with codes for unknown or malformed options.
    if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`coldgate ${name}: ${(err as Error).message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

