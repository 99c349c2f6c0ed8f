import type pg from 'pg';

/**
 * A pool on `url`. The client is loaded here, on first use, not imported: the gateway and the
 * receiver are one bundle (dist/coldgate.mjs), and a static import would load pg into every box's
 * service process (its RSS) though only `coldgate receive` and `receiver ...` use it.
 */
export async function openPool(url: string, max: number): Promise<pg.Pool> {
  const { default: client } = await import('pg');
  return new client.Pool({ connectionString: url, max });
}
