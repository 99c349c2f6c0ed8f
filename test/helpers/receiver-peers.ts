import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Mosquitto } from './mosquitto.ts';
import { freePort } from './net.ts';
import { startPg, type PgCluster } from './postgres.ts';
import { tempDir } from './tmp.ts';

/**
 * What a receiver suite needs for the whole file: a real PostgreSQL (test/helpers/postgres.ts)
 * and a real mosquitto (MQTT 5: shared subscriptions), started in beforeAll, stopped in afterAll
 * after the file's own cleanups (newest first).
 */
export function receiverPeersForFile(prefix: string): { readonly db: PgCluster; readonly broker: Mosquitto; cleanups: (() => Promise<unknown>)[]; tmp: ReturnType<typeof tempDir> } {
  const tmp = tempDir(prefix);
  const cleanups: (() => Promise<unknown>)[] = [];
  let db: PgCluster | undefined;
  let broker: Mosquitto | undefined;
  beforeAll(async () => {
    db = await startPg();
    broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'broker') });
    await broker.start();
  }, 60_000);
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await broker?.stop();
    await db?.stop();
    tmp.cleanup();
  });
  const running = <T>(what: string, value: T | undefined): T => {
    if (!value) throw new Error(`the file's ${what} is not running: its beforeAll failed`);
    return value;
  };
  return {
    tmp,
    cleanups,
    get db() {
      return running('PostgreSQL', db);
    },
    get broker() {
      return running('mosquitto', broker);
    },
  };
}
