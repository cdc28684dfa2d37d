import { PoolClient } from 'pg';
import { DasyConfig } from '../../libs/config';
import { createPool } from '../../libs/db';
import { isPostgresUnavailable } from '../../libs/errors/classify';
import { Logger } from '../../libs/log';
import { createProgress } from '../../libs/progress';
import { outageNotice, retry } from '../../libs/resilience';
import { openProductsWriter, ProductsWriter } from '../products-producer/writer';
import { loadFileSkus } from './file-skus';

/**
 * The sync step of `ingest --sync`: the file is the whole catalogue, so every sku of `products`
 * that the file does not contain gets a tombstone on `<ns>.products`, and is deleted by the
 * pipeline like any other delete (the topic stays the changelog: a rebuild gives the same).
 *
 * Which skus the file contains is read from the file itself, never from the tables: a sku the file
 * names is never deleted, whatever another writer did to its row meanwhile (a row matching the
 * file's record, or a row this ingest wrote, would be fooled by a concurrent update). Rejected
 * records count too when their sku can be read (a record with an empty name still names its sku):
 * a typo elsewhere in a record must not delete the product.
 *
 * Memory stays flat: the file's skus go into a temporary table (in pages, one INSERT per chunk of
 * the file), and `products` is scanned against it on the server (an anti-join through a cursor,
 * a page of skus at a time, each page sent before the next is fetched).
 *
 * Order: the file's skus are loaded, then the step waits until the pipeline has applied
 * everything in the topics (the file's records and whatever came before them), and only then
 * scans: the tombstones follow, in the topic, every record that was in it when the scan began.
 * No transaction is open while it waits, nor while it sends (DESIGN.md §6: a transaction held
 * across a wait on the pipeline or a call to Kafka holds back VACUUM for the whole database): the
 * skus go into a temporary table of the session, and the scan is a cursor WITH HOLD, computed by
 * the server when its one-statement transaction ends and read a page at a time afterwards.
 * PostgreSQL going away meanwhile is waited for: the tombstones already decided are sent, and the
 * step starts again (once those are applied they are no longer in `products`: none is sent twice).
 */
export async function deleteAbsentSkus(options: { config: DasyConfig; logger: Logger; file: string; caughtUp: () => Promise<void> }): Promise<number> {
  return deleteAbsentKeys({
    ...options,
    loadFileKeys: (client) => loadFileSkus(client, options.file, FILE_SKUS, { readable: true, session: true }),
    absentSql: `SELECT p.sku FROM products p WHERE NOT EXISTS (SELECT 1 FROM ${FILE_SKUS} f WHERE f.sku = p.sku)`,
    keyOf: (row) => row[0],
    dropSql: `DROP TABLE ${FILE_SKUS}`,
  });
}

/**
 * The sync step for any changelog (products', a declared dataset's: apps/datasets/sync.ts), as
 * above: the file's keys into a temporary table of the session (`loadFileKeys`), the wait for the
 * pipeline, then a tombstone for every row `absentSql` finds (its columns as text, `keyOf` makes
 * the message key), through a cursor WITH HOLD; an outage of PostgreSQL starts it again.
 */
export async function deleteAbsentKeys(options: {
  config: DasyConfig;
  logger: Logger;
  caughtUp: () => Promise<void>;
  /** a declared dataset's topics (products' unless said) */
  topics?: { changelog: string; rejects: string };
  loadFileKeys(client: PoolClient): Promise<void>;
  absentSql: string;
  keyOf(row: string[]): string;
  dropSql: string;
}): Promise<number> {
  const { config, logger } = options;
  const log = logger.namespace('sync');
  const pool = createPool({
    databaseUrl: config.databaseUrl,
    namespace: config.namespace,
    max: 1,
    applicationName: 'dasy-sync',
    idleInTransactionMs: config.pgIdleInTransactionMs,
  });
  const writer = await openProductsWriter({ config, logger: log, clientId: 'dasy-sync', topics: options.topics });
  const progress = createProgress();
  const tally = { sent: 0 };
  const attempt = async () => {
    // one session for the attempt: its temporary table and its cursor are the session's
    const client = await pool.connect();
    let broken = true; // unless it ends cleanly, the session goes, and its table and cursor with it
    try {
      await options.loadFileKeys(client);
      await options.caughtUp();
      await sendAbsent(client, options, writer, tally, () => progress.update(`sync: ${tally.sent.toLocaleString('en-US')} keys not in the file deleted`));
      await client.query(options.dropSql);
      broken = false;
      return tally.sent;
    } catch (err) {
      if (isPostgresUnavailable(err)) await writer.finish(); // what was decided before the outage still goes out
      throw err;
    } finally {
      client.release(broken);
    }
  };
  try {
    return await retry(attempt, { isRetriable: isPostgresUnavailable, notice: outageNotice(log, 'PostgreSQL') });
  } finally {
    progress.done();
    await writer.finish().catch(() => undefined);
    await writer.close();
    await pool.end().catch(() => undefined);
  }
}

/** The session's temporary table of the file's skus. */
const FILE_SKUS = 'dasy_sync_skus';

const PAGE = 5000;

/** Tombstones for every row absentSql finds, a page at a time. */
async function sendAbsent(
  client: PoolClient,
  options: { absentSql: string; keyOf(row: string[]): string },
  writer: ProductsWriter,
  tally: { sent: number },
  onPage: () => void,
): Promise<void> {
  // WITH HOLD, outside a transaction block: the anti-join runs in the statement's own transaction,
  // and its rows are kept by the server for the pages that follow, read with no transaction open
  await client.query(`DECLARE dasy_absent NO SCROLL CURSOR WITH HOLD FOR ${options.absentSql}`);
  for (;;) {
    const { rows } = await client.query<string[]>({ text: `FETCH ${PAGE} FROM dasy_absent`, rowMode: 'array' });
    for (const r of rows) writer.put(options.keyOf(r), null);
    tally.sent += rows.length;
    await writer.flushIfFull();
    onPage();
    if (rows.length < PAGE) break;
  }
  await writer.finish();
  await client.query('CLOSE dasy_absent');
}
