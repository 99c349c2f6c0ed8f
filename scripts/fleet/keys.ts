import { createPublicKey } from 'node:crypto';
import type pg from 'pg';
import { fingerprintOf } from '../../src/chain/keys.ts';

/**
 * Registers every simulated gateway's box key with the receivers (what `coldgate receiver keys
 * add` does for one), so that they check every batch's chain and signature: a run whose
 * status says `no key` would prove nothing about the chain.
 */
export async function registerKeys(pool: pg.Pool, publicKeys: Record<string, string>): Promise<void> {
  const entries = Object.entries(publicKeys);
  await pool.query(
    `INSERT INTO gateway_keys (gateway_id, public_key, fingerprint) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
     ON CONFLICT (gateway_id) DO UPDATE SET public_key = excluded.public_key, fingerprint = excluded.fingerprint`,
    [entries.map(([id]) => id), entries.map(([, pem]) => pem), entries.map(([, pem]) => fingerprintOf(createPublicKey(pem)))],
  );
}
