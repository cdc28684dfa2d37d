import { Pool } from 'pg';
import { withTransaction } from './transaction';

/**
 * One WAL record (a logical message: no table is touched; a logical decoding client would see
 * prefix `dasy`). Its transaction then commits waiting for the flush of its commit record, and
 * with it of everything before it in the WAL. (A transaction that writes no WAL commits without
 * waiting, whatever synchronous_commit says.)
 */
const WAL_RECORD_SQL = `SELECT pg_logical_emit_message(true, 'dasy', 'flush')`;

/**
 * Returns once every commit seen so far survives a crash of the server: the WAL is on disk up to
 * here. The pipeline's consumers commit without waiting for the flush (asyncCommit of
 * transaction.ts: a crash may lose a suffix of their commits, offsets included, which Kafka would
 * replay only once they run again), so whoever answers done for them (ingest) calls this first.
 */
export async function flushWal(pool: Pool): Promise<void> {
  // on, whatever the server's or the role's default
  await withTransaction(pool, (client) => client.query(WAL_RECORD_SQL), { withBegin: 'SET LOCAL synchronous_commit TO on' });
}
