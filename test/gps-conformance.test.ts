import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scanLine } from '../drivers/gps-nmea/checksum.ts';
import type { Tpv } from '../drivers/gps-nmea/tpv.ts';
import { compareEpochs, gpsdEpochs, ourEpochs, pct, runDecode, type Agreement } from './gps-compare.ts';

/**
 * Conformance against gpsd's own regression captures (test/fixtures/gpsd, in the repo):
 * decode each log with `coldgate gps decode` and compare epoch by epoch with gpsd's TPVs in
 * the .chk, by the rules in that folder's README. A missing folder fails: it must not pass by
 * testing nothing.
 */
const DIR = fileURLToPath(new URL('./fixtures/gpsd/', import.meta.url));

interface Row {
  log: string;
  badInManifest: number;
  bad: number;
  cut: number;
  fixes: number;
  a: Agreement;
}

function manifest(): { file: string; bad: number }[] {
  const [header, ...rows] = readFileSync(`${DIR}MANIFEST.tsv`, 'utf8').trim().split('\n');
  const cols = (header ?? '').split('\t');
  const at = (name: string) => cols.indexOf(name);
  return rows.map((r) => r.split('\t')).map((c) => ({ file: c[at('file')] ?? '', bad: Number(c[at('bad_cksum')]) }));
}

describe('conformance with gpsd on its regression captures', () => {
  it('finds the fixture folder', () => {
    expect(existsSync(`${DIR}MANIFEST.tsv`), `${DIR}MANIFEST.tsv must exist`).toBe(true);
    expect(manifest().length).toBeGreaterThanOrEqual(15);
  });

  it('agrees with gpsd on time, position and speed on every fix epoch of every log', async () => {
    const rows: Row[] = [];
    for (const { file, bad: badInManifest } of manifest()) {
      const log = readFileSync(DIR + file, 'latin1');
      const chk = readFileSync(`${DIR}${file}.chk`, 'latin1').split(/\r?\n/);
      const run = await runDecode([DIR + file]);
      expect(run.code, `${file}: exit code`).toBe(0);

      // Exactly the sentences gpsd accepted, in order: every bad-checksum or cut line rejected, no good one lost.
      const accepted = log.split('\n').flatMap((l) => scanLine(l.replace(/\r$/, '')).bodies.map((b) => `$${b}`));
      const gpsdAccepted = chk.filter((l) => l.startsWith('$')).map((l) => l.replace(/\*[0-9A-F]{2}$/i, ''));
      expect(accepted, `${file}: accepted sentences`).toEqual(gpsdAccepted);

      const summary = /(\d+) sentences, (\d+) bad checksums, (\d+) cut short, (\d+) malformed, (\d+) epochs, (\d+) fixes/.exec(run.stderr);
      expect(summary, `${file}: summary line on stderr`).not.toBeNull();
      const [sentences, bad, cut, malformed, , fixes] = summary!.slice(1).map(Number) as number[];
      const starts = (log.replace(/^#.*$/gm, '').match(/\$/g) ?? []).length;
      expect(sentences, `${file}: sentences counted`).toBe(gpsdAccepted.length);
      expect(sentences! + bad! + cut!, `${file}: every sentence start counted once`).toBe(starts);
      expect(malformed, `${file}: malformed`).toBe(0);

      const ours = run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Tpv);
      rows.push({ log: file, badInManifest, bad: bad!, cut: cut!, fixes: fixes!, a: compareEpochs(gpsdEpochs(chk), ourEpochs(ours)) });
    }
    printTable(rows);

    for (const { log, a } of rows) {
      // The bar is 99.5% over the fix epochs; these captures allow no disagreement at all.
      expect(a.agree, `${log}: time/lat/lon/speed agreement\n${a.samples.join('\n')}`).toBe(a.compared);
      expect(a.trackAgree, `${log}: track`).toBe(a.compared);
      expect(a.statusAgree, `${log}: status`).toBe(a.compared);
      expect(a.falseFix, `${log}: epochs gpsd calls no-fix that we call a fix`).toBe(0);
    }
    const total = sum(rows, (r) => r.a.compared);
    expect(total).toBeGreaterThan(500);
    // Mode: gpsd carries 3D over from earlier epochs where the receiver's own GSA says 2D; we follow the receiver.
    expect(sum(rows, (r) => r.a.modeAgree) / total).toBeGreaterThanOrEqual(0.99);
    // The README's rule 3: a handful of fixes at times gpsd did not report, over all logs.
    expect(sum(rows, (r) => r.a.extra)).toBeLessThanOrEqual(10);
  });
});

const sum = (rows: Row[], f: (r: Row) => number) => rows.reduce((n, r) => n + f(r), 0);

function printTable(rows: Row[]): void {
  const head = ['log', 'epochs', 'agree%', 'mode%', 'track%', 'alt%', 'status%', 'extra', 'bad/cut (manifest)'];
  const lines = rows.map(({ log, a, bad, cut, badInManifest }) => [
    log,
    String(a.compared),
    pct(a.agree, a.compared),
    pct(a.modeAgree, a.compared),
    pct(a.trackAgree, a.compared),
    pct(a.altAgree, a.compared),
    pct(a.statusAgree, a.compared),
    String(a.extra),
    `${bad}/${cut} (${badInManifest})`,
  ]);
  const all = (f: (a: Agreement) => number) => pct(sum(rows, (r) => f(r.a)), sum(rows, (r) => r.a.compared));
  lines.push(['ALL', String(sum(rows, (r) => r.a.compared)), all((a) => a.agree), all((a) => a.modeAgree), all((a) => a.trackAgree), all((a) => a.altAgree), all((a) => a.statusAgree), String(sum(rows, (r) => r.a.extra)), '']);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(['gpsd conformance (fix epochs gpsd reported with a time, mode >= 2):', fmt(head), ...lines.map(fmt)].join('\n'));
}
