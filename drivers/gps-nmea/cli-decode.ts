import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { BUILD_EPOCH_MS } from '../../src/core/clock.ts';
import { NmeaDecoder } from './decoder.ts';
import { toTpv } from './tpv.ts';

const USAGE = 'usage: coldgate gps decode FILE [--date YYYY-MM-DD]';

/**
 * `coldgate gps decode FILE [--date YYYY-MM-DD]`: one gpsd-style TPV JSON line per epoch on
 * stdout, then one summary line on stderr. The year for two-digit dates comes from --date,
 * else from the capture's `# Date:` header, else from today (never before the build date).
 * Exit 0 ok, 2 bad usage or unreadable file.
 */
export async function gpsDecodeCommand(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    io.stderr.write(`${args}\n${USAGE}\n`);
    return 2;
  }
  const decoder = new NmeaDecoder({ year: args.year ?? defaultYear(), yearFromHeader: args.year === undefined });
  const write = async (fixes: ReturnType<NmeaDecoder['push']>) => {
    if (fixes.length === 0) return;
    const text = fixes.map((f) => JSON.stringify(toTpv(f))).join('\n') + '\n';
    if (!io.stdout.write(text)) await once(io.stdout, 'drain');
  };
  try {
    for await (const chunk of createReadStream(args.file)) await write(decoder.push(chunk as Buffer));
  } catch (err) {
    io.stderr.write(`gps decode: cannot read ${args.file}: ${(err as Error).message}\n`);
    return 2;
  }
  await write(decoder.end());
  const s = decoder.stats;
  io.stderr.write(
    `gps decode: ${s.sentences} sentences, ${s.badChecksum} bad checksums, ${s.cut} cut short, ${s.unframed} not framed, ${s.malformed} malformed, ${s.epochs} epochs, ${s.fixes} fixes\n`,
  );
  return 0;
}

function parseArgs(argv: string[]): { file: string; year?: number } | string {
  let file: string | undefined;
  let year: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--date' || arg.startsWith('--date=')) {
      const value = arg === '--date' ? argv[++i] : arg.slice('--date='.length);
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value ?? '');
      if (!m) return `--date expects YYYY-MM-DD, got ${JSON.stringify(value ?? '')}`;
      year = Number(m[1]);
    } else if (arg.startsWith('-')) {
      return `unknown option ${arg}`;
    } else if (file === undefined) {
      file = arg;
    } else {
      return `unexpected argument ${arg}`;
    }
  }
  return file === undefined ? 'missing FILE' : { file, year };
}

function defaultYear(): number {
  return new Date(Math.max(Date.now(), BUILD_EPOCH_MS)).getUTCFullYear();
}
