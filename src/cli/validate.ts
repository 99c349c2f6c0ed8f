import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

/** `coldgate validate --config FILE`: every problem on its own line, exit 2 if there is any. */
export async function validateCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true });
  const file = values.config ?? process.env.COLDGATE_CONFIG;
  if (!file) {
    io.stderr.write('validate: pass --config FILE (or set COLDGATE_CONFIG)\n');
    return EXIT_USAGE;
  }
  try {
    const { config, overrides } = loadConfig(file);
    io.stdout.write(`${file}: valid (gateway ${config.gatewayId}, ${config.probes.length} probes on ${config.buses.length} buses, gps ${config.gps ? 'on' : 'off'})\n`);
    if (overrides.length) io.stdout.write(`environment overrides applied: ${overrides.join(', ')}\n`);
    return EXIT_OK;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) io.stderr.write(`${file}: ${problem}\n`);
    return EXIT_USAGE;
  }
}
