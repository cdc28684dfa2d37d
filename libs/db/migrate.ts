import 'reflect-metadata';
import { DataSource, QueryRunner } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { IDLE_IN_TRANSACTION_DEFAULT_MS } from '../config/settings';
import { withSchema } from './identifiers';
import { asDbError } from './pool';
import { adoptLegacyTables, createSchema, dropSchemaIfEmpty } from './schema';

const MIGRATIONS_TABLE = 'dasy_migrations';

/**
 * A namespace's migrations run in its schema: its tables and TypeORM's bookkeeping table land there.
 * Its pool bounds idle transactions as every dasy pool does (createPool's idleInTransactionMs).
 */
function dataSource(databaseUrl: string, namespace: string, idleInTransactionMs: number): DataSource {
  return new DataSource({
    type: 'postgres',
    url: withSchema(databaseUrl, namespace),
    extra: { idle_in_transaction_session_timeout: idleInTransactionMs },
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    logging: false,
  });
}

async function withDataSource<T>(databaseUrl: string, namespace: string, idleInTransactionMs: number, fn: (ds: DataSource) => Promise<T>): Promise<T> {
  const ds = dataSource(databaseUrl, namespace, idleInTransactionMs);
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

/** Two processes starting together must not both create a schema or apply the same migration. */
async function withMigrationsLock<T>(ds: DataSource, fn: (lockHolder: QueryRunner) => Promise<T>): Promise<T> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock(hashtext('dasy_migrations'))`);
    try {
      return await fn(runner);
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(hashtext('dasy_migrations'))`);
    }
  } finally {
    await runner.release();
  }
}

/**
 * Create the namespace's schema (moving an older install's tables into it, see
 * adoptLegacyTables) and apply every pending migration in it; returns the names applied.
 */
export async function runMigrations(databaseUrl: string, namespace: string, idleInTransactionMs = IDLE_IN_TRANSACTION_DEFAULT_MS): Promise<string[]> {
  return withDataSource(databaseUrl, namespace, idleInTransactionMs, (ds) =>
    withMigrationsLock(ds, async (runner) => {
      await runner.startTransaction();
      try {
        await createSchema(runner, namespace);
        await adoptLegacyTables(runner, namespace);
        await runner.commitTransaction();
      } catch (err) {
        await runner.rollbackTransaction();
        throw err;
      }
      const done = await ds.runMigrations({ transaction: 'each' });
      return done.map((m) => m.name);
    }),
  );
}

/** Revert every applied migration of the namespace, newest first, then drop the bookkeeping table and the schema (if nothing else is in it). */
export async function revertMigrations(databaseUrl: string, namespace: string, idleInTransactionMs = IDLE_IN_TRANSACTION_DEFAULT_MS): Promise<string[]> {
  return withDataSource(databaseUrl, namespace, idleInTransactionMs, (ds) =>
    withMigrationsLock(ds, async (runner) => {
      const reverted: string[] = [];
      const exists = (await runner.query(`SELECT to_regclass($1) AS t`, [MIGRATIONS_TABLE])) as { t: string | null }[];
      if (exists[0].t) {
        for (;;) {
          const rows = (await runner.query(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY timestamp DESC LIMIT 1`)) as { name: string }[];
          if (!rows.length) break;
          await ds.undoLastMigration({ transaction: 'each' });
          reverted.push(rows[0].name);
        }
        await runner.query(`DROP TABLE IF EXISTS ${MIGRATIONS_TABLE}`);
      }
      await dropSchemaIfEmpty(runner, namespace);
      return reverted;
    }),
  );
}
