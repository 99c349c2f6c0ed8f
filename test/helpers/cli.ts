import { PassThrough } from 'node:stream';

type Command = (argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }) => Promise<number>;

/** Runs a CLI command in-process with captured output, as the binary would with the process streams. */
export async function runCli(command: Command, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await command(argv, { stdout, stderr });
  return { code, out, err };
}
