import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { asDbError } from './pool';

const MIGRATIONS_TABLE = 'dasy_migrations';

function dataSource(databaseUrl: string): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    logging: false,
  });
}

async function withDataSource<T>(databaseUrl: string, fn: (ds: DataSource) => Promise<T>): Promise<T> {
  const ds = dataSource(databaseUrl);
  try {
    await ds.initialize();
  } catch (err) {
    throw asDbError(err); // a refused or lost connection is worth waiting for; a refused login is not
  }
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

/** Apply every pending migration; returns the names applied (none when up to date). */
export async function runMigrations(databaseUrl: string): Promise<string[]> {
  return withDataSource(databaseUrl, async (ds) => {
    // Two processes starting together must not both apply the same migration.
    await ds.query(`SELECT pg_advisory_lock(hashtext('dasy_migrations'))`);
    try {
      const done = await ds.runMigrations({ transaction: 'each' });
      return done.map((m) => m.name);
    } finally {
      await ds.query(`SELECT pg_advisory_unlock(hashtext('dasy_migrations'))`);
    }
  });
}

/** Revert every applied migration, newest first, then drop the bookkeeping table. */
export async function revertMigrations(databaseUrl: string): Promise<string[]> {
  return withDataSource(databaseUrl, async (ds) => {
    const reverted: string[] = [];
    const exists: { t: string | null }[] = await ds.query(`SELECT to_regclass($1) AS t`, [MIGRATIONS_TABLE]);
    if (exists[0].t) {
      for (;;) {
        const rows: { name: string }[] = await ds.query(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY timestamp DESC LIMIT 1`);
        if (!rows.length) break;
        await ds.undoLastMigration({ transaction: 'each' });
        reverted.push(rows[0].name);
      }
      await ds.query(`DROP TABLE IF EXISTS ${MIGRATIONS_TABLE}`);
    }
    return reverted;
  });
}
