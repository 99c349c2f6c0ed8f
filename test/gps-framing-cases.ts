/**
 * Framing cases, each with the rule of gpsd's packet lexer (gpsd/packet.c) it follows: bytes in,
 * the sentences gpsd accepts out, and how we count the rest. gps-decode.test.ts checks our
 * framer on all of them; gps-gpsd-live.test.ts feeds those marked `gpsd322` (where Debian's
 * gpsd 3.22 behaves as the newer gpsd the fixtures come from) to a real gpsd. 3.22 differs in
 * three ways: it took a sentence with no `*` as unchecksummed and good, it knew fewer talkers,
 * and a CR ended a comment. Test-only.
 */
import { NmeaFramer } from '../drivers/gps-nmea/framing.ts';
import { sentence } from './gps-nmea-gen.ts';

export interface FramingCase {
  rule: string;
  bytes: string;
  bodies: string[];
  badChecksum: number;
  cut: number;
  unframed: number;
  /** gpsd 3.22 agrees (checked live); false where it differs or the case needs the end of the stream. */
  gpsd322: boolean;
}

const GLL = '$GPGLL,,,,,,V,N*64';
const G = 'GPGLL,,,,,,V,N';
const row = (rule: string, bytes: string, bodies: string[], badChecksum: number, cut: number, unframed: number, gpsd322 = true): FramingCase => ({ rule, bytes, bodies, badChecksum, cut, unframed, gpsd322 });
const talkers = (list: string[]) => list.map((t) => `${sentence(`${t}ZDA,`)}\r\n`).join('');
const TALKERS_322 = ['GP', 'GN', 'GL', 'GA', 'GB', 'BD', 'QZ', 'II', 'IN', 'WI', 'HC', 'TI', 'EC', 'SD', 'ST', 'YX'];
const TALKERS_NEW = ['GY', 'HE', 'SN', 'AP'];

export const FRAMING_CASES: FramingCase[] = [
  row('CR LF', `${GLL}\r\n`, [G], 0, 0, 0),
  row('LF only (NMEA_LEADER_END: "helps with interpreting logfiles")', `${GLL}\n`, [G], 0, 0, 0),
  row('CR CR LF (NMEA_CR: the Firefly-1a, the Telit PLS83-W)', `${GLL}\r\r\n${GLL}\r\r\r\n`, [G, G], 0, 0, 0),
  row('LF CR: the stray CR is noise between sentences', `${GLL}\n\r${GLL}\n\r`, [G, G], 0, 0, 0),
  row('CR then $ (CR-only line ends): NMEA_CR gives up, the sentence is lost', `${GLL}\r${GLL}\n`, [G], 1, 0, 0),
  row('a CR inside the body', '$GPGLL,,,\r,,,V,N*64\r\n', [], 1, 0, 0),
  row('no line end before the end of the stream: never recognised', GLL, [], 0, 1, 0, false),
  row('wrong checksum (nmea_checksum)', '$GPGLL,,,,,,V,N*65\r\n', [], 1, 0, 0),
  row('lower-case hex (the Magellan EC-10X)', '$GPTXT,L*2f\r\n$GPTXT,L*2F\r\n', ['GPTXT,L', 'GPTXT,L'], 0, 0, 0),
  row('one hex digit', '$GPGLL,,,,,,V,N*6\r\n', [], 1, 0, 0),
  // gpsd up to 3.2x took a sentence with no `*` at all as one without a checksum; now only $STI.
  row('no checksum: rejected', '$GPGLL,,,,,,V,N\r\n', [], 0, 1, 0, false),
  row('no checksum, $STI (Skytraq): accepted', '$STI,IC,error=4\r\n', ['STI,IC,error=4'], 0, 0, 0),
  row('anything after the two hex digits is ignored', `${GLL} \r\n${GLL},x\r\n`, [G, G], 0, 0, 0),
  row('the checksum follows the LAST *, the fields end at the first', `$GPTXT,a*b*${'GPTXT,a*b'.split('').reduce((x, c) => x ^ c.charCodeAt(0), 0).toString(16)}\r\n`, ['GPTXT,a'], 0, 0, 0),
  row('noise before the $ on the same line', `\xff\x00garbage${GLL}\r\n`, [G], 0, 0, 0),
  row('a non-printable byte in the body', '$GPGLL,,,\x01,,,V,N*65\r\n', [], 1, 0, 0),
  row('a byte over 0x7e in the body', '$GPGLL,,,\xb0,,,V,N*64\r\n', [], 1, 0, 0),
  row('a $ cuts a sentence short; lost when noise follows the one after (GROUND_STATE clears the stash)', `$GPGGA,0301${GLL}\r\nx\r\n`, [G], 0, 1, 0, false),
  row('a sentence injected into another (the iSync): both kept (STASH_RECOGNIZED)', `$GPGLL,,,,${GLL}\r\n,,V,N*64\r\n`, [G, G], 0, 0, 0),
  row('talkers gpsd does not frame: $IM, $LOG, $GI, $GQ', '$IMGSA,A,3*00\r\n$LOG108,1*00\r\n$GIRMC,*00\r\n$GQRMC,*00\r\n', [], 0, 0, 4),
  row('proprietary: $P + a letter', '$PGRMZ,1*00\r\n$P1,2*00\r\n', [], 1, 0, 1),
  row('talkers gpsd frames', talkers(TALKERS_322), TALKERS_322.map((t) => `${t}ZDA,`), 0, 0, 0),
  row('talkers newer than gpsd 3.22', talkers(TALKERS_NEW), TALKERS_NEW.map((t) => `${t}ZDA,`), 0, 0, 0, false),
  row('$$: the first $ is not a sentence', `$${GLL}\r\n`, [G], 0, 0, 1),
  row('$G then not a talker letter: lexing starts again at the next byte (NMEA_PUB_LEAD)', `$GX${GLL}\r\n`, [G], 0, 0, 1),
  row('$A then not c/I/P: the $A stays in front of the next sentence, whose checksum then fails (NMEA_LEAD_A)', `$A${GLL}\r\n`, [], 1, 0, 1),
  row('$I then not I/N: the same (SEATALK_LEAD_1)', `$I${GLL}\r\n`, [], 1, 0, 1),
  row('! then not an AIS talker: the same (AIS_BANG)', `!${GLL}\r\n!A${GLL}\r\n`, [], 2, 0, 0),
  row('an AIS sentence (!AIVDM) is not a GPS sentence; a $ does not cut it', `!AIVDM,1,1,,A,${GLL}*00\r\n${GLL}\r\n`, [G], 1, 0, 0),
  row('a # comment line', `# Date: 2009-12-09\r\n${GLL}\r\n`, [G], 0, 0, 0),
  row('a comment broken by a control byte: lexing starts again after its #', `#abc\x01${GLL}\r\n`, [G], 0, 0, 0),
  row('a # after noise swallows the rest of the line as a comment (COMMENT_BODY allows CR; 3.22 did not)', `x#${GLL}\r\n${GLL}\r\n`, [G], 0, 0, 0, false),
  row('$PASHR has a binary body, ended by CR LF before the next $', `${sentence('PASHR,\x01\x02')}\r\n${GLL}\r\n`, ['PASHR,', G], 0, 0, 0),
];

/** Bytes through the framer to the end of the stream: the sentences accepted, and the counters of the rest. */
export function frame(...chunks: string[]) {
  const f = new NmeaFramer();
  const packets = chunks.flatMap((c) => f.push(c));
  f.end();
  const bodies = packets.flatMap((p) => (p.kind === 'comment' ? [] : [p.body]));
  return { bodies, ...f.stats };
}
