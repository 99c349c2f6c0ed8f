import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Journal } from '../src/journal/journal.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import { Collector, GatewayChild, type ChildOptions } from './helpers/gateway-child.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { hasPeer } from './helpers/peers.ts';
import { tempDir } from './helpers/tmp.ts';

const KILLS = 22;
const WINDOW = 8;
const BATCH = 2000;
const tmp = tempDir('crash-');
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  tmp.cleanup();
});

it.runIf(hasPeer('mosquitto'))(
  `kill -9 at ${KILLS} random moments under load: every accepted seq arrives, no hole without a gap, the journal opens cleanly`,
  async () => {
    const broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'broker') });
    await broker.start();
    cleanups.push(() => broker.stop());
    const gatewayId = 'van-crash';
    const collector = new Collector(broker.url, `coldgate/v1/${gatewayId}/#`);
    await collector.connect();
    cleanups.push(() => collector.close());

    const opts: ChildOptions = {
      dataDir: path.join(tmp.dir, 'data'),
      url: broker.url,
      gatewayId,
      readingsPerSec: 20_000,
      eventEveryMs: 50,
      journal: { commitIntervalMs: 10 },
      uplink: { batchIntervalMs: 20, batchMaxRecords: BATCH, inflightWindow: WINDOW, reconnectMinMs: 100 },
    };
    const accepted: [number, number][] = [];
    for (let i = 0; i < KILLS; i++) {
      const child = new GatewayChild(opts);
      cleanups.push(() => child.kill());
      // Any moment: every fourth kill lands while it still starts (opening the journal, connecting).
      if (i % 4 !== 3) await child.waitReady();
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
      await child.kill('SIGKILL');
      accepted.push(...child.accepted);
    }
    const total = accepted.reduce((n, [a, b]) => n + b - a + 1, 0);
    expect(total).toBeGreaterThan(20_000);

    // A last run without load drains what the killed ones left.
    const last = new GatewayChild({ ...opts, readingsPerSec: 0, eventEveryMs: 0 });
    cleanups.push(() => last.kill());
    await last.waitReady();
    await waitFor(() => collector.missing(accepted).length === 0 && last.status?.stats.lanes.telemetry.records === 0 && last.status.stats.lanes.events.records === 0, 60_000, 'the backlog to drain');
    expect(await last.kill('SIGTERM')).toBe(0);

    expect(collector.missing(accepted)).toEqual([]);
    expect(collector.unexplained()).toEqual([]);
    expect(collector.conflicts).toEqual([]);
    // At most the in-flight window (plus the batch whose PUBACK was being acked) per kill.
    expect(collector.duplicates).toBeLessThanOrEqual(KILLS * (WINDOW + 1) * BATCH);

    const journal = await Journal.open(opts.dataDir, JournalConfig.parse({}), silentLogger);
    const stats = journal.stats();
    await journal.close();
    const maxAccepted = accepted.reduce((m, [, b]) => Math.max(m, b), 0);
    expect(stats.nextSeq).toBeGreaterThan(maxAccepted);
    expect(stats.lanes.telemetry.records + stats.lanes.events.records).toBe(0);
    console.log(`crash: ${KILLS} kills, ${total} accepted, ${collector.seen.size} distinct arrived, ${collector.duplicates} duplicates`);
  },
  180_000,
);
