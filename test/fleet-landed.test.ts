import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/receiver/migrate.ts';
import { declareNotHeld, writeBatches } from '../src/receiver/store.ts';
import { decodeBatch } from '../src/uplink/decode.ts';
import { judge } from '../scripts/fleet/completeness.ts';
import { readLanded } from '../scripts/fleet/landed.ts';
import { BoxPlayer } from './helpers/box-player.ts';
import { startPg, type PgCluster } from './helpers/postgres.ts';

let db: PgCluster;
let pool: pg.Pool;

beforeAll(async () => {
  db = await startPg();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await migrate(pool);
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await db?.stop();
});

/** What fleet-sim reads back from the receiver's database (scripts/fleet/landed.ts), against the real schema. */
describe('fleet-sim reads the database as it is (scripts/fleet/landed.ts)', () => {
  it('sees a row stored twice, a seq that never came, a not-held range, and the status holes', async () => {
    const box = new BoxPlayer('van-landed');
    const readings = box.readings(10);
    const door = box.event();
    // 1-4 and 7-10 and the event (11) arrive; 5-6 do not, and the box says it no longer holds 5.
    await writeBatches(pool, [decodeBatch(box.payload(readings.slice(0, 4))), decodeBatch(box.payload(readings.slice(6))), decodeBatch(box.payload([door]))]);
    await declareNotHeld(pool, box.gatewayId, box.incarnation, [[5, 5]]);
    // A second copy of seq 3 that bypassed the receiver's ledger (the only journal here; copied whole, whatever the table's columns).
    await pool.query('INSERT INTO readings SELECT * FROM readings WHERE seq = 3');

    const landed = await readLanded(pool);
    const entry = landed.get(`${box.gatewayId}/${box.incarnation}`)!;
    expect(entry.present).toEqual([[1, 4], [7, 11]]);
    expect(entry.duplicates).toEqual([3]);
    expect(entry.gaps).toEqual([{ fromSeq: 5, toSeq: 5, reason: 'not-held' }]);
    expect(entry.holes).toEqual([[6, 6]]);
    expect(entry.contiguousThrough).toBe(5);

    const verdict = judge([{ gatewayId: box.gatewayId, incarnation: box.incarnation, lastSeq: 12 }], landed);
    expect(verdict.pass).toBe(false);
    expect(verdict.gateways[0]!.missing).toEqual([[6, 6], [12, 12]]);
    expect(verdict.coveredByGap).toEqual({ 'not-held': 1 });
  });
});
