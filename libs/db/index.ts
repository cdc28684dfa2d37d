import { databaseName, IDLE_IN_TRANSACTION_DEFAULT_MS, withDatabase } from '../config';
import { UnavailableError } from '../errors';
import { quoteIdent } from './identifiers';
import { createPool } from './pool';

export { asDbError, createPool } from './pool';
export type { PoolOptions } from './pool';
export { quoteIdent, withSchema } from './identifiers';
export type { Pool, PoolClient } from './pool';
export { withTransaction } from './transaction';
export type { TransactionOptions } from './transaction';

/**
 * Create the configured database if it does not exist (for `make up` and the test harness).
 * `idleInTransactionMs`: config.pgIdleInTransactionMs (createPool's option; these pools run single
 * statements, outside any transaction, so the default does where there is no configuration).
 */
export async function ensureDatabase(databaseUrl: string, idleInTransactionMs = IDLE_IN_TRANSACTION_DEFAULT_MS): Promise<boolean> {
  const name = databaseName(databaseUrl);
  const admin = createPool({ databaseUrl: withDatabase(databaseUrl, 'postgres'), namespace: null, max: 1, applicationName: 'dasy-admin', idleInTransactionMs });
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (err) {
      if ((err as { code?: string }).code !== '42P04') throw err; // created concurrently
      return false;
    }
    return true;
  } catch (err) {
    throw new UnavailableError(`cannot reach PostgreSQL to create database ${name}: ${(err as Error).message}`, err);
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(databaseUrl: string, idleInTransactionMs = IDLE_IN_TRANSACTION_DEFAULT_MS): Promise<void> {
  const name = databaseName(databaseUrl);
  const admin = createPool({ databaseUrl: withDatabase(databaseUrl, 'postgres'), namespace: null, max: 1, applicationName: 'dasy-admin', idleInTransactionMs });
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
