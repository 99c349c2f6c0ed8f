import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBoxKey, keysDir, rawPublicKey, readPublicKey, fingerprintOf } from '../chain/keys.ts';
import { loadConfigArg } from './config-arg.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

const OPTIONS = { data: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } } as const;

/** `{dataDir}/keys` from `--data DIR`, COLDGATE_DATA_DIR or `--config FILE`; undefined after saying why. */
function keysDirOf(command: string, values: { data?: string; config?: string }, io: CommandIo): string | undefined {
  const dataDir = values.data ?? (values.config ? undefined : process.env.COLDGATE_DATA_DIR);
  if (dataDir !== undefined) return keysDir(path.resolve(dataDir));
  if (values.config === undefined && process.env.COLDGATE_CONFIG === undefined) {
    io.stderr.write(`${command}: pass --config FILE (the gateway's config) or --data DIR (its dataDir)\n`);
    return undefined;
  }
  const loaded = loadConfigArg(command, values.config, io);
  return loaded && keysDir(loaded.config.dataDir);
}

/** `coldgate keys init`: makes the box key (the gateway also does at its first start); keeps one that exists. */
export async function keysInitCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  const dir = keysDirOf('keys init', values, io);
  if (!dir) return EXIT_USAGE;
  try {
    const { key, created } = ensureBoxKey(dir);
    io.stdout.write(`${created ? 'created' : 'kept the existing'} box key in ${dir}: fingerprint ${key.fingerprint}\n`);
    return EXIT_OK;
  } catch (err) {
    io.stderr.write(`keys init: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
}

/** `coldgate keys show [--json]`: the public key (PEM, raw base64) and its fingerprint, for the cloud's registry. */
export async function keysShowCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  const dir = keysDirOf('keys show', values, io);
  if (!dir) return EXIT_USAGE;
  if (!existsSync(path.join(dir, 'box.pub'))) {
    io.stderr.write(`keys show: no box key in ${dir}: the gateway makes one at its first start, or run coldgate keys init\n`);
    return EXIT_FAILURE;
  }
  const key = readPublicKey(dir);
  const shown = { algorithm: 'ed25519', fingerprint: fingerprintOf(key), raw: rawPublicKey(key).toString('base64'), pem: key.export({ format: 'pem', type: 'spki' }).toString() };
  if (values.json) io.stdout.write(`${JSON.stringify(shown)}\n`);
  else io.stdout.write(`ed25519 public key of this box\nfingerprint ${shown.fingerprint}\nraw (base64) ${shown.raw}\n${shown.pem}`);
  return EXIT_OK;
}
