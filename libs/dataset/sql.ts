import { quoteIdent } from '../db/identifiers';
import { AggregateSpec, ColumnSpec, ColumnType, DatasetSpec, MeasureSpec } from './spec';

/**
 * The SQL fragments every dataset statement is made of. A name reaches SQL only through `q`
 * (quoted), after the spec's NAME_PATTERN (spec.ts): no spec or CSV header can inject SQL.
 */
export const q = quoteIdent;

const SQL_TYPES: Record<ColumnType, string> = {
  text: 'text',
  integer: 'bigint',
  numeric: 'numeric',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamptz',
};

/** A key or group-by text column sorts by its bytes: cheaper comparisons, and any order would do. */
function isKeyed(spec: DatasetSpec, column: ColumnSpec): boolean {
  return spec.key.includes(column.name) || spec.aggregates.some((a) => a.groupBy.includes(column.name));
}

/** The column's SQL type, with COLLATE "C" for a text key or group-by column. */
export function sqlType(spec: DatasetSpec, column: ColumnSpec): string {
  return column.type === 'text' && isKeyed(spec, column) ? 'text COLLATE "C"' : castType(column);
}

/** The column's SQL type as a cast names it (`x::bigint`): no collation. */
export function castType(column: ColumnSpec): string {
  return SQL_TYPES[column.type];
}

export function columnType(spec: DatasetSpec, name: string): ColumnSpec {
  const c = spec.columns.find((col) => col.name === name);
  if (!c) throw new Error(`dataset ${spec.name} has no column ${name}`);
  return c;
}

/**
 * A key or group_by column's value as its canonical text (values.ts), whatever the session's
 * settings: a date through to_char (`::text` follows DateStyle: `05/01/2024` under 'SQL, DMY');
 * integer, boolean and text have one text each. `expr`: the column, qualified.
 */
export function canonicalText(column: ColumnSpec, expr: string): string {
  return column.type === 'date' ? `to_char(${expr}, 'YYYY-MM-DD')` : `${expr}::text`;
}

/** The SQL type a measure is kept in: count a bigint, sum a numeric, min and max their column's. */
export function measureType(spec: DatasetSpec, m: MeasureSpec): string {
  if (m.fn === 'count') return 'bigint';
  if (m.fn === 'sum') return 'numeric';
  return sqlType(spec, columnType(spec, m.column!));
}

/** The aggregate function over the dataset's rows (`alias`: the table's alias in the query). */
export function measureExpression(m: MeasureSpec, alias?: string): string {
  if (m.fn === 'count') return 'count(*)';
  return `${m.fn}(${alias ? `${alias}.` : ''}${q(m.column!)})`;
}

/** `"a", "b"` (with a prefix: `t."a", t."b"`). */
export function list(names: string[], prefix = ''): string {
  return names.map((n) => prefix + q(n)).join(', ');
}

export function createTableSql(spec: DatasetSpec): string {
  const cols = spec.columns.map((c) => `${q(c.name)} ${sqlType(spec, c)}${c.optional ? '' : ' NOT NULL'}`);
  return `CREATE TABLE ${q(spec.name)} (${cols.join(', ')}, PRIMARY KEY (${list(spec.key)}))`;
}

/** The index a recount probes: the dataset's rows of one group. */
export function groupIndexName(aggregate: AggregateSpec): string {
  return `${aggregate.name}_group_idx`;
}

export function createGroupIndexSql(spec: DatasetSpec, aggregate: AggregateSpec): string {
  return `CREATE INDEX ${q(groupIndexName(aggregate))} ON ${q(spec.name)} (${list(aggregate.groupBy)})`;
}

export function createAggregateTableSql(spec: DatasetSpec, aggregate: AggregateSpec): string {
  const groups = aggregate.groupBy.map((g) => `${q(g)} ${sqlType(spec, columnType(spec, g))} NOT NULL`);
  // a count is never NULL; sum, min and max of a group whose values are all NULL are
  const measures = aggregate.measures.map((m) => `${q(m.name)} ${measureType(spec, m)}${m.fn === 'count' ? ' NOT NULL' : ''}`);
  return `CREATE TABLE ${q(aggregate.name)} (${[...groups, ...measures].join(', ')}, PRIMARY KEY (${list(aggregate.groupBy)}))`;
}

/** An aggregate's table filled from the dataset's rows (a new aggregate of an existing dataset). */
export function fillAggregateSql(spec: DatasetSpec, aggregate: AggregateSpec): string {
  const measures = aggregate.measures.map((m) => measureExpression(m));
  return `INSERT INTO ${q(aggregate.name)} (${list(aggregate.groupBy)}, ${list(aggregate.measures.map((m) => m.name))})
    SELECT ${list(aggregate.groupBy)}, ${measures.join(', ')} FROM ${q(spec.name)} GROUP BY ${list(aggregate.groupBy)}`;
}

export function addColumnSql(spec: DatasetSpec, column: ColumnSpec): string {
  return `ALTER TABLE ${q(spec.name)} ADD COLUMN ${q(column.name)} ${sqlType(spec, column)}`;
}
