import { PoolClient } from 'pg';
import { DasyConfig } from '../../libs/config';
import { createPool } from '../../libs/db';
import { DatasetSpec } from '../../libs/dataset/spec';
import { canonicalText, list, q, sqlType } from '../../libs/dataset/sql';
import { rejectsTopic, rowsTopic } from '../../libs/dataset/topics';
import { messageKey } from '../../libs/dataset/wire';
import { isPostgresUnavailable } from '../../libs/errors/classify';
import { Logger } from '../../libs/log';
import { createProgress } from '../../libs/progress';
import { outageNotice, retry } from '../../libs/resilience';
import { openProductsWriter, ProductsWriter } from '../products-producer/writer';
import { keysSpec, readKeysFile } from './keys-file';

/** The session's temporary table of the file's keys. */
const FILE_KEYS = 'dasy_sync_keys';
const PAGE = 5000;

/**
 * The sync step of `ingest --sync` for a declared dataset, as apps/sync is products': every key
 * of the table that the file does not contain gets a tombstone, applied by the pipeline like any
 * delete. The file's keys are read from the file (every record whose key can be read, rejected or
 * not), into a temporary table of the session; the step waits until the pipeline has applied
 * everything, then scans the table against them through a cursor WITH HOLD: no transaction is
 * open while it waits or sends. PostgreSQL going away is waited for, and the step starts again.
 */
export async function deleteAbsentKeys(options: {
  config: DasyConfig;
  logger: Logger;
  spec: DatasetSpec;
  file: string;
  caughtUp: () => Promise<void>;
}): Promise<number> {
  const { config, spec } = options;
  const log = options.logger.namespace('sync');
  const pool = createPool({
    databaseUrl: config.databaseUrl,
    namespace: config.namespace,
    max: 1,
    applicationName: 'dasy-sync',
    idleInTransactionMs: config.pgIdleInTransactionMs,
  });
  const writer = await openProductsWriter({
    config,
    logger: log,
    clientId: 'dasy-sync',
    topics: { changelog: rowsTopic(config.namespace, spec), rejects: rejectsTopic(config.namespace, spec) },
  });
  const progress = createProgress();
  const tally = { sent: 0 };
  const attempt = async () => {
    const client = await pool.connect();
    let broken = true; // unless it ends cleanly, the session goes, and its table and cursor with it
    try {
      await loadFileKeys(client, spec, options.file);
      await options.caughtUp();
      await sendAbsent(client, spec, writer, tally, () => progress.update(`sync: ${tally.sent.toLocaleString('en-US')} keys not in the file deleted`));
      await client.query(`DROP TABLE ${FILE_KEYS}`);
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

/** The file's keys (typed as the table's), one INSERT per chunk of the file: memory stays flat. */
async function loadFileKeys(client: PoolClient, spec: DatasetSpec, file: string): Promise<void> {
  const keys = keysSpec(spec);
  const cols = keys.columns.map((c) => `${q(c.name)} ${sqlType(spec, c)} NOT NULL`);
  await client.query(`CREATE TEMP TABLE ${FILE_KEYS} (${cols.join(', ')}, PRIMARY KEY (${list(spec.key)}))`);
  let page: string[][] = [];
  const insert = async () => {
    if (!page.length) return;
    const rows = page;
    page = [];
    const arrays = keys.columns.map((_, i) => rows.map((r) => r[i]));
    const unnest = keys.columns.map((c, i) => `$${i + 1}::text[]`).join(', ');
    const typed = keys.columns.map((c, i) => `k${i}::${sqlType(spec, c).replace(' COLLATE "C"', '')}`).join(', ');
    await client.query(
      `INSERT INTO ${FILE_KEYS} (${list(spec.key)}) SELECT ${typed} FROM unnest(${unnest}) AS u(${keys.columns.map((_, i) => `k${i}`).join(', ')}) ON CONFLICT DO NOTHING`,
      arrays,
    );
  };
  // a record rejected for another column still names its key: the key-only rules read it
  await readKeysFile(spec, file, { row: (r) => page.push(r.values as string[]), reject: () => undefined }, insert);
  await insert();
  await client.query(`ANALYZE ${FILE_KEYS}`);
}

/** Tombstones for every key of the table not in the file's, a page at a time. */
async function sendAbsent(client: PoolClient, spec: DatasetSpec, writer: ProductsWriter, tally: { sent: number }, onPage: () => void): Promise<void> {
  const keys = keysSpec(spec);
  const match = spec.key.map((k) => `f.${q(k)} = t.${q(k)}`).join(' AND ');
  await client.query(
    `DECLARE dasy_absent NO SCROLL CURSOR WITH HOLD FOR SELECT ${keys.columns.map((c) => canonicalText(c, `t.${q(c.name)}`)).join(', ')} FROM ${q(spec.name)} t
      WHERE NOT EXISTS (SELECT 1 FROM ${FILE_KEYS} f WHERE ${match})`,
  );
  for (;;) {
    const { rows } = await client.query<string[]>({ text: `FETCH ${PAGE} FROM dasy_absent`, rowMode: 'array' });
    for (const r of rows) writer.put(messageKey(keys, r), null);
    tally.sent += rows.length;
    await writer.flushIfFull();
    onPage();
    if (rows.length < PAGE) break;
  }
  await writer.finish();
  await client.query('CLOSE dasy_absent');
}
