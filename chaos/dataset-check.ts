import { Pool } from 'pg';
import { q } from '../libs/dataset/sql';
import type { AggregateSpec, ColumnType, DatasetSpec, MeasureSpec } from '../libs/dataset/spec';
import { aggregateRows, ExpectedRows } from './dataset-expect';

/**
 * The `dataset` scenario's checks in PostgreSQL: the table against the expectation, each
 * aggregate against a GROUP BY of the table and against the expectation's groups. Expected values
 * go in as text and are cast to the column's type, so that numerics compare by value and
 * timestamps by instant; every other difference (a row missing, one too many, NULL against a
 * value) counts. Each comparison gives its number of differences and the first few.
 */

/** Casts of the expected texts; the table's own types are not read from dasy's SQL. */
const CAST: Record<ColumnType, string> = { text: 'text', integer: 'bigint', numeric: 'numeric', boolean: 'boolean', date: 'date', timestamp: 'timestamptz' };

export interface Difference {
  /** what was compared */
  what: string;
  /** rows that differ */
  count: number;
  /** the first of them: the table's row and the one expected, as JSON */
  first: string[];
}

const FIRST = 3;

/** The rows in the table and in `other` (a query with the same columns) that differ, joined on `on`. */
async function differences(pool: Pool, what: string, sql: string, params: unknown[]): Promise<Difference> {
  const { rows } = await pool.query<{ n: string; got: string | null; want: string | null }>(sql, params);
  return { what, count: rows.length ? Number(rows[0].n) : 0, first: rows.map((r) => `table ${r.got ?? 'none'}, expected ${r.want ?? 'none'}`) };
}

/** A FULL JOIN of `a` and `b` on the columns `on`, keeping the rows where either is missing or a column of `compare` differs. */
function fullJoinSql(a: string, b: string, on: string[], compare: string[]): string {
  const joined = on.map((c) => `a.${q(c)} = b.${q(c)}`).join(' AND ');
  const differs = [`a.${q(on[0])} IS NULL`, `b.${q(on[0])} IS NULL`, ...compare.map((c) => `a.${q(c)} IS DISTINCT FROM b.${q(c)}`)].join(' OR ');
  return `SELECT count(*) OVER () AS n, row_to_json(a)::text AS got, row_to_json(b)::text AS want
    FROM ${a} a FULL JOIN ${b} b ON ${joined} WHERE ${differs} LIMIT ${FIRST}`;
}

/** `unnest($1::text[], ...)` as a relation of the columns, each cast to its type. */
function expectedRelation(columns: { name: string; cast: string }[]): string {
  const unnest = columns.map((_, i) => `$${i + 1}::text[]`).join(', ');
  const cols = columns.map((_, i) => `c${i}`).join(', ');
  const casts = columns.map((c, i) => `c${i}::${c.cast} AS ${q(c.name)}`).join(', ');
  return `(SELECT ${casts} FROM unnest(${unnest}) AS e(${cols}))`;
}

/** The table's rows against the expectation's. */
export async function compareRows(pool: Pool, spec: DatasetSpec, expected: ExpectedRows): Promise<Difference> {
  const rows = [...expected.values()];
  const params = spec.columns.map((_, i) => rows.map((r) => r[i]));
  const relation = expectedRelation(spec.columns.map((c) => ({ name: c.name, cast: CAST[c.type] })));
  const others = spec.columns.map((c) => c.name).filter((c) => !spec.key.includes(c));
  return differences(pool, `table ${spec.name}`, fullJoinSql(q(spec.name), relation, spec.key, others), params);
}

function measureSql(m: MeasureSpec): string {
  return m.fn === 'count' ? 'count(*)' : `${m.fn}(${q(m.column!)})`;
}

/** The aggregate's table against a GROUP BY of the dataset's table, computed here. */
export async function compareWithGroupBy(pool: Pool, spec: DatasetSpec, aggregate: AggregateSpec): Promise<Difference> {
  const groups = aggregate.groupBy.map((g) => q(g)).join(', ');
  const measures = aggregate.measures.map((m) => `${measureSql(m)} AS ${q(m.name)}`).join(', ');
  const grouped = `(SELECT ${groups}, ${measures} FROM ${q(spec.name)} GROUP BY ${groups})`;
  const sql = fullJoinSql(
    q(aggregate.name),
    grouped,
    aggregate.groupBy,
    aggregate.measures.map((m) => m.name),
  );
  return differences(pool, `${aggregate.name} against GROUP BY of ${spec.name}`, sql, []);
}

/** The aggregate's table against the expectation's groups (aggregateRows). */
export async function compareWithExpected(pool: Pool, spec: DatasetSpec, aggregate: AggregateSpec, expected: ExpectedRows): Promise<Difference> {
  const typeOf = (name: string) => spec.columns.find((c) => c.name === name)!.type;
  const cast = (m: MeasureSpec) => (m.fn === 'count' ? 'bigint' : m.fn === 'sum' ? 'numeric' : CAST[typeOf(m.column!)]);
  const columns = [...aggregate.groupBy.map((g) => ({ name: g, cast: CAST[typeOf(g)] })), ...aggregate.measures.map((m) => ({ name: m.name, cast: cast(m) }))];
  const groups = [...aggregateRows(spec, aggregate, expected).values()];
  const params = [...aggregate.groupBy.map((_, i) => groups.map((g) => g.group[i])), ...aggregate.measures.map((_, i) => groups.map((g) => g.measures[i]))];
  const sql = fullJoinSql(
    q(aggregate.name),
    expectedRelation(columns),
    aggregate.groupBy,
    aggregate.measures.map((m) => m.name),
  );
  return differences(pool, `${aggregate.name} against the expectation (${groups.length} groups)`, sql, params);
}

/** Marks of the dataset waiting in dasy_dataset_outbox. */
export async function outboxMarks(pool: Pool, spec: DatasetSpec): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM dasy_dataset_outbox WHERE dataset = $1', [spec.name]);
  return Number(rows[0].n);
}

/** Rows in a table. */
export async function rowCount(pool: Pool, table: string): Promise<number> {
  return Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${q(table)}`)).rows[0].n);
}
