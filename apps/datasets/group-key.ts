import { AggregateSpec, DatasetSpec } from '../../libs/dataset/spec';
import { canonicalText, columnType, q, castType } from '../../libs/dataset/sql';

/**
 * A group's key as the text of its message on `<ns>.<dataset>.<aggregate>` (and of its mark in
 * the outbox): one group-by column, its value as text; several, a JSON array of them. Group-by
 * columns are of types whose text is one per value (text, integer, date, boolean: spec.ts), so
 * a group always has one key, and so one partition and one writer; a date's is written
 * YYYY-MM-DD whatever the session's DateStyle (sql.ts canonicalText).
 */
export function groupKeyText(spec: DatasetSpec, aggregate: AggregateSpec, alias: string): string {
  const text = (g: string) => canonicalText(columnType(spec, g), `${alias}.${q(g)}`);
  if (aggregate.groupBy.length === 1) return text(aggregate.groupBy[0]);
  return `json_build_array(${aggregate.groupBy.map(text).join(', ')})::text`;
}

/** The group-by columns, typed, from a key text (`k`: the expression of the text). */
export function groupColumnsOfKey(spec: DatasetSpec, aggregate: AggregateSpec, k: string): string {
  const cast = (g: string) => castType(columnType(spec, g));
  if (aggregate.groupBy.length === 1) return `${k}::${cast(aggregate.groupBy[0])} AS ${q(aggregate.groupBy[0])}`;
  return aggregate.groupBy.map((g, i) => `(${k}::json->>${i})::${cast(g)} AS ${q(g)}`).join(', ');
}
