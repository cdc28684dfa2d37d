import { AggregateSpec, ColumnSpec, DatasetSpec, MeasureSpec, SpecError } from './spec';

/** What a changed spec adds to the dataset as it is stored: the only changes dasy makes by itself. */
export interface SpecChanges {
  columns: ColumnSpec[];
  aggregates: AggregateSpec[];
}

/**
 * Compare a spec with the one applied before (dasy_datasets): new optional columns and new
 * aggregates are added (an aggregate filled from the table); anything else would need the rows or
 * the topic rewritten, and is refused with one line saying what to do.
 */
export function specChanges(stored: DatasetSpec, wanted: DatasetSpec, source: string): SpecChanges {
  const refuse = (what: string): never => {
    throw new SpecError(
      `${source}: ${what}; dasy adds new optional columns and new aggregates only: restore the spec as it was, or declare a dataset of another name (make reset drops this one)`,
    );
  };
  if (JSON.stringify(stored.key) !== JSON.stringify(wanted.key)) refuse(`key changed from (${stored.key.join(', ')}) to (${wanted.key.join(', ')})`);
  for (const old of stored.columns) {
    const now = wanted.columns.find((c) => c.name === old.name);
    if (!now) refuse(`column ${old.name} was removed`);
    if (now!.type !== old.type || now!.optional !== old.optional) refuse(`column ${old.name} changed from ${typeName(old)} to ${typeName(now!)}`);
  }
  const columns = wanted.columns.filter((c) => !stored.columns.some((old) => old.name === c.name));
  for (const c of columns)
    if (!c.optional)
      refuse(`new column ${c.name} is required (${c.type}); a new column must be optional (${c.type}?), as the rows already stored have no value for it`);
  for (const old of stored.aggregates) {
    const now = wanted.aggregates.find((a) => a.name === old.name);
    if (!now) refuse(`aggregate ${old.name} was removed`);
    if (!sameAggregate(now!, old)) refuse(`aggregate ${old.name} changed`);
  }
  const aggregates = wanted.aggregates.filter((a) => !stored.aggregates.some((old) => old.name === a.name));
  return { columns, aggregates };
}

/**
 * Field by field: the stored spec comes back from jsonb, which orders an object's keys its own way
 * (a JSON text of it never equals the parsed spec's).
 */
function sameAggregate(a: AggregateSpec, b: AggregateSpec): boolean {
  const measure = (m: MeasureSpec) => [m.name, m.fn, m.column ?? null];
  return (
    a.name === b.name &&
    JSON.stringify(a.groupBy) === JSON.stringify(b.groupBy) &&
    JSON.stringify(a.measures.map(measure)) === JSON.stringify(b.measures.map(measure))
  );
}

function typeName(c: ColumnSpec): string {
  return c.type + (c.optional ? '?' : '');
}
