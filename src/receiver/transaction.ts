import type pg from 'pg';

/**
 * Runs `work` in one transaction on a pooled connection. A checked-out pg client emits 'error'
 * when the server goes away between two queries (a crash, a restart); without a listener that
 * is an uncaught exception, so one is attached for as long as the client is out, and a client
 * that failed is destroyed rather than returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (err: Error) => (lost = err);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const out = await work(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    lost ??= err as Error;
    throw err;
  } finally {
    client.off('error', onError);
    client.release(lost);
  }
}
