import { JournalConfig } from '../../src/config/schema-journal.ts';
import { UplinkConfig } from '../../src/config/schema-uplink.ts';
import { silentLogger } from '../../src/core/log.ts';
import { Journal } from '../../src/journal/journal.ts';
import { Uplink } from '../../src/uplink/uplink.ts';
import { peakRssMb, PROBES, readingSource, writeBytes, type PhaseResult } from './common.ts';

const BLOCK = 10_000;

/**
 * The real journal with its default config (fsync on, group commit at the end of the appending event-loop turn), fed the way the
 * gateway's sink feeds it: `appendMany` with the readings of one poll of the van's probes
 * (PROBES at once, as one coalesced read hands them over), one promise per poll.
 */
export async function ingest(dir: string, n: number): Promise<PhaseResult> {
  const next = readingSource();
  const journal = await Journal.open(dir, JournalConfig.parse({}), silentLogger);
  const disk0 = writeBytes();
  let seconds = 0;
  let last: Promise<unknown> = Promise.resolve();
  for (let done = 0; done < n; done += BLOCK) {
    // Making the drafts (and the per-poll arrays) is the drivers' work: only the appends are timed.
    const drafts = next(Math.min(BLOCK, n - done));
    const polls: typeof drafts[] = [];
    for (let i = 0; i < drafts.length; i += PROBES) polls.push(drafts.slice(i, i + PROBES));
    const t0 = performance.now();
    for (const poll of polls) last = journal.appendMany(poll);
    // Let the group commit run between blocks, as it would between driver polls.
    await new Promise((r) => setImmediate(r));
    seconds += (performance.now() - t0) / 1000;
  }
  const t0 = performance.now();
  await last;
  await journal.close();
  seconds += (performance.now() - t0) / 1000;
  return { readings: n, seconds, diskBytes: writeBytes() - disk0 };
}

/** The real uplink with its default config draining the journal to the broker until all is PUBACKed. */
export async function drain(dir: string, url: string): Promise<PhaseResult> {
  const baselineRssMb = process.memoryUsage().rss / 1048576;
  const journal = await Journal.open(dir, JournalConfig.parse({}), silentLogger);
  const readings = journal.stats().lanes.telemetry.records;
  const uplink = new Uplink(UplinkConfig.parse({ url, batchIntervalMs: 10 }), { journal, log: silentLogger, gatewayId: 'bench', version: 'bench', latest: () => ({ doc: {}, changeKey: '' }) });
  const t0 = performance.now();
  uplink.start();
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (journal.stats().lanes.telemetry.records === 0) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  const seconds = (performance.now() - t0) / 1000;
  const peak = peakRssMb();
  await uplink.stop();
  await journal.close();
  return { readings, seconds, peakRssMb: peak, baselineRssMb };
}
