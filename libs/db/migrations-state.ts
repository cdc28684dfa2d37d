import { MIGRATIONS } from '../../migrations';
import { IDLE_IN_TRANSACTION_DEFAULT_MS } from '../config/settings';
import { quoteIdent } from './identifiers';
import { createPool } from './pool';

/**
 * Whether a namespace has migrations to apply, asked with one query and without loading TypeORM
 * (a quarter of a second of CPU in every process that prepares): the names in the schema's
 * bookkeeping table against the list in migrations/index.ts. True when the table is not there.
 */
export async function migrationsPending(databaseUrl: string, namespace: string, idleInTransactionMs = IDLE_IN_TRANSACTION_DEFAULT_MS): Promise<boolean> {
  const pool = createPool({ databaseUrl, max: 1, applicationName: 'dasy-migrations-check', namespace: null, idleInTransactionMs });
  try {
    const table = `${quoteIdent(namespace)}.dasy_migrations`;
    const { rows } = await pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [table]);
    if (rows[0].t === null) return true;
    const applied = new Set((await pool.query<{ name: string }>(`SELECT name FROM ${table}`)).rows.map((r) => r.name));
    return MIGRATIONS.some((M) => !applied.has(new M().name));
  } finally {
    await pool.end();
  }
}
