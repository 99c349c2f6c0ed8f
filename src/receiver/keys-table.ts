import type { KeyObject } from 'node:crypto';
import type pg from 'pg';
import { fingerprintOf } from '../chain/keys.ts';

/** gateway_keys: the public key the receiver checks a gateway's signatures with (one per gateway; adding replaces). */
export async function addGatewayKey(pool: pg.Pool, gatewayId: string, key: KeyObject): Promise<{ fingerprint: string; replaced: boolean }> {
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 public key (${key.asymmetricKeyType}): coldgate keys show on the box prints the right one`);
  const fingerprint = fingerprintOf(key);
  const pem = key.export({ format: 'pem', type: 'spki' }).toString();
  const res = await pool.query<{ replaced: boolean }>(
    `INSERT INTO gateway_keys (gateway_id, public_key, fingerprint) VALUES ($1, $2, $3)
     ON CONFLICT (gateway_id) DO UPDATE SET public_key = EXCLUDED.public_key, fingerprint = EXCLUDED.fingerprint, added_at = now()
     RETURNING (xmax <> 0) AS replaced`,
    [gatewayId, pem, fingerprint],
  );
  return { fingerprint, replaced: res.rows[0]!.replaced };
}

export async function listGatewayKeys(pool: pg.Pool): Promise<{ gatewayId: string; fingerprint: string; addedAt: string }[]> {
  const res = await pool.query<{ gateway_id: string; fingerprint: string; added_at: Date }>('SELECT gateway_id, fingerprint, added_at FROM gateway_keys ORDER BY gateway_id');
  return res.rows.map((r) => ({ gatewayId: r.gateway_id, fingerprint: r.fingerprint, addedAt: r.added_at.toISOString() }));
}
