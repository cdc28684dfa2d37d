import { PoolClient } from 'pg';
import { DasyConfig } from '../../libs/config';
import { DatasetSpec } from '../../libs/dataset/spec';
import { canonicalText, castType, list, q, sqlType } from '../../libs/dataset/sql';
import { rejectsTopic, rowsTopic } from '../../libs/dataset/topics';
import { messageKey } from '../../libs/dataset/wire';
import { Logger } from '../../libs/log';
import { deleteAbsentKeys } from '../sync';
import { keysSpec, readKeysFile } from './keys-file';

/** The session's temporary table of the file's keys. */
const FILE_KEYS = 'dasy_sync_keys';

/**
 * The sync step of `ingest --sync` for a declared dataset (apps/sync's deleteAbsentKeys, with the
 * dataset's keys): every key of the table that the file does not contain gets a tombstone. The
 * file's keys are read from the file, every record whose key can be read, rejected or not.
 */
export async function deleteAbsentDatasetKeys(options: {
  config: DasyConfig;
  logger: Logger;
  spec: DatasetSpec;
  file: string;
  caughtUp: () => Promise<void>;
}): Promise<number> {
  const { config, spec } = options;
  const keys = keysSpec(spec);
  const match = spec.key.map((k) => `f.${q(k)} = t.${q(k)}`).join(' AND ');
  return deleteAbsentKeys({
    ...options,
    topics: { changelog: rowsTopic(config.namespace, spec), rejects: rejectsTopic(config.namespace, spec) },
    loadFileKeys: (client) => loadFileKeys(client, spec, options.file),
    absentSql: `SELECT ${keys.columns.map((c) => canonicalText(c, `t.${q(c.name)}`)).join(', ')} FROM ${q(spec.name)} t WHERE NOT EXISTS (SELECT 1 FROM ${FILE_KEYS} f WHERE ${match})`,
    keyOf: (row) => messageKey(keys, row),
    dropSql: `DROP TABLE ${FILE_KEYS}`,
  });
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
    const typed = keys.columns.map((c, i) => `k${i}::${castType(c)}`).join(', ');
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
