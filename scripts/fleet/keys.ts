import { createPublicKey } from 'node:crypto';
import type pg from 'pg';
import { addGatewayKey } from '../../src/receiver/keys-table.ts';

/**
 * Registers every simulated gateway's box key (SPKI PEM) with the receivers, as `coldgate
 * receiver keys add` does for one, so that they check every batch's chain and signature: a
 * run whose status says `no key` would prove nothing about the chain.
 */
export async function registerKeys(pool: pg.Pool, publicKeys: Record<string, string>): Promise<void> {
  for (const [gatewayId, pem] of Object.entries(publicKeys)) await addGatewayKey(pool, gatewayId, createPublicKey(pem));
}
