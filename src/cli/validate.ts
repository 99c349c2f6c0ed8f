import { parseArgs } from 'node:util';
import { loadConfigArg } from './config-arg.ts';
import { EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

/** `coldgate validate --config FILE`: every problem on its own line, exit 2 if there is any. */
export async function validateCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true });
  const loaded = loadConfigArg('validate', values.config, io);
  if (!loaded) return EXIT_USAGE;
  const { file, config, overrides } = loaded;
  io.stdout.write(`${file}: valid (gateway ${config.gatewayId}, ${config.probes.length} probes on ${config.buses.length} buses, gps ${config.gps ? 'on' : 'off'})\n`);
  if (overrides.length) io.stdout.write(`environment overrides applied: ${overrides.join(', ')}\n`);
  return EXIT_OK;
}
