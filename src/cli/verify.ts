import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { parsePublicKey } from '../chain/keys.ts';
import { verifyCapture, type VerifyReport } from '../chain/verify.ts';
import { verifyBundle } from '../chain/verify-bundle.ts';
import { BUNDLE_FORMAT } from '../trips/bundle.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

/**
 * `coldgate verify FILE [--key PUBKEY] [--json]`: a trip bundle (`trips export --format bundle`,
 * src/chain/verify-bundle.ts) or a capture of MQTT batches (src/chain/verify.ts says the line
 * format). One line per problem naming the record; exit 0 only if none.
 */
export async function verifyCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { key: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: true });
  const file = positionals[0];
  if (file === undefined) {
    io.stderr.write('verify: pass the FILE: a trip bundle (coldgate trips export ID --format bundle) or a capture (one JSON per line: {topic, payload base64} or a batch document)\n');
    return EXIT_USAGE;
  }
  let key: KeyObject | undefined;
  try {
    key = values.key === undefined ? undefined : parsePublicKey(values.key);
  } catch (err) {
    io.stderr.write(`verify: --key: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  let bundle: boolean;
  try {
    bundle = await isBundle(file);
  } catch (err) {
    io.stderr.write(`verify: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return EXIT_USAGE;
  }
  // A bundle of a long trip is hundreds of MB: read a line at a time. A capture is read whole.
  const report: VerifyReport = bundle ? await verifyBundle(lines(file), key) : verifyCapture(readFileSync(file, 'utf8'), key);
  const what = bundle ? `trip bundle: ${report.batches} runs` : `${report.batches} batches`;
  if (values.json) io.stdout.write(`${JSON.stringify({ kind: bundle ? 'bundle' : 'capture', ...report })}\n`);
  else {
    for (const p of report.problems) io.stdout.write(`${p.kind}: ${p.message}\n`);
    for (const n of report.notes) io.stdout.write(`note: ${n}\n`);
    const s = report.signatures;
    io.stdout.write(`${file}: ${what}, ${report.records} records, ${s.valid} valid signatures${s.unchecked ? `, ${s.unchecked} not checked` : ''}: ${report.problems.length > 0 ? `${report.problems.length} problems` : report.batches === 0 ? 'nothing in it to verify' : 'verified'}\n`);
  }
  return report.problems.length === 0 && report.batches > 0 ? EXIT_OK : EXIT_FAILURE;
}

function lines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
}

/** A bundle's first line names its format; a capture's is a batch or {topic, payload}. */
async function isBundle(file: string): Promise<boolean> {
  const start = await new Promise<string>((resolve, reject) => {
    let text = '';
    const input = createReadStream(file, { encoding: 'utf8', end: 4095 });
    input.on('data', (c) => (text += c));
    input.on('end', () => resolve(text));
    input.on('error', reject);
  });
  return start.startsWith(`{"format":"${BUNDLE_FORMAT}"`);
}
