import { Pool } from 'pg';
import { storedSpecs } from '../../libs/dataset/schema';
import { AggregateSpec, ColumnType, DatasetSpec } from '../../libs/dataset/spec';
import { jsonColumns, measureValueType } from '../api/dataset-json';
import { columnType, q } from '../../libs/dataset/sql';
import { datasetGroups, rowsGroupApp } from '../../libs/dataset/topics';
import { groupId } from '../../libs/kafka/topics';
import { StatusReport } from '../status';

/** A value of a dataset's table in JSON, as the api gives it (apps/api/dataset-json.ts). */
export type DatasetValue = string | number | boolean | null;

/** An aggregate's biggest groups: by its first measure, descending; group_by columns then measures. */
export interface AggregateTop {
  name: string;
  groupBy: string[];
  measures: string[];
  top: Record<string, DatasetValue>[];
}

/** A declared dataset's progress (rows, lag over its groups, rows applied per second) and its aggregates' top groups. */
export interface DatasetSummary {
  name: string;
  rows: number | null;
  lag: string;
  /** rows applied per second by the dataset's rows consumer; null on the first snapshot */
  appliedPerSecond: number | null;
  aggregates: AggregateTop[];
}

export const TOP_GROUPS = 10;

/** Every dataset declared in the namespace (dasy_datasets), each with its aggregates' top groups. */
export async function declaredTops(pool: Pool): Promise<{ spec: DatasetSpec; aggregates: AggregateTop[] }[]> {
  const registry = (await pool.query<{ t: string | null }>(`SELECT to_regclass('dasy_datasets') AS t`)).rows[0].t;
  if (registry === null) return [];
  // one query at a time: the pool is the api's too
  const declared: { spec: DatasetSpec; aggregates: AggregateTop[] }[] = [];
  for (const spec of await storedSpecs(pool)) {
    const aggregates: AggregateTop[] = [];
    for (const a of spec.aggregates) aggregates.push(await aggregateTop(pool, spec, a));
    declared.push({ spec, aggregates });
  }
  return declared;
}

async function aggregateTop(pool: Pool, spec: DatasetSpec, aggregate: AggregateSpec): Promise<AggregateTop> {
  const summary = { name: aggregate.name, groupBy: aggregate.groupBy, measures: aggregate.measures.map((m) => m.name) };
  const present = (await pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [q(aggregate.name)])).rows[0].t !== null;
  if (!present) return { ...summary, top: [] };
  const columns = [
    ...aggregate.groupBy.map((g) => ({ name: g, type: columnType(spec, g).type })),
    ...aggregate.measures.map((m) => ({ name: m.name, type: measureValueType(spec, m) })),
  ];
  const { rows } = await pool.query<Record<string, DatasetValue>>(topGroupsSql(aggregate, columns));
  return { ...summary, top: rows };
}

/**
 * The top groups' query, each value made JSON by PostgreSQL as the api makes it (apps/api/dataset-json.ts).
 * ORDER BY names the table's columns (t.), not the output's.
 */
export function topGroupsSql(aggregate: AggregateSpec, columns: { name: string; type: ColumnType }[]): string {
  const order = [`t.${q(aggregate.measures[0].name)} DESC NULLS LAST`, ...aggregate.groupBy.map((g) => `t.${q(g)}`)];
  return `SELECT ${jsonColumns(columns, 't')} FROM ${q(aggregate.name)} AS t ORDER BY ${order.join(', ')} LIMIT ${TOP_GROUPS}`;
}

/** Each dataset's progress from the pipeline's status: rows, lag summed over its groups, and its rows consumer's rate. */
export function summarizeDatasets(
  namespace: string,
  declared: { spec: DatasetSpec; aggregates: AggregateTop[] }[],
  pipeline: StatusReport,
  appliedPerSecond: Record<string, number>,
): DatasetSummary[] {
  return declared.map(({ spec, aggregates }) => {
    const mine = new Set(datasetGroups(namespace, spec).map((g) => g.group));
    const lag = pipeline.groups.filter((g) => mine.has(g.group)).reduce((a, g) => a + BigInt(g.lag), 0n);
    return {
      name: spec.name,
      rows: pipeline.tables[spec.name] ?? null,
      lag: lag.toString(),
      appliedPerSecond: appliedPerSecond[groupId(namespace, rowsGroupApp(spec))] ?? null,
      aggregates,
    };
  });
}
