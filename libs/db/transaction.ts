import { Pool, PoolClient, QueryResult } from 'pg';

export interface TransactionOptions {
  /**
   * Statements sent in the same round trip as BEGIN (simple protocol: literal values only); their
   * results are handed to fn. The consumer base folds its offset compare-and-set in here.
   */
  withBegin?: string;
}

/**
 * Run fn in one transaction; rolls back on any error and rethrows it. The one transaction helper
 * of dasy: the consumer base's every path and each app's own transactions go through it.
 */
export async function withTransaction<T>(
  pool: Pool,
  fn: (client: PoolClient, begun: QueryResult[]) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    const begin = ['BEGIN', options.withBegin ?? ''].filter(Boolean).join('; ');
    const result = (await client.query(begin)) as QueryResult | QueryResult[];
    const value = await fn(client, Array.isArray(result) ? result : [result]);
    await client.query('COMMIT');
    return value;
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
