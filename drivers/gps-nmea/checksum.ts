/**
 * Finding sentences in a line and verifying them. A sentence is `$` + body + `*` + two hex
 * digits, where the digits are the XOR of the body's bytes. The checksum is required: a
 * sentence without one was cut short (by the end of the line, or by another `$`: a receiver
 * that lost bytes mid-sentence starts the next one on the same line; like gpsd we
 * resynchronise at the `$` and keep the whole sentence that follows).
 *
 *   scanLine("$GPGLL,,,,,,V,N*64")                 -> { bodies: ["GPGLL,,,,,,V,N"], bad: 0, cut: 0 }
 *   scanLine("$GPGLL,,,,,,V,N*65")                 -> { bodies: [], bad: 1, cut: 0 }
 *   scanLine("$GPGGA,0301$GPGLL,,,,,,V,N*64")       -> { bodies: ["GPGLL,,,,,,V,N"], bad: 0, cut: 1 }
 *   scanLine("\xff\x00garbage$GPGLL,,,,,,V,N*64")  -> { bodies: ["GPGLL,,,,,,V,N"], bad: 0, cut: 0 }
 *   scanLine("# Date: 2009-12-09")                 -> { bodies: [], bad: 0, cut: 0 }  (not a sentence)
 */
export interface Scan {
  bodies: string[];
  /** Sentences whose checksum was wrong or malformed, or that held non-printable bytes. */
  bad: number;
  /** Sentences without a checksum: cut short. */
  cut: number;
}

const STAR = 0x2a;

export function scanLine(line: string): Scan {
  const bodies: string[] = [];
  const scan: Scan = { bodies, bad: 0, cut: 0 };
  let start = line.indexOf('$');
  while (start !== -1) {
    const next = line.indexOf('$', start + 1);
    const body = verify(line, start, next === -1 ? line.length : next);
    if (body === BAD) scan.bad++;
    else if (body === CUT) scan.cut++;
    else bodies.push(body);
    start = next;
  }
  return scan;
}

const BAD = 0;
const CUT = 1;

/** The body of the sentence in line[start, end) if it is well formed and its checksum matches. */
function verify(line: string, start: number, end: number): string | typeof BAD | typeof CUT {
  let sum = 0;
  let i = start + 1;
  for (; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c === STAR) break;
    // Printable ASCII only: noise that happens to XOR right is still noise.
    if (c < 0x20 || c > 0x7e) return BAD;
    sum ^= c;
  }
  if (i === end) return CUT;
  if (i + 3 !== end || i === start + 1) return BAD;
  const hi = hexValue(line.charCodeAt(i + 1));
  const lo = hexValue(line.charCodeAt(i + 2));
  if (hi < 0 || lo < 0 || hi * 16 + lo !== sum) return BAD;
  return line.slice(start + 1, i);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** `GPRMC,...` -> its checksum as two upper-case hex digits; for building test sentences. */
export function checksumOf(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return sum.toString(16).toUpperCase().padStart(2, '0');
}
