import type { ProbeCalibrationStatus } from './calibration.ts';
import type { ShipmentRefs } from './shipment.ts';
import type { TripChain } from './chain.ts';
import type { TripReport } from './trip.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const num = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '-' : x.toFixed(digits));
const row = (cells: readonly (string | number)[], tag = 'td') => `<tr>${cells.map((c) => `<${tag}>${escapeHtml(String(c))}</${tag}>`).join('')}</tr>`;

function shipmentRows(s: ShipmentRefs | undefined): string[] {
  if (!s) return [];
  const refs: [string, string | string[] | undefined][] = [['Bill of lading', s.billOfLading], ['Order', s.order], ['SSCC', s.sscc], ['Lots', s.lots]];
  return refs.flatMap(([label, v]) => (v === undefined ? [] : [row([label, Array.isArray(v) ? v.join(', ') : v])]));
}

function calibrationRows(list: readonly ProbeCalibrationStatus[] | undefined): string[] {
  return (list ?? []).map((p) => {
    const c = p.calibration;
    const cells = [p.probe, p.compartment ?? '-', c?.serial ?? '-', c?.certificate ?? '-', c ? `${c.calibratedAt} (${p.ageDays} days)` : 'not recorded', c ? `+/- ${c.accuracyC}` : '-'];
    return p.warning ? `<tr class="bad">${cells.map((x) => `<td>${escapeHtml(String(x))}</td>`).join('')}</tr><tr class="bad"><td colspan="6">WARNING: ${escapeHtml(p.warning)}</td></tr>` : row(cells);
  });
}

/** A self-contained printable page (no scripts, no external assets) rendered from the JSON report. */
export function renderTripReportHtml(r: TripReport, chain?: TripChain): string {
  const verdict = r.clean ? 'In range throughout' : 'OUT OF RANGE during this trip';
  const compartments = r.compartments.map((c) =>
    row([c.name, Object.entries(c.limits).map(([k, v]) => `${k} ${v}`).join(', ') || '-', c.samples, num(c.min), num(c.max), num(c.mean, 2), num(c.mkt, 3), c.outOfRangeMin, c.budgetMin === undefined ? '-' : `${c.excursionMin} / ${c.budgetMin}${c.budgetSpent ? ' SPENT' : ''}`]),
  );
  const alarms = r.alarms.map((a) => row([a.raisedAt, a.severity, a.source, a.message, a.ackedBy ? `${a.ackedBy} ${a.ackedAt ?? ''}` : '-', a.clearedAt ?? 'open']));
  const entries = r.entries.map((e) => row([e.at, e.siteName, e.refuse ? 'REFUSED' : 'admitted', e.reasons.join('; ') || '-']));
  const table = (head: string[], rows: string[]) => (rows.length ? `<table>${row(head, 'th')}${rows.join('')}</table>` : '<p>None.</p>');
  const shipment = shipmentRows(r.shipment);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trip ${escapeHtml(r.tripId)}</title>
<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #999;padding:.25em .5em;text-align:left}.bad{color:#b00}</style></head>
<body>
<h1>Trip report ${escapeHtml(r.tripId)}</h1>
<p>Gateway ${escapeHtml(r.gatewayId)}. Started ${escapeHtml(r.startedAt)} by ${escapeHtml(r.startedBy)}; ended ${escapeHtml(r.endedAt)} by ${escapeHtml(r.endedBy)} (${r.durationMin} min).</p>
<p class="${r.clean ? 'ok' : 'bad'}"><strong>${verdict}</strong></p>
<h2>Shipment</h2>
${shipment.length ? `<table>${shipment.join('')}</table>` : '<p>No references given at the start.</p>'}
<h2>Compartments (C)</h2>
${table(['Compartment', 'Limits', 'Samples', 'Min', 'Max', 'Mean', 'MKT', 'Min. out of range', 'Excursion / budget (min)'], compartments)}
<h2>Alarms</h2>
${table(['Raised', 'Severity', 'Source', 'Message', 'Acknowledged', 'Cleared'], alarms)}
<h2>Site entries</h2>
${table(['At', 'Site', 'Verdict', 'Reasons'], entries)}
<h2>Probes and calibration</h2>
${r.calibration ? table(['Probe', 'Compartment', 'Serial', 'Certificate', 'Calibrated', 'Accuracy (C)'], calibrationRows(r.calibration)) : '<p>Not recorded by this version.</p>'}
${chain ? chainSection(chain, r.tripId) : ''}</body></html>
`;
}

/** The archived chain heads, their signatures and the key: what `coldgate verify` checks a bundle of this trip against. */
function chainSection(c: TripChain, tripId: string): string {
  const heads = c.runs.flatMap((run) =>
    (['telemetry', 'events'] as const).flatMap((lane) => {
      const l = run.lanes[lane];
      return l ? [`<tr><td>${run.fromSeq}..${run.toSeq}</td><td>${lane}</td><td>${l.count}</td><td>${l.lastSeq}</td><td class="hash">${escapeHtml(l.head)}</td><td class="hash">${l.sig ? escapeHtml(l.sig.value) : 'not signed'}</td></tr>`] : [];
    }),
  );
  const key = c.key ? `<p>Signed with the box key, fingerprint <code class="key-fingerprint">${escapeHtml(c.key.fingerprint)}</code> (Ed25519 public key <code>${escapeHtml(c.key.publicKey)}</code>, as <code>coldgate keys show</code> prints it).</p>` : '<p>No box key: the chain heads are not signed.</p>';
  const notes = [...(c.unchained > 0 ? [`${c.unchained} readings and positions of this trip are outside the runs below (kept, not in the proof).`] : []), ...(c.problems ?? [])].map((n) => `<p class="bad">${escapeHtml(n)}</p>`).join('');
  const header = c.header ? `<p>This report (with the probes, episodes and counts) is signed too: SHA-256 <code class="hash">${escapeHtml(c.header.sha256)}</code>, signature <code class="hash">${escapeHtml(c.header.sig.value)}</code>.</p>` : '';
  return `<h2>Tamper evidence</h2>
${key}
${header}
<p>Every record of the trip is bound into the box's SHA-256 hash chain (coldgate.chain/1); <code>coldgate verify</code> checks an exported bundle of it (<code>coldgate trips export ${escapeHtml(tripId)} --format bundle</code>) against these heads.</p>
<style>.hash{font:11px monospace;word-break:break-all}</style>
<table><tr><th>Seqs</th><th>Lane</th><th>Records</th><th>Last seq</th><th>Chain head (SHA-256)</th><th>Signature (Ed25519, base64)</th></tr>${heads.join('')}</table>
${notes}`;
}
