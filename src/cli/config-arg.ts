import { ConfigError } from '../config/errors.ts';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import type { CommandIo } from './io.ts';

/**
 * The `--config FILE` every command takes (or COLDGATE_CONFIG), loaded and validated. On a
 * problem it prints one line per problem naming the file and field, and returns undefined:
 * the caller exits 2 without touching any device.
 */
export function loadConfigArg(command: string, file: string | undefined, io: CommandIo): LoadedConfig | undefined {
  const path = file ?? process.env.COLDGATE_CONFIG;
  if (!path) {
    io.stderr.write(`${command}: pass --config FILE (or set COLDGATE_CONFIG)\n`);
    return undefined;
  }
  try {
    return loadConfig(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) io.stderr.write(`${path}: ${problem}\n`);
    return undefined;
  }
}
