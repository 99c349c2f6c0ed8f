import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { parsePublicKey } from '../chain/keys.ts';
import { verifyCapture } from '../chain/verify.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

/**
 * `coldgate verify FILE [--key PUBKEY] [--json]`: a capture of MQTT batches (src/chain/verify.ts
 * says the line format). One line per problem naming the record; exit 0 only if none.
 */
export async function verifyCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { key: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: true });
  const file = positionals[0];
  if (file === undefined) {
    io.stderr.write('verify: pass the capture FILE (one JSON per line: {topic, payload base64} or a batch document)\n');
    return EXIT_USAGE;
  }
  let key: KeyObject | undefined;
  try {
    key = values.key === undefined ? undefined : parsePublicKey(values.key);
  } catch (err) {
    io.stderr.write(`verify: --key: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    io.stderr.write(`verify: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return EXIT_USAGE;
  }
  const report = verifyCapture(text, key);
  if (values.json) io.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    for (const p of report.problems) io.stdout.write(`${p.kind}: ${p.message}\n`);
    for (const n of report.notes) io.stdout.write(`note: ${n}\n`);
    const s = report.signatures;
    io.stdout.write(`${file}: ${report.batches} batches, ${report.records} records, ${s.valid} valid signatures${s.unchecked ? `, ${s.unchecked} not checked` : ''}: ${report.problems.length > 0 ? `${report.problems.length} problems` : report.batches === 0 ? 'no batches in it: nothing verified' : 'verified'}\n`);
  }
  return report.problems.length === 0 && report.batches > 0 ? EXIT_OK : EXIT_FAILURE;
}
