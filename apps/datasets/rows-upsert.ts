import { PoolClient } from 'pg';
import { BatchApp } from '../../libs/consumer';
import { BinaryCopy, copyInto } from '../../libs/db/copy';
import { DatasetSpec } from '../../libs/dataset/spec';
import { list, q, sqlType } from '../../libs/dataset/sql';
import { decodeRow, DecodedRow } from '../../libs/dataset/wire';
import { groupKeyText } from './group-key';

/** Wakes the relay of the datasets' outbox (payload: the dataset) when a batch that marked commits. */
export const DATASET_OUTBOX_CHANNEL = 'dasy_dataset_outbox';

/**
 * DatasetRowsUpsert: applies a batch of `<ns>.<dataset>` messages, rows and tombstones alike, as
 * ProductsUpsert does for products: the batch goes as binary COPY into a temporary table of text
 * columns; one statement keeps the last message of each key, upserts and deletes, and marks in
 * the outbox, per aggregate, every group whose measures may have changed (the group of a new or
 * changed row, its old group, the group of a deleted row). A row that does not change marks
 * nothing: a re-ingest writes nothing.
 */
/**
 * The batch table's own columns, beside the spec's: names no spec column can take (NAME_PATTERN
 * has no space), so that a column named ord or alive is not ambiguous.
 */
const ORD = '"dasy ord"';
const ALIVE = '"dasy alive"';
const INSERTED = '"dasy inserted"';

export function datasetRowsUpsert(spec: DatasetSpec): BatchApp<DecodedRow> {
  const batchTable = `dasy_batch_${spec.name}`;
  const prepareBatch = `CREATE TEMP TABLE IF NOT EXISTS ${q(batchTable)} (${ORD} integer NOT NULL, ${ALIVE} text, ${spec.columns
    .map((_, i) => `c${i} text`)
    .join(', ')}) ON COMMIT DELETE ROWS; TRUNCATE ${q(batchTable)}`;
  const sql = applySql(spec, batchTable);
  return {
    decode: (message) => decodeRow(spec, message),
    async apply(client: PoolClient, items: DecodedRow[]) {
      // emptied first: the item-by-item path applies several calls in one transaction
      await client.query(prepareBatch);
      await copyInto(client, batchTable, batchRows(spec, items));
      await client.query({ name: `dasy-dataset-apply-${spec.name}`, text: sql, values: [spec.name] });
    },
  };
}

/** The batch in binary COPY: offset order, each column's canonical text; a tombstone has its key only. */
export function batchRows(spec: DatasetSpec, items: DecodedRow[]): Buffer {
  const keyAt = spec.key.map((k) => spec.columns.findIndex((c) => c.name === k));
  const copy = new BinaryCopy(2 + spec.columns.length, 128 * items.length);
  items.forEach((item, ord) => {
    // alive: NULL for a tombstone
    if ('deleted' in item) {
      copy.row().int4(ord).nul();
      spec.columns.forEach((_, i) => (keyAt.includes(i) ? copy.text(item.key[keyAt.indexOf(i)]) : copy.nul()));
    } else {
      copy.row().int4(ord).text('t');
      item.values.forEach((v) => copy.text(v));
    }
  });
  return copy.finish();
}

/** The columns that tell a changed row from an unchanged one: numeric by its text (1.50 is not 1.5). */
function distinctness(spec: DatasetSpec, alias: string): string {
  return spec.columns.map((c) => (c.type === 'numeric' ? `${alias}.${q(c.name)}::text` : `${alias}.${q(c.name)}`)).join(', ');
}

/**
 * The batch's one statement. Every part of a WITH sees the table as it was before the statement:
 * `dasy_up` is the rows written (new or changed: an unchanged row is not written, not returned),
 * `dasy_old` the rows `dasy_up` updated as they were before (xmax = 0 is a row the statement
 * inserted, an updated one carries its lock: a first ingest, nearly all inserts, probes nothing),
 * `dasy_gone` the rows deleted. The parts' names start with dasy_ (and the batch table's own
 * columns hold a space), which no dataset can take: a part never hides the dataset's table.
 */
export function applySql(spec: DatasetSpec, batchTable: string): string {
  const cols = spec.columns.map((c) => c.name);
  // cast to the column's type, collation included: the key's index then serves every comparison
  const typed = spec.columns.map((c, i) => `c${i}::${sqlType(spec, c)} AS ${q(c.name)}`).join(', ');
  const keyMatch = (a: string, b: string) => spec.key.map((k) => `${a}.${q(k)} = ${b}.${q(k)}`).join(' AND ');
  const nonKey = cols.filter((c) => !spec.key.includes(c));
  const onConflict = nonKey.length
    ? `DO UPDATE SET ${nonKey.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')} WHERE (${distinctness(spec, 't')}) IS DISTINCT FROM (${distinctness(spec, 'excluded')})`
    : 'DO NOTHING';
  // what a mark needs of a row: its key (to find its old row) and every group-by column
  const touched = [...new Set([...spec.key, ...spec.aggregates.flatMap((a) => a.groupBy)])];
  // kept as they come: the relay sends each group once per drain (SELECT DISTINCT)
  const marks = spec.aggregates.map((a) => `SELECT $1::text, ${lit(a.name)}, array_agg(${groupKeyText(spec, a, 'x')}) FROM dasy_touched x HAVING count(*) > 0`);
  const mark = marks.length
    ? `INSERT INTO dasy_dataset_outbox (dataset, aggregate, keys)\n  ${marks.join('\n  UNION ALL ')}\n  RETURNING 1`
    : 'SELECT 1 WHERE false';
  return `
WITH dasy_latest AS (
  SELECT DISTINCT ON (${list(spec.key)}) * FROM (SELECT ${ORD}, ${ALIVE}, ${typed} FROM ${q(batchTable)}) b ORDER BY ${list(spec.key)}, ${ORD} DESC
), dasy_up AS (
  INSERT INTO ${q(spec.name)} AS t (${list(cols)}) SELECT ${list(cols)} FROM dasy_latest WHERE ${ALIVE} IS NOT NULL
  ON CONFLICT (${list(spec.key)}) ${onConflict}
  RETURNING ${list(touched, 't.')}, t.xmax = 0 AS ${INSERTED}
), dasy_old AS (
  SELECT ${list(touched, 'o.')} FROM dasy_up u JOIN ${q(spec.name)} o ON ${keyMatch('o', 'u')} WHERE NOT u.${INSERTED}
), dasy_gone AS (
  DELETE FROM ${q(spec.name)} t USING dasy_latest l WHERE l.${ALIVE} IS NULL AND ${keyMatch('t', 'l')}
  RETURNING ${list(touched, 't.')}
), dasy_touched AS (
  SELECT ${list(touched)} FROM dasy_up
  UNION ALL SELECT ${list(touched)} FROM dasy_old
  UNION ALL SELECT ${list(touched)} FROM dasy_gone
), dasy_marked AS (
  ${mark}
)
SELECT CASE WHEN EXISTS (SELECT 1 FROM dasy_marked) THEN pg_notify('${DATASET_OUTBOX_CHANNEL}', $1) END AS notified`;
}

/** A string literal of a name (NAME_PATTERN: letters, digits and _ only). */
function lit(name: string): string {
  return `'${name.replace(/'/g, "''")}'`;
}
