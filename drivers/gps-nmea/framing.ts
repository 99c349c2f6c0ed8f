/**
 * Byte stream -> lines. NMEA lines end in CRLF, but some receivers (and captures edited on
 * Unix) end them in LF only, so we split at LF and drop one trailing CR.
 *
 *   push("$GPGGA,1*00\r\n$GPR")  -> ["$GPGGA,1*00"]       ("$GPR" waits for more bytes)
 *   push("MC,2*00\n")            -> ["$GPRMC,2*00"]
 *
 * A line longer than MAX_LINE is garbage (NMEA allows 82 characters; proprietary sentences
 * run longer, never this long): it is dropped whole and counted, so a stream of noise without
 * newlines cannot grow memory.
 */
export const MAX_LINE = 512;

export class LineFramer {
  private partial = '';
  private discarding = false;
  /** Lines dropped for being too long. */
  overlong = 0;

  push(chunk: Buffer | string): string[] {
    // latin1 maps each byte to one char, so garbage bytes never become multi-byte sequences.
    const text = this.partial + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    if (this.discarding && lines.length > 0) {
      lines.shift();
      this.discarding = false;
    }
    if (this.partial.length > MAX_LINE) {
      if (!this.discarding) this.overlong++;
      this.partial = '';
      this.discarding = true;
    }
    const out: string[] = [];
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.length > MAX_LINE) this.overlong++;
      else out.push(line);
    }
    return out;
  }

  /** At the end of the stream: the unterminated rest, if any (a cut-off last sentence). */
  end(): string | undefined {
    const rest = this.discarding ? '' : this.partial;
    this.partial = '';
    this.discarding = false;
    return rest === '' ? undefined : rest;
  }
}
