import { DasyConfig } from '../../libs/config';
import { createPool } from '../../libs/db';
import { errorMessage } from '../../libs/errors';
import { isPostgresUnavailable } from '../../libs/errors/classify';
import { Logger } from '../../libs/log';
import { retry } from '../../libs/resilience/backoff';

const ADD_FILE_COUNTS = `INSERT INTO dasy_csv_files AS f (namespace, file, records, rejected, last_at) VALUES ($1, $2, $3, $4, now())
    ON CONFLICT (namespace, file) DO UPDATE SET records = f.records + excluded.records, rejected = f.rejected + excluded.rejected, last_at = excluded.last_at`;

/**
 * Add a file's counts to dasy_csv_files once it is done (the metrics' records and rejected
 * records per file). Monitoring only: a PostgreSQL that does not answer within half a minute
 * costs the counts of this file, said once, never the ingest.
 */
export async function recordFileCounts(config: DasyConfig, logger: Logger, file: string, counts: { records: number; rejected: number }): Promise<void> {
  const pool = createPool({
    databaseUrl: config.databaseUrl,
    namespace: config.namespace,
    max: 1,
    applicationName: 'dasy-products-producer',
    idleInTransactionMs: config.pgIdleInTransactionMs,
  });
  try {
    await retry(() => pool.query(ADD_FILE_COUNTS, [config.namespace, file, counts.records, counts.rejected]), {
      isRetriable: isPostgresUnavailable,
      timeoutMs: 30_000,
      what: 'PostgreSQL did not answer',
    });
  } catch (err) {
    logger.warn(`the counts of ${file} are not in the metrics: ${errorMessage(err)}`);
  } finally {
    await pool.end().catch(() => undefined);
  }
}
