import { checkSentence } from './checksum.ts';

/**
 * Byte stream -> verified sentences, by the NMEA part of gpsd's packet lexer (gpsd/packet.c
 * `nextstate()` and `packet_parse()`, at the commit the fixtures come from), state for state,
 * so that we accept exactly the sentences gpsd accepts:
 *
 * - A sentence starts at `$` followed by a talker gpsd knows (LEADERS below, `$P` + a letter
 *   for proprietary ones, `$Ack`); any other `$` is not a sentence (`unframed`).
 * - Its body is printable ASCII. It ends at LF, at CR LF, or at CR CR ... LF (the Firefly-1a
 *   and the Telit PLS83-W end their lines in CR CR LF). A non-printable byte, or a CR followed
 *   by anything but CR or LF (CR-only line ends), drops it (`badChecksum`).
 * - A `$` in the body means another sentence was injected into this one (the iSync does this):
 *   the start is stashed, and once the injected sentence is accepted, lexing resumes with the
 *   stash, so `$GPGSV,4,1,15,0` + `$PTNTA,...*18\r\n` + `5,34,...*71\r\n` gives both. A stash
 *   that meets noise, a rejected packet or another stash first is lost (`cut`).
 * - Then the checksum (checksum.ts); a sentence without a line end is never accepted.
 * - `$PASHR` is Ashtech's binary-bodied sentence: it ends only at CR LF followed by `$`.
 * - `!` + an AIS talker (`!AI`, `!AB`, `!BS`, `!SA`, ...) and `$AI` frame an AIS sentence,
 *   whose body a `$` does not cut.
 * - `#` at the start of a packet is a comment up to LF (CR and tab allowed).
 * - Everything else between packets is noise, skipped byte by byte.
 *
 *   push("$GPGGA,1*00\r\n$GPR")       -> [{ kind: "nmea", text: "$GPGGA,1*00\r\n", body: "GPGGA,1" }]  ("$GPR" waits)
 *   push("MC,2*00\r\r\n")             -> [{ kind: "nmea", text: "$GPRMC,2*00\r\r\n", body: "GPRMC,2" }]
 *   push("$IMGSA,A,3*00\n")           -> []                                                  (unframed: 1)
 *
 * gpsd's binary protocols (UBX, SiRF, RTCM, Garmin text, ...) are not framed here: their bytes
 * are noise to us, where gpsd's lexer may take a sentence glued to them for part of theirs.
 */
export type Packet = { kind: 'nmea' | 'ais'; text: string; body: string } | { kind: 'comment'; text: string };

/** Counts of sentence starts that did not become a sentence (the decoder's counters, shared). */
export interface FramingStats {
  /** A wrong or malformed checksum, a non-printable byte in the body, or a CR not followed by LF. */
  badChecksum: number;
  /** No checksum, or no line end: cut short by another `$` (and never resumed) or the end of the stream. */
  cut: number;
  /** A `$` not followed by a talker gpsd frames: `$IMGSA`, `$LOG...`, `$GIRMC`, noise. */
  unframed: number;
  /** No line end within MAX_PACKET bytes: dropped, so that noise cannot grow memory. */
  overlong: number;
}

/** Far beyond any NMEA sentence (gpsd decodes none over 130 bytes); noise this long is dropped. */
export const MAX_PACKET = 512;

const enum S {
  Ground,
  /** After an accepted sentence: as Ground, but a stash survives it (packet.c's NMEA_RECOGNIZED, AIS_RECOGNIZED). */
  Accepted,
  Comment,
  Dollar,
  Lead2,
  Vendor,
  PashrA,
  PashrS,
  PashrH,
  BinBody,
  BinCr,
  BinNl,
  Ack2,
  Body,
  Cr,
  Bang,
  AisLead1,
  AisAlpha,
  AisB,
  AisS,
  AisBody,
  AisCr,
}

/** After `$` + the key, the letters that complete a talker gpsd frames (packet.c's *_LEAD_1 states). */
const LEADERS: Record<string, string> = { B: 'D', E: 'C', G: 'ABLNPY', H: 'CE', I: 'IN', Q: 'Z', S: 'DNT', T: 'I', W: 'I', Y: 'X' };

const CR = 0x0d;
const LF = 0x0a;
const TAB = 0x09;
const DOLLAR = 0x24;
const BANG = 0x21;
const HASH = 0x23;
const isPrint = (c: number) => c >= 0x20 && c <= 0x7e;
const isAlpha = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** Most bytes are a body's plain printable ones: step over them at once (up to `limit`, and never past the last byte). */
function skipBody(text: string, i: number, limit: number): number {
  const end = Math.min(text.length - 1, limit);
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === DOLLAR) break;
    i++;
  }
  return i;
}

