import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RefusedKind } from './inbound.ts';

/** Commit latency buckets in seconds: a local commit is ~1 ms, one behind a slow disk ~100 ms. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What a receiver has done since it started (Receiver.metrics(), /metrics). */
export interface ReceiverMetrics {
  batches: number;
  records: number;
  duplicates: number;
  refused: Partial<Record<RefusedKind, number>>;
  /** Open holes over all journals at the last scan. */
  holes: number;
  replayRequests: number;
  notHeldRanges: number;
  committedPublished: number;
  /** Transactions that failed on the database and were retried. */
  dbRetries: number;
  chainBreaks: number;
  commitSeconds: { count: number; sum: number; buckets: number[] };
}

export function newMetrics(): ReceiverMetrics {
  return { batches: 0, records: 0, duplicates: 0, refused: {}, holes: 0, replayRequests: 0, notHeldRanges: 0, committedPublished: 0, dbRetries: 0, chainBreaks: 0, commitSeconds: { count: 0, sum: 0, buckets: BUCKETS.map(() => 0) } };
}

export function observeCommit(m: ReceiverMetrics, seconds: number): void {
  m.commitSeconds.count++;
  m.commitSeconds.sum += seconds;
  BUCKETS.forEach((le, i) => {
    if (seconds <= le) m.commitSeconds.buckets[i]!++;
  });
}

/** Prometheus text exposition format 0.0.4. */
export function renderMetrics(m: ReceiverMetrics): string {
  const out: string[] = [];
  const one = (type: 'counter' | 'gauge', name: string, help: string, value: number) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
  one('counter', 'coldgate_receiver_batches_total', 'Batch messages committed.', m.batches);
  one('counter', 'coldgate_receiver_records_total', 'Records inserted (new seqs).', m.records);
  one('counter', 'coldgate_receiver_duplicates_total', 'Records dropped as already received.', m.duplicates);
  out.push('# HELP coldgate_receiver_refused_total Messages refused, by kind.', '# TYPE coldgate_receiver_refused_total counter');
  for (const [kind, n] of Object.entries(m.refused)) out.push(`coldgate_receiver_refused_total{kind="${kind}"} ${n}`);
  one('gauge', 'coldgate_receiver_holes', 'Open holes (missing seq ranges below the highest received) at the last scan.', m.holes);
  one('counter', 'coldgate_receiver_replay_requests_total', 'cmd/replay requests published.', m.replayRequests);
  one('counter', 'coldgate_receiver_not_held_ranges_total', 'Ranges a box said it no longer holds (declared gaps, reason not-held).', m.notHeldRanges);
  one('counter', 'coldgate_receiver_committed_published_total', 'committed messages published.', m.committedPublished);
  one('counter', 'coldgate_receiver_db_retries_total', 'Transactions retried after a database error.', m.dbRetries);
  one('counter', 'coldgate_receiver_chain_breaks_total', 'Chain or signature problems recorded.', m.chainBreaks);
  out.push('# HELP coldgate_receiver_commit_seconds Time from a message arriving to its transaction committing.', '# TYPE coldgate_receiver_commit_seconds histogram');
  BUCKETS.forEach((le, i) => out.push(`coldgate_receiver_commit_seconds_bucket{le="${le}"} ${m.commitSeconds.buckets[i]}`));
  out.push(`coldgate_receiver_commit_seconds_bucket{le="+Inf"} ${m.commitSeconds.count}`, `coldgate_receiver_commit_seconds_sum ${m.commitSeconds.sum}`, `coldgate_receiver_commit_seconds_count ${m.commitSeconds.count}`);
  return `${out.join('\n')}\n`;
}

/** GET /metrics on every interface: Prometheus scrapes from another host. */
export async function serveMetrics(port: number, metrics: () => ReceiverMetrics): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderMetrics(metrics()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}
