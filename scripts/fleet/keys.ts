import type pg from 'pg';
import { ensureBoxKey, keysDir } from '../../src/chain/keys.ts';
import { addGatewayKey } from '../../src/receiver/keys-table.ts';
import type { SimGatewaySpec } from './protocol.ts';

/**
 * Makes each simulated gateway's box key in its data folder (where the gateway finds it, as a box
 * made by `coldgate keys init`) and registers it with the receivers, as `coldgate receiver keys
 * add` does for one, so that they check every batch's chain and signature: a run whose status
 * says `no key` would prove nothing about the chain.
 */
export async function registerKeys(pool: pg.Pool, gateways: readonly SimGatewaySpec[]): Promise<void> {
  for (const g of gateways) await addGatewayKey(pool, g.gatewayId, ensureBoxKey(keysDir(g.dataDir)).key.publicKey);
}
