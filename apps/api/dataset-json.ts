import { columnType, q } from '../../libs/dataset/sql';
import { ColumnType, DatasetSpec, MeasureSpec } from '../../libs/dataset/spec';

/**
 * A dataset's values as JSON, made by PostgreSQL (`to_json`) so nothing goes through a JS float
 * or Date: text a string; integer (bigint) a number when it is a safe integer (|n| ≤ 2^53 − 1),
 * else its decimal string; numeric always its exact decimal string, as stored; boolean true or
 * false; date "YYYY-MM-DD"; timestamp the UTC instant "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always six
 * digits: microseconds, PostgreSQL's precision, whatever the session's time zone). NULL is null.
 * Each text casts back to its type exactly: a cursor (dataset-cursor.ts) is made of them.
 */
const JSON_OF: Record<ColumnType, (x: string) => string> = {
  text: (x) => `to_json(${x})`,
  integer: (x) => `CASE WHEN ${x} BETWEEN -9007199254740991 AND 9007199254740991 THEN to_json(${x}) ELSE to_json(${x}::text) END`,
  numeric: (x) => `to_json(${x}::text)`,
  boolean: (x) => `to_json(${x})`,
  date: (x) => `to_json(${x})`,
  timestamp: (x) => `to_json(to_char(${x} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))`,
};

/** `expr` (of the type's SQL type) as its JSON value. */
export function jsonOf(type: ColumnType, expr: string): string {
  return JSON_OF[type](expr);
}

/** The type a measure's values are shown as: a count an integer, a sum a numeric, min and max their column's. */
export function measureValueType(spec: DatasetSpec, m: MeasureSpec): ColumnType {
  if (m.fn === 'count') return 'integer';
  if (m.fn === 'sum') return 'numeric';
  return columnType(spec, m.column!).type;
}

/** `to_json(src."a") AS "a", …`: a select list of named JSON values, `src` the row's alias. */
export function jsonColumns(fields: { name: string; type: ColumnType }[], alias: string): string {
  return fields.map((f) => `${jsonOf(f.type, `${alias}.${q(f.name)}`)} AS ${q(f.name)}`).join(', ');
}
