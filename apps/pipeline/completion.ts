import { Pool } from '../../libs/db';
import { Logger } from '../../libs/log';
import { outageNotice } from '../../libs/resilience';
import { CaughtUp, retryPostgres } from './progress';

/** The time of each phase of a pipeline run, in seconds since its start. */
export type PhaseTimings = {
  consumersReady: number;
  produced: number;
  productsApplied: number;
  outboxEmpty: number;
  countsApplied: number;
};

export function phaseTimings(started: number, at: { consumersReady: number; produced: number; caughtUp: CaughtUp }): PhaseTimings {
  const since = (t: number) => (t - started) / 1000;
  return {
    consumersReady: since(at.consumersReady),
    produced: since(at.produced),
    productsApplied: since(at.caughtUp.productsAt),
    outboxEmpty: since(at.caughtUp.outboxAt),
    countsApplied: since(at.caughtUp.countsAt),
  };
}

/**
 * Once every products row is in: VACUUM sets the visibility map of the new pages, so the recounts
 * that follow read only the index on products(name) (index-only scans), not a heap page per
 * product: a third of their cost at 500,000 rows, more once the table outgrows shared_buffers;
 * ANALYZE gives the planner the new table's statistics (without them a batch's recount took a
 * third longer). Only when there is something to recount (a re-ingest that changed nothing has
 * nothing to gain from it). It runs while the relay starts draining (it needs no lock the pipeline
 * waits for); one that cannot run (not the table's owner) is no harm.
 */
export async function vacuumProducts(pool: Pool, namespace: string, logger: Logger): Promise<void> {
  try {
    const { rows } = await pool.query<{ marked: boolean }>('SELECT EXISTS (SELECT 1 FROM product_count_outbox WHERE namespace = $1) AS marked', [namespace]);
    if (rows[0].marked) await pool.query('VACUUM (ANALYZE) products');
  } catch (err) {
    logger.debug('VACUUM (ANALYZE) products failed', { err: String(err) });
  }
}

/** The rows of `products` and `product_count` at the end of a run (through a PostgreSQL restart: the run's last read). */
export async function countTables(pool: Pool, logger: Logger): Promise<{ products: number; names: number }> {
  const { rows } = await retryPostgres(
    () => pool.query<{ p: string; n: string }>('SELECT (SELECT count(*) FROM products) AS p, (SELECT count(*) FROM product_count) AS n'),
    outageNotice(logger, 'PostgreSQL'),
  );
  return { products: Number(rows[0].p), names: Number(rows[0].n) };
}
