import { DasyConfig } from '../../libs/config';
import { checkSkusHeader } from '../../libs/csv/reader';
import { createPool, withTransaction } from '../../libs/db';
import { isPostgresUnavailable } from '../../libs/errors/classify';
import { Logger } from '../../libs/log';
import { outageNotice, retry } from '../../libs/resilience';
import { runPipeline } from '../pipeline';
import { produceTombstones } from '../products-producer/tombstones';
import { loadFileSkus } from '../sync/file-skus';

export interface DeleteSummary {
  file: string;
  records: number;
  /** records with a sku: one tombstone each */
  accepted: number;
  rejected: number;
  /** skus of the file that were in `products` (the others' tombstones delete nothing) */
  deleted: number;
  products: number;
  names: number;
  seconds: number;
}

/**
 * `make delete`: the whole pipeline, as `make ingest` runs it, sending one tombstone per sku of
 * the file; exits once `products` and `product_count` reflect them. Before sending, it waits until
 * the pipeline has applied what came before, and counts the file's skus that are in `products`:
 * those are the ones its tombstones delete.
 */
export async function deleteSkus(options: {
  config: DasyConfig;
  logger: Logger;
  file: string;
  rejectsFile?: string;
  consumers: number;
}): Promise<DeleteSummary> {
  const { config, logger, file } = options;
  await checkSkusHeader(file);
  const run = await runPipeline({
    config,
    logger,
    consumers: options.consumers,
    work: async ({ caughtUp }) => {
      await caughtUp();
      const present = await countPresent(config, logger, file);
      const produced = await produceTombstones({ config, logger, file, rejectsFile: options.rejectsFile });
      return { produced, present };
    },
  });
  const { produced, present } = run.result;
  return {
    file,
    records: produced.records,
    accepted: produced.accepted,
    rejected: produced.rejected,
    deleted: present,
    products: run.products,
    names: run.names,
    seconds: run.seconds,
  };
}

/** How many distinct skus of the file (its accepted records) are in `products` now. */
async function countPresent(config: DasyConfig, logger: Logger, file: string): Promise<number> {
  const pool = createPool({
    databaseUrl: config.databaseUrl,
    namespace: config.namespace,
    max: 1,
    applicationName: 'dasy-delete',
    idleInTransactionMs: config.pgIdleInTransactionMs,
  });
  try {
    return await retry(
      () =>
        withTransaction(pool, async (client) => {
          await loadFileSkus(client, file, 'dasy_delete_skus');
          const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM dasy_delete_skus JOIN products USING (sku)');
          return Number(rows[0].n);
        }),
      { isRetriable: isPostgresUnavailable, notice: outageNotice(logger.namespace('delete'), 'PostgreSQL') },
    );
  } finally {
    await pool.end().catch(() => undefined);
  }
}
