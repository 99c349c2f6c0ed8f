import { scanLine } from './checksum.ts';
import { EpochAssembler, type Fix } from './epoch.ts';
import { FieldError } from './fields.ts';
import { LineFramer } from './framing.ts';
import { parseSentence } from './sentences.ts';

export interface DecodeStats {
  /** Sentences with a good checksum, of any kind. */
  sentences: number;
  /** Sentences rejected for a wrong checksum or non-printable bytes. */
  badChecksum: number;
  /** Sentences rejected for having no checksum: cut short by the line's end or by another `$`. */
  cut: number;
  /** Good checksum, but a field we use is malformed: dropped whole. */
  malformed: number;
  /** Good sentences of kinds a fix does not need (GSV, TXT, proprietary). */
  ignored: number;
  /** Lines dropped for being too long to be NMEA. */
  overlong: number;
  /** Epochs reported, and of those the ones with a 2D or 3D fix. */
  epochs: number;
  fixes: number;
}

export interface DecoderOptions {
  /** Two-digit years take the century nearest this year. */
  year: number;
  /** Let a capture's `# Date: YYYY-MM-DD` header set the year (as gpsd's does). */
  yearFromHeader?: boolean;
}

const DATE_HEADER = /^#\s*Date:\s*(\d{4})-\d{2}-\d{2}/;

/**
 * Bytes in, fixes out: framing, checksum, sentence decoding and epoch assembly, with counters.
 *
 *   const d = new NmeaDecoder({ year: 2026 });
 *   d.push(bytes)  -> the epochs that this chunk completed
 *   d.flush()      -> the epoch in progress, when the line has gone quiet
 *   d.end()        -> at the end of a stream: the last epoch
 */
export class NmeaDecoder {
  readonly stats: DecodeStats = { sentences: 0, badChecksum: 0, cut: 0, malformed: 0, ignored: 0, overlong: 0, epochs: 0, fixes: 0 };
  private readonly framer = new LineFramer();
  private readonly assembler: EpochAssembler;

  constructor(private readonly opts: DecoderOptions) {
    this.assembler = new EpochAssembler(opts.year);
  }

  push(chunk: Buffer | string, rxMs?: number): Fix[] {
    const out: Fix[] = [];
    for (const line of this.framer.push(chunk)) this.line(line, rxMs, out);
    this.stats.overlong = this.framer.overlong;
    return out;
  }

  flush(): Fix[] {
    const out: Fix[] = [];
    this.emit(this.assembler.flush(), out);
    return out;
  }

  end(): Fix[] {
    const out: Fix[] = [];
    const rest = this.framer.end();
    if (rest !== undefined) this.line(rest, undefined, out);
    this.emit(this.assembler.flush(), out);
    return out;
  }

  private line(line: string, rxMs: number | undefined, out: Fix[]): void {
    if (line.charCodeAt(0) === 0x23 /* # */) return this.comment(line);
    const { bodies, bad, cut } = scanLine(line);
    this.stats.badChecksum += bad;
    this.stats.cut += cut;
    for (const body of bodies) {
      this.stats.sentences++;
      try {
        const s = parseSentence(body);
        if (s === undefined) this.stats.ignored++;
        else this.emit(this.assembler.add(s, rxMs), out);
      } catch (err) {
        if (!(err instanceof FieldError)) throw err;
        this.stats.malformed++;
      }
    }
  }

  private comment(line: string): void {
    const m = this.opts.yearFromHeader ? DATE_HEADER.exec(line) : null;
    if (m) this.assembler.refYear = Number(m[1]);
  }

  private emit(fix: Fix | undefined, out: Fix[]): void {
    if (fix === undefined) return;
    this.stats.epochs++;
    if (fix.mode >= 2) this.stats.fixes++;
    out.push(fix);
  }
}
