import { Pool } from 'pg';
import { aggregateTopic } from '../../libs/dataset/topics';
import { DatasetSpec } from '../../libs/dataset/spec';
import { Outbox } from '../../libs/outbox/outbox';
import { DATASET_OUTBOX_CHANNEL } from './rows-upsert';

/** A dataset's groups waiting to be recounted: its rows of dasy_dataset_outbox, routed by aggregate. */
export function datasetOutbox(namespace: string, spec: DatasetSpec): Outbox {
  const topics = new Map(spec.aggregates.map((a) => [a.name, aggregateTopic(namespace, spec, a)]));
  // the marks of the aggregates this spec has (names: NAME_PATTERN): a relay started with an older
  // spec leaves an aggregate added since to a relay that knows it, rather than failing on its marks
  const known = `aggregate = ANY (ARRAY[${spec.aggregates.map((a) => `'${a.name}'`).join(', ')}]::text[])`;
  return {
    name: `${spec.name}-relay`,
    channel: DATASET_OUTBOX_CHANNEL,
    scope: spec.name,
    newestSql: `SELECT id FROM dasy_dataset_outbox WHERE dataset = $1 AND ${known} ORDER BY id DESC LIMIT 1`,
    takeSql: `SELECT coalesce(array_agg(id), '{}') AS ids FROM dasy_dataset_outbox WHERE dataset = $1 AND ${known}`,
    cursorSql: `SELECT DISTINCT unnest(keys) AS key, aggregate AS route FROM dasy_dataset_outbox WHERE dataset = $1 AND ${known}`,
    deleteSql: 'DELETE FROM dasy_dataset_outbox WHERE dataset = $1 AND id = ANY($2::bigint[])',
    topics: [...topics.values()],
    topicOf(route) {
      const topic = route === null ? undefined : topics.get(route);
      // the cursor reads only the marks of known aggregates
      if (!topic) throw new Error(`dataset ${spec.name}: outbox mark for unknown aggregate ${String(route)}`);
      return topic;
    },
  };
}

/** Whether the dataset has marks waiting (a probe of the (dataset, id) key). */
export async function marksWaiting(pool: Pool, spec: DatasetSpec): Promise<boolean> {
  const { rows } = await pool.query('SELECT 1 FROM dasy_dataset_outbox WHERE dataset = $1 LIMIT 1', [spec.name]);
  return rows.length > 0;
}

/** Group keys waiting in the dataset's outbox (a key marked by several batches counts each time). */
export async function waitingMarks(pool: Pool, spec: DatasetSpec): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT coalesce(sum(cardinality(keys)), 0) AS n FROM dasy_dataset_outbox WHERE dataset = $1', [spec.name]);
  return Number(rows[0].n);
}
