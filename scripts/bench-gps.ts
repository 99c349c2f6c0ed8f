/**
 * Decoder throughput, ours against a naive way in the same run: `npx tsx scripts/bench-gps.ts`.
 *
 * Input: gpsd's 15 regression captures (test/fixtures/gpsd) plus a generated 1 Hz drive,
 * repeated to about 20 MB and fed in 4 KiB chunks, as a serial port delivers them.
 * - framing + checksum, ours: NmeaFramer (gpsd's packet lexer, byte by byte) and checkSentence.
 * - framing + checksum, naive: a string buffer grown by concatenation and cut with indexOf/slice,
 *   a regex per line, the checksum by split('').reduce.
 * - full decode, ours: the above plus the RMC/GGA/GNS/GLL/VTG/GSA/ZDA fields (each validated)
 *   and epoch assembly into fixes (NmeaDecoder).
 * - full decode, naive: the naive framing, then split(',') and parseFloat on RMC/GGA positions,
 *   no validation and no epochs: it does far less, so the comparison flatters it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NmeaDecoder } from '../drivers/gps-nmea/decoder.ts';
import { NmeaFramer } from '../drivers/gps-nmea/framing.ts';
import { capture, drive } from '../test/gps-nmea-gen.ts';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/gpsd/', import.meta.url));
const CHUNK = 4096;
const RUNS = 5;

function corpus(targetBytes: number): Buffer {
  const parts = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.log'))
    .map((f) => readFileSync(FIXTURES + f));
  parts.push(Buffer.from(capture(drive({ startMs: Date.UTC(2026, 0, 5), epochs: 3600, noFix: (i) => i % 600 < 30 }), () => 'none').text, 'latin1'));
  const one = Buffer.concat(parts);
  return Buffer.concat(Array.from({ length: Math.ceil(targetBytes / one.length) }, () => one));
}

function chunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; at += CHUNK) out.push(buf.subarray(at, at + CHUNK));
  return out;
}

function ours(input: Buffer[]): { sentences: number; epochs: number } {
  const d = new NmeaDecoder({ year: 2026 });
  for (const c of input) d.push(c);
  d.end();
  return { sentences: d.stats.sentences, epochs: d.stats.epochs };
}

const LINE = /^\$([^*]*)\*([0-9A-Fa-f]{2})\s*$/;

/** The naive framing and checksum; calls `use` with each good sentence body. */
function naiveSentences(input: Buffer[], use: (body: string) => void): number {
  let buf = '';
  let sentences = 0;
  for (const c of input) {
    buf += c.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = LINE.exec(line);
      if (!m) continue;
      const body = m[1]!;
      const sum = body.split('').reduce((x, ch) => x ^ ch.charCodeAt(0), 0);
      if (sum !== parseInt(m[2]!, 16)) continue;
      sentences++;
      use(body);
    }
  }
  return sentences;
}

function naiveFraming(input: Buffer[]): { sentences: number; epochs: number } {
  return { sentences: naiveSentences(input, () => undefined), epochs: 0 };
}

function oursFraming(input: Buffer[]): { sentences: number; epochs: number } {
  const framer = new NmeaFramer();
  let sentences = 0;
  for (const c of input) for (const p of framer.push(c)) if (p.kind === 'nmea') sentences++;
  return { sentences, epochs: 0 };
}

function naive(input: Buffer[]): { sentences: number; epochs: number } {
  let positions = 0;
  const sentences = naiveSentences(input, (body) => {
    const f = body.split(',');
    const type = f[0]!.slice(2);
    if (type !== 'RMC' && type !== 'GGA') return;
    const at = type === 'RMC' ? 3 : 2;
    if (!Number.isNaN(parseFloat(f[at]!)) && !Number.isNaN(parseFloat(f[at + 2]!))) positions++;
  });
  return { sentences, epochs: positions };
}

/** Runs the contenders in turn, RUNS times, so that a busy machine slows them alike; median rate each. */
function bench(contenders: [string, (input: Buffer[]) => { sentences: number; epochs: number }][], input: Buffer[], bytes: number) {
  const rates = contenders.map(() => [] as number[]);
  const results = contenders.map(() => ({ sentences: 0, epochs: 0 }));
  for (let i = 0; i < RUNS; i++) {
    for (const [k, [, fn]] of contenders.entries()) {
      const t0 = process.hrtime.bigint();
      results[k] = fn(input);
      rates[k]!.push(results[k]!.sentences / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
  }
  return contenders.map(([name], k) => {
    const sorted = rates[k]!.sort((a, b) => a - b);
    const median = sorted[Math.floor(RUNS / 2)]!;
    return { name, median, best: sorted[RUNS - 1]!, mbps: (bytes / 1e6) * (median / results[k]!.sentences), ...results[k]! };
  });
}

const data = corpus(20e6);
const input = chunks(data);
// Warm both up so the JIT has seen them before timing.
const contenders: [string, (input: Buffer[]) => { sentences: number; epochs: number }][] = [
  ['framing+checksum, ours', oursFraming],
  ['framing+checksum, naive', naiveFraming],
  ['full decode, ours (NmeaDecoder)', ours],
  ['full decode, naive (no epochs)', naive],
];
// Warm them all up so the JIT has seen each before timing.
for (const [, fn] of contenders) fn(input.slice(0, 500));
const rows = bench(contenders, input, data.length);
console.log(`input: ${(data.length / 1e6).toFixed(1)} MB in ${input.length} chunks of ${CHUNK} B, median of ${RUNS} runs, node ${process.version}`);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(32)} ${(r.median / 1e6).toFixed(2).padStart(6)} M sentences/s (best ${(r.best / 1e6).toFixed(2)}), ${r.mbps.toFixed(0).padStart(4)} MB/s, ${r.sentences} sentences`,
  );
}
// The naive one also drops a sentence behind line noise or behind a cut sentence on its line; ours resyncs at the `$`.
console.log(`framing+checksum ours/naive: ${(rows[0]!.median / rows[1]!.median).toFixed(2)}x; full decode ours/naive: ${(rows[2]!.median / rows[3]!.median).toFixed(2)}x`);
