import type { JournalRecord, Lane } from '../core/types.ts';
import { laneOf } from '../core/types.ts';
import { canonicalRecord } from '../chain/canonical.ts';
import { linkCanonical } from '../chain/hash.ts';
import { tripEvents, tripRecords, TripFileError, type TripHeader } from './archive-file.ts';
import type { ChainRun } from './chain.ts';

/**
 * `coldgate trips export ID --format bundle`: one NDJSON file with everything `coldgate verify`
 * needs for the trip (contract: src/uplink/contract/CHAIN.md, "Trip bundles"):
 *   {"format":"coldgate.bundle/1","gatewayId":..,"tripId":..,"key":{fingerprint,publicKey},"trip":HEADER,...}
 *   {"run":{"incarnation":..,"fromSeq":..,"toSeq":..,"lanes":{"telemetry":{prev,head,lastSeq,count,sig},"events":{..}}}}
 *   {"hash":"<h after this record, hex>","record":<the record as the chain hashed it>}   one per record, seq order, both lanes
 *   ...                                                                                  (next run)
 *   {"end":{"runs":N,"records":N}}
 * Every record of both lanes inside a run is there, so each lane's chain runs whole from the
 * run's prev to its signed head, and the seqs of a run are consecutive across the two lanes:
 * a missing seq is a removed record. The record text is canonical (RFC 8785), exactly the bytes
 * hashed: `printf '%s\n%s' PREV RECORD | sha256sum` gives the line's hash by hand. Readings
 * outside every run (`trip.chain.unchained`) are not in the bundle (the csv has them).
 */
export const BUNDLE_FORMAT = 'coldgate.bundle/1';

export interface BundleHead {
  format: typeof BUNDLE_FORMAT;
  gatewayId: string;
  tripId: string;
  exportedAt: string;
  key?: { fingerprint: string; publicKey: string };
  /** The archived trip's header (report, probes, episodes, time quality, counts, chain). */
  trip: TripHeader;
}

/** The bundle's lines; throws TripFileError for a trip archived without its chain. */
export async function* tripBundle(file: string, h: TripHeader, exportedAt: string): AsyncGenerator<string> {
  const chain = h.chain;
  if (!chain) throw new TripFileError(`${file}: archived as ${h.format}, before trips kept their hash chain: no bundle can prove it (export csv or html instead)`);
  const head: BundleHead = { format: BUNDLE_FORMAT, gatewayId: h.gatewayId, tripId: h.tripId, exportedAt, ...(chain.key && { key: chain.key }), trip: h };
  yield `${JSON.stringify(head)}\n`;
  const events = (await tripEvents(file)).sort((a, b) => a.seq - b.seq);
  const runs = chain.runs;
  let k = -1;
  let e = 0;
  let records = 0;
  const hashes: Record<Lane, string> = { telemetry: '', events: '' };
  let out = '';
  const put = (r: JournalRecord) => {
    while (k + 1 < runs.length && runs[k + 1]!.fromSeq <= r.seq) {
      k++;
      const run: ChainRun = runs[k]!;
      hashes.telemetry = run.lanes.telemetry?.prev ?? '';
      hashes.events = run.lanes.events?.prev ?? '';
      out += `${JSON.stringify({ run })}\n`;
    }
    const run = runs[k];
    if (!run || r.seq > run.toSeq) return;
    const lane = laneOf(r);
    const text = canonicalRecord(r);
    hashes[lane] = linkCanonical(hashes[lane], text);
    out += `{"hash":"${hashes[lane]}","record":${text}}\n`;
    records++;
  };
  for await (const chunk of tripRecords(file)) {
    for (const r of chunk) {
      if (r.seq === undefined) continue;
      while (e < events.length && events[e]!.seq < r.seq) put(events[e++]!);
      put(r as JournalRecord);
    }
    yield out;
    out = '';
  }
  while (e < events.length) put(events[e++]!);
  out += `${JSON.stringify({ end: { runs: runs.length, records } })}\n`;
  yield out;
}