export class NmeaFramer {
  private state = S.Ground;
  /** The packet so far, when it began in an earlier chunk. */
  private pending = '';
  /** Past MAX_PACKET: the packet is followed to its end, but not kept. */
  private overflow = false;
  /** The second leader letter's key (`G` of `$GP`). */
  private lead = '';
  /** The start of a sentence another one was injected into (packet.c's stash). */
  private stash = '';
  /** An abandoned packet's bytes wait in front of the byte looked at next. */
  private glued = false;

  constructor(readonly stats: FramingStats = { badChecksum: 0, cut: 0, unframed: 0, overlong: 0 }) {}

  push(chunk: Buffer | string): Packet[] {
    // latin1 maps each byte to one char, so garbage bytes never become multi-byte sequences.
    let text = this.pending + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    const out: Packet[] = [];
    let start = 0;
    let i = this.pending.length;
    /**
     * Abandons the packet (gpsd's character_pushback to the ground state). `next`: lexing starts
     * again at the packet's second byte (packet.c's `(void)character_pushback(); break;`, then
     * character_discard()). `here`: the byte at i is looked at first (`return character_pushback()`):
     * if it begins a packet, the abandoned bytes stay in front of it, as in gpsd's buffer.
     */
    const drop = (count: keyof FramingStats | undefined, relex: 'next' | 'here') => {
      if (count !== undefined) this.stats[this.overflow ? 'overlong' : count]++;
      this.overflow = false;
      this.state = S.Ground;
      if (relex === 'next') i = start;
      else {
        this.glued = true;
        i--;
      }
    };
    /** The packet text[start, end) is complete; lexing goes on at `end`. */
    const recognise = (kind: Packet['kind'], end: number) => {
      i = end - 1;
      const packet = text.slice(start, end);
      const overflow = this.overflow;
      this.overflow = false;
      this.state = S.Ground;
      if (overflow) return void this.stats.overlong++;
      if (kind === 'comment') return void out.push({ kind, text: packet });
      const checked = checkSentence(packet);
      if (typeof checked === 'string') return void (checked === 'bad' ? this.stats.badChecksum++ : this.stats.cut++);
      out.push({ kind, text: packet, body: checked.body });
      this.state = S.Accepted;
      // An accepted sentence resumes the one it was injected into: lex the stash, then the rest.
      if (kind === 'nmea' && this.stash !== '') {
        text = this.stash + text.slice(end);
        this.stash = '';
        i = -1;
      }
    };
    for (; i < text.length; i++) {
      if (this.state === S.Body && !this.overflow) i = skipBody(text, i, start + MAX_PACKET);
      const c = text.charCodeAt(i);
      switch (this.state) {
        case S.Ground:
        case S.Accepted: {
          if (this.state === S.Ground && this.stash !== '') {
            this.stats.cut++;
            this.stash = '';
          }
          const glued = this.glued;
          this.glued = false;
          if (!glued) start = i;
          if (c === DOLLAR) this.state = S.Dollar;
          else if (c === BANG) this.state = S.Bang;
          else if (c === HASH) this.state = S.Comment;
          else {
            this.state = S.Ground;
            // Noise after an abandoned packet: gpsd drops the packet's first byte and lexes the rest again.
            if (glued) i = start;
          }
          break;
        }
        case S.Comment:
          if (c === LF) recognise('comment', i + 1);
          else if (c !== CR && c !== TAB && !isPrint(c)) drop(undefined, 'here');
          break;
        case S.Dollar: {
          const ch = String.fromCharCode(c);
          if (ch === 'A' || LEADERS[ch] !== undefined) this.state = S.Lead2;
          else if (ch === 'P') this.state = S.Vendor;
          else drop('unframed', 'next');
          this.lead = ch;
          break;
        }
        case S.Lead2: {
          const ch = String.fromCharCode(c);
          if (this.lead === 'A') {
            // $Ack (SiRF), $AI (AIS from a class A/B station, framed as AIS), $AP (autopilot).
            if (ch === 'c') this.state = S.Ack2;
            else if (ch === 'I') this.state = S.AisAlpha;
            else if (ch === 'P') this.state = S.Body;
            else drop('unframed', 'here');
          } else if (LEADERS[this.lead]!.includes(ch)) this.state = S.Body;
          // packet.c's NMEA_PUB_LEAD ($G) starts again at the next byte, the other *_LEAD_1 states here.
          else drop('unframed', this.lead === 'G' ? 'next' : 'here');
          break;
        }
        case S.Ack2:
          if (c === 0x6b /* k */) this.state = S.Body;
          else drop('unframed', 'here');
          break;
        case S.Vendor:
          if (c === 0x41 /* A */) this.state = S.PashrA;
          else if (isAlpha(c)) this.state = S.Body;
          else drop('unframed', 'next');
          break;
        case S.PashrA:
          this.pashr(c, 0x53 /* S */, S.PashrS, drop);
          break;
        case S.PashrS:
          this.pashr(c, 0x48 /* H */, S.PashrH, drop);
          break;
        case S.PashrH:
          this.pashr(c, 0x52 /* R */, S.BinBody, drop);
          break;
        case S.BinBody:
          if (c === CR) this.state = S.BinCr;
          break;
        case S.BinCr:
          this.state = c === LF ? S.BinNl : S.BinBody;
          break;
        case S.BinNl:
          // gpsd frames $PASHR at the `$` after its CR LF; the `$` then begins the next packet.
          if (c === DOLLAR) recognise('nmea', i);
          else this.state = S.BinBody;
          break;
        case S.Body:
          if (c === CR) this.state = S.Cr;
          else if (c === LF) recognise('nmea', i + 1);
          else if (c === DOLLAR) {
            this.stashPacket(text.slice(start, i));
            i--;
          }
          else if (!isPrint(c)) drop('badChecksum', 'next');
          break;
        case S.Cr:
          if (c === LF) recognise('nmea', i + 1);
          else if (c !== CR) drop('badChecksum', 'next');
          break;
        case S.Bang:
          if (c === 0x41 /* A */) this.state = S.AisLead1;
          else if (c === 0x42 /* B */) this.state = S.AisB;
          else if (c === 0x53 /* S */) this.state = S.AisS;
          else drop(undefined, 'here');
          break;
        case S.AisLead1:
          if ('BDINRSTX'.includes(String.fromCharCode(c))) this.state = S.AisAlpha;
          else drop(undefined, 'here');
          break;
        case S.AisB:
          if (c === 0x53 /* S */) this.state = S.AisAlpha;
          else drop(undefined, 'here');
          break;
        case S.AisS:
          if (c === 0x41 /* A */) this.state = S.AisAlpha;
          else drop(undefined, 'here');
          break;
        case S.AisAlpha:
          if (isAlpha(c)) this.state = S.AisBody;
          else drop(text.charCodeAt(start) === DOLLAR ? 'unframed' : undefined, 'here');
          break;
        case S.AisBody:
          if (c === CR) this.state = S.AisCr;
          else if (c === LF) recognise('ais', i + 1);
          else if (!isPrint(c)) drop('badChecksum', 'next');
          break;
        case S.AisCr:
          if (c === LF) recognise('ais', i + 1);
          else drop('badChecksum', 'next');
          break;
      }
      if (this.state > S.Accepted && !this.overflow && i + 1 - start > MAX_PACKET) {
        this.overflow = true;
        start = i + 1;
      }
    }
    this.pending = this.state <= S.Accepted || this.overflow ? '' : text.slice(start);
    return out;
  }

  /** At the end of the stream: a sentence without its line end is lost, as in gpsd. */
  end(): void {
    if (this.overflow) this.stats.overlong++;
    else if (this.state > S.Accepted && this.pending.startsWith('$')) this.stats.cut++;
    if (this.stash !== '') this.stats.cut++;
    this.state = S.Ground;
    this.pending = '';
    this.overflow = false;
    this.stash = '';
    this.glued = false;
  }

  /** `$PASHR` letter by letter; another letter makes it an ordinary proprietary sentence. */
  private pashr(c: number, want: number, next: S, drop: (count: keyof FramingStats, relex: 'next') => void): void {
    if (c === want) this.state = next;
    else if (isAlpha(c)) this.state = S.Body;
    else drop('unframed', 'next');
  }

  /** A `$` in a body (packet.c's STASH_RECOGNIZED): keep the start, lex the `$` as a new sentence. */
  private stashPacket(partial: string): void {
    if (this.stash !== '') this.stats.cut++;
    if (this.overflow) this.stats.overlong++;
    this.stash = this.overflow ? '' : partial;
    this.overflow = false;
    // Not the ground state: the `$` must not throw the stash away.
    this.state = S.Accepted;
  }
}
