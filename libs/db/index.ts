import { Pool, PoolClient, DatabaseError } from 'pg';
import { databaseName, withDatabase } from '../config';
import { DasyError, UnavailableError } from '../errors';

export type { Pool, PoolClient };

export function createPool(options: { databaseUrl: string; max?: number; applicationName?: string }): Pool {
  const pool = new Pool({
    connectionString: options.databaseUrl,
    max: options.max ?? 4,
    application_name: options.applicationName ?? 'dasy',
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  });
  // An idle client losing its server (PostgreSQL restart) must not crash the process; the next
  // query gets a fresh connection and the caller's retry handles it.
  pool.on('error', () => undefined);
  // A client checked out of the pool has no error listener (pg-pool removes its own): a server
  // going away mid-transaction would be an unhandled 'error' event, a crash. Its query fails
  // with the error anyway, which the caller retries; the dead client is not reused.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/**
 * Run fn in one transaction; rolls back on any error and rethrows it.
 * `asyncCommit`: do not wait for the WAL flush at commit. Safe where the transaction also stores
 * the consumed offsets: a server crash then loses a suffix of commits *with* their offsets, and
 * those messages are consumed again.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, options: { asyncCommit?: boolean } = {}): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(options.asyncCommit ? 'BEGIN; SET LOCAL synchronous_commit TO off' : 'BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true; // the connection is gone; do not return it to the pool
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

const RETRIABLE_CODES = new Set(['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '53300', '53400', '08000', '08003', '08006', '08001', '08004']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/**
 * Whether retrying the same transaction can succeed: lost connections, server restarts,
 * serialization failures, deadlocks. Data errors (22xxx, 23xxx) are not.
 */
export function isRetriableDbError(err: unknown): boolean {
  if (err instanceof DasyError) return err.retriable;
  const e = err as { code?: string; message?: string };
  if (e && typeof e.code === 'string') {
    if (RETRIABLE_CODES.has(e.code) || NETWORK_CODES.has(e.code)) return true;
    if (e.code.startsWith('08')) return true;
  }
  const msg = String(e?.message ?? '');
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection|the database system is (starting up|shutting down)|Connection ended/i.test(
    msg,
  );
}

/** Data errors: the payload can never be stored (bad byte sequence, value out of range...). */
export function isDataError(err: unknown): boolean {
  return err instanceof DatabaseError && typeof err.code === 'string' && (err.code.startsWith('22') || err.code.startsWith('23'));
}

/** Create the configured database if it does not exist (for `make up` and the test harness). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const name = databaseName(databaseUrl);
  const admin = new Pool({ connectionString: withDatabase(databaseUrl, 'postgres'), max: 1, connectionTimeoutMillis: 5000 });
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

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = databaseName(databaseUrl);
  const admin = new Pool({ connectionString: withDatabase(databaseUrl, 'postgres'), max: 1 });
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
