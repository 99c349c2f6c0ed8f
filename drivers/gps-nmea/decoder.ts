import { EpochAssembler, type Fix } from './epoch.ts';
import { FieldError } from './fields.ts';
import { NmeaFramer, type Packet } from './framing.ts';
import { parseSentence } from './sentences.ts';

export interface DecodeStats {
  /** Sentences framed with a good checksum, of any kind (what gpsd passes on). */
  sentences: number;
  /** Sentences rejected for a wrong or malformed checksum, a non-printable byte, or a CR not followed by LF. */
  badChecksum: number;
  /** Sentences rejected for having no checksum, or no line end: cut short by another `$` or the end of the stream. */
  cut: number;
  /** A `$` with a talker gpsd does not frame (`$IMGSA`, `$LOG`...): not a sentence. */
  unframed: number;
  /** Good checksum, but a field we use is malformed: dropped whole. */
  malformed: number;
  /** Good sentences of kinds a fix does not need (GSV, TXT, proprietary, AIS). */
  ignored: number;
  /** Good sentences longer than gpsd decodes (NMEA_MAX), and noise with no line end within 512 bytes. */
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
 * gpsd decodes no sentence longer than this, `$` to line end (drivers/driver_nmea0183.c): a
 * Garmin GPS-10 sometimes merges two sentences into one with a valid checksum.
 */
export const NMEA_MAX = 130;

/**
 * Bytes in, fixes out: framing, checksum, sentence decoding and epoch assembly, with counters.
 *
 *   const d = new NmeaDecoder({ year: 2026 });
 *   d.push(bytes)  -> the epochs that this chunk completed
 *   d.flush()      -> the epoch in progress, when the line has gone quiet
 *   d.end()        -> at the end of a stream: the last epoch
 */
export class NmeaDecoder {
  readonly stats: DecodeStats = { sentences: 0, badChecksum: 0, cut: 0, unframed: 0, malformed: 0, ignored: 0, overlong: 0, epochs: 0, fixes: 0 };
  private readonly framer = new NmeaFramer(this.stats);
  private readonly assembler: EpochAssembler;

  constructor(private readonly opts: DecoderOptions) {
    this.assembler = new EpochAssembler(opts.year);
  }

  push(chunk: Buffer | string, rxMs?: number): Fix[] {
    const out: Fix[] = [];
    for (const packet of this.framer.push(chunk)) this.packet(packet, rxMs, out);
    return out;
  }

  flush(): Fix[] {
    const out: Fix[] = [];
    this.emit(this.assembler.flush(), out);
    return out;
  }

  end(): Fix[] {
    const out: Fix[] = [];
    this.framer.end();
    this.emit(this.assembler.flush(), out);
    return out;
  }

  private packet(packet: Packet, rxMs: number | undefined, out: Fix[]): void {
    if (packet.kind === 'comment') return this.comment(packet.text);
    this.stats.sentences++;
    if (packet.kind === 'ais') return void this.stats.ignored++;
    if (packet.text.length > NMEA_MAX) return void this.stats.overlong++;
    try {
      const s = parseSentence(packet.body);
      if (s === undefined) this.stats.ignored++;
      else this.emit(this.assembler.add(s, rxMs), out);
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      this.stats.malformed++;
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
