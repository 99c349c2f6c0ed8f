import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Mosquitto } from './mosquitto.ts';
import { freePort } from './net.ts';
import { hasPeer } from './peers.ts';
import { tempDir } from './tmp.ts';

/**
 * One mosquitto for a whole test file, started in its beforeAll (when mosquitto is there: see
 * hasPeer), a temp folder, and cleanups that its afterAll runs newest first.
 */
export function mosquittoForFile(prefix: string): { tmp: ReturnType<typeof tempDir>; cleanups: (() => Promise<unknown>)[]; have: boolean; readonly broker: Mosquitto } {
  const tmp = tempDir(prefix);
  const cleanups: (() => Promise<unknown>)[] = [];
  const have = hasPeer('mosquitto');
  let broker: Mosquitto | undefined;
  beforeAll(async () => {
    if (!have) return;
    const started = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'broker') });
    await started.start();
    broker = started;
    cleanups.push(() => started.stop());
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    tmp.cleanup();
  });
  return {
    tmp,
    cleanups,
    have,
    get broker() {
      if (!broker) throw new Error('the file broker is not running: its beforeAll failed or mosquitto is missing');
      return broker;
    },
  };
}
