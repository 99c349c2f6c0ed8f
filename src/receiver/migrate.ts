import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/** sql/NNN_name.sql, applied in NNN order; a migration is never edited once released, only added. */
const SQL_DIR = fileURLToPath(new URL('./sql/', import.meta.url));

/** Any constant: receivers of every version agree on it, so two that start together take turns. */
const MIGRATION_LOCK = 0x636f6c64; // 'cold'

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function migrations(dir = SQL_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f, sql: readFileSync(`${dir}${f}`, 'utf8') }));
}

/**
 * Brings the schema up to date in one transaction under an advisory lock: a second receiver
 * starting at the same time waits, then finds the versions applied and does nothing. Returns the
 * names applied now.
 */
export async function migrate(pool: pg.Pool, dir = SQL_DIR): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const applied: string[] = [];
    for (const m of migrations(dir)) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.name);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
