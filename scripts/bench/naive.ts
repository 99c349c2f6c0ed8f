import { Level } from 'level';
import mqtt from 'mqtt';
import type { RecordDraft } from '../../src/core/types.ts';
import { peakRssMb, readingSource, writeBytes, type PhaseResult } from './common.ts';

/**
 * The naive way, for comparison: one LevelDB key (JSON) per reading, group-committed with
 * fsync every 20 ms (ours commits at the end of the appending turn); one QoS 1 message per reading, 64 in flight, key deleted on PUBACK.
 */
const key = (seq: number) => seq.toString(16).padStart(16, '0');

export async function ingest(dir: string, n: number): Promise<PhaseResult> {
  const next = readingSource();
  const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  await db.open();
  const disk0 = writeBytes();
  let queue: { key: string; value: string }[] = [];
  let seq = 1;
  let flushing: Promise<void> = Promise.resolve();
  const commit = () => {
    const ops = queue.map((e) => ({ type: 'put' as const, ...e }));
    queue = [];
    flushing = flushing.then(() => db.batch(ops, { sync: true }));
  };
  const timer = setInterval(commit, 20);
  let seconds = 0;
  for (let done = 0; done < n; done += 10_000) {
    const drafts: RecordDraft[] = next(Math.min(10_000, n - done));
    const t0 = performance.now();
    for (const d of drafts) queue.push({ key: key(seq), value: JSON.stringify({ ...d, seq: seq++ }) });
    await new Promise((r) => setImmediate(r));
    seconds += (performance.now() - t0) / 1000;
  }
  const t0 = performance.now();
  clearInterval(timer);
  commit();
  await flushing;
  await db.close();
  seconds += (performance.now() - t0) / 1000;
  return { readings: n, seconds, diskBytes: writeBytes() - disk0 };
}

export async function drain(dir: string, url: string, limit: number): Promise<PhaseResult> {
  const baselineRssMb = process.memoryUsage().rss / 1048576;
  const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  await db.open();
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'bench-naive', reconnectPeriod: 0 });
  const t0 = performance.now();
  let sent = 0;
  let inflight = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const settle = () => new Promise<void>((r) => (wake = r));
  const iterator = db.iterator({ limit });
  for (;;) {
    while (inflight >= 64) await settle();
    if (failure) throw failure;
    const entry = await iterator.next();
    if (!entry) break;
    const [k, v] = entry;
    inflight++;
    client.publish('coldgate/v1/bench/telemetry', v, { qos: 1, properties: { contentType: 'application/json' } }, (err) => {
      inflight--;
      if (err) failure = err;
      else sent++;
      void db.del(k);
      wake?.();
    });
  }
  while (inflight > 0) await settle();
  const seconds = (performance.now() - t0) / 1000;
  const peak = peakRssMb();
  await iterator.close();
  client.end(true);
  await db.close();
  return { readings: sent, seconds, peakRssMb: peak, baselineRssMb };
}
