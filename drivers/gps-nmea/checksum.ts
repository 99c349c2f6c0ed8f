/**
 * Verifying a framed sentence (framing.ts) as gpsd does (gpsd/packet.c `nmea_checksum()`,
 * drivers/driver_nmea0183.c `nmea_parse()`):
 * - the checksum is the two characters after the LAST `*`: a `*` may occur in the body, and
 *   anything after the two hex digits (a stray CR, a space, AIS padding) is ignored;
 * - hex digits in either case (the Magellan EC-10X sends lower case);
 * - the XOR is over everything between `$` and that `*`;
 * - no `*` at all: cut short, except `$STI,` (Skytraq debug output), which has none;
 * - the fields are the text up to the FIRST `*` (or the line end), as gpsd splits them.
 *
 *   checkSentence("$GPGLL,,,,,,V,N*64\r\n")     -> { body: "GPGLL,,,,,,V,N" }
 *   checkSentence("$GPGLL,,,,,,V,N*64\r\r\n")   -> { body: "GPGLL,,,,,,V,N" }
 *   checkSentence("$GPGLL,,,,,,V,N*65\r\n")     -> "bad"
 *   checkSentence("$GPGLL,,,,,,V,N\r\n")        -> "cut"
 */
export function checkSentence(packet: string): { body: string } | 'bad' | 'cut' {
  if (packet.startsWith('$STI,')) return { body: fields(packet) };
  const star = packet.lastIndexOf('*');
  if (star <= 0) return 'cut';
  // Room for two hex digits before the end of the packet (its line end).
  if (star + 2 >= packet.length) return 'bad';
  const hi = hexValue(packet.charCodeAt(star + 1));
  const lo = hexValue(packet.charCodeAt(star + 2));
  if (hi < 0 || lo < 0) return 'bad';
  let sum = 0;
  for (let i = 1; i < star; i++) sum ^= packet.charCodeAt(i);
  return hi * 16 + lo === sum ? { body: fields(packet) } : 'bad';
}

/** The sentence without `$`, up to the first `*` or control character: what gpsd splits into fields. */
function fields(packet: string): string {
  let end = 1;
  while (end < packet.length) {
    const c = packet.charCodeAt(end);
    if (c === 0x2a || c < 0x20 || c > 0x7e) break;
    end++;
  }
  return packet.slice(1, end);
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
