import { Pool } from 'pg';
import { sqlState } from '../../libs/errors/classify';
import { storedSpec, storedSpecs } from '../../libs/dataset/schema';
import { AggregateSpec, ColumnType, DatasetSpec, isProducts, PRODUCTS_SPEC } from '../../libs/dataset/spec';
import { columnType, list, measureType, q, sqlType } from '../../libs/dataset/sql';
import { cursorValue, encodeCursor } from './dataset-cursor';
import { jsonColumns, measureValueType } from './dataset-json';
import { AggregateRead, GroupOrder, notFound, RowsPage, urlName } from './dataset-request';
import { ApiError } from './validate';

/**
 * The dataset api's reads (datasets.ts), on the read pool. Each row is made JSON by PostgreSQL
 * (dataset-json.ts) and read in one statement; pages are keyset pages in an index's order (the
 * primary key of the dataset's or the aggregate's table), but an aggregate ordered by a measure,
 * which sorts its table (an aggregate has a row per group: modest). Values from the request are
 * parameters cast to their column's type by PostgreSQL: one that does not parse (SQLSTATE class
 * 22) is a 400 naming its field.
 */

export type JsonRow = Record<string, unknown>;

/** A dataset's spec: the built-in products, or the one applied to the namespace (dasy_datasets, read per request: a new dataset shows at once). */
export async function datasetSpec(pool: Pool, name: string): Promise<DatasetSpec> {
  if (urlName(name, 'name') === PRODUCTS_SPEC.name) return PRODUCTS_SPEC;
  const spec = await storedSpec(pool, name);
  if (!spec) throw notFound('name', name);
  return spec;
}

export interface DatasetSummary {
  name: string;
  key: string[];
  columns: { name: string; type: ColumnType; optional: boolean }[];
  rows: number;
  aggregates: { name: string; group_by: string[]; measures: { name: string; fn: string; column?: string }[]; groups: number }[];
}

/** Every dataset, products first, then the registry's by name, with exact counts of their tables' rows. */
export async function listDatasets(pool: Pool): Promise<{ datasets: DatasetSummary[] }> {
  const specs = [PRODUCTS_SPEC, ...(await storedSpecs(pool)).filter((s) => !isProducts(s))];
  return { datasets: await Promise.all(specs.map((s) => summary(pool, s))) };
}

async function summary(pool: Pool, spec: DatasetSpec): Promise<DatasetSummary> {
  const groups = spec.aggregates.map((a) => `(SELECT count(*) FROM ${q(a.name)})`);
  const { rows } = await pool.query<{ rows: string; groups: string[] }>(
    `SELECT (SELECT count(*) FROM ${q(spec.name)}) AS rows, ARRAY[${groups.join(', ')}]::bigint[] AS groups`,
  );
  return {
    name: spec.name,
    key: spec.key,
    columns: spec.columns.map((c) => ({ name: c.name, type: c.type, optional: c.optional })),
    rows: Number(rows[0].rows),
    aggregates: spec.aggregates.map((a, i) => ({
      name: a.name,
      group_by: a.groupBy,
      measures: a.measures.map((m) => (m.column === undefined ? { name: m.name, fn: m.fn } : { name: m.name, fn: m.fn, column: m.column })),
      groups: Number(rows[0].groups[i]),
    })),
  };
}

/** What a statement reads: its table, its JSON fields, its sort key (with their SQL types). */
export interface Source {
  table: string;
  fields: { name: string; type: ColumnType }[];
  key: { name: string; cast: string }[];
}

export const rowSource = (spec: DatasetSpec): Source => ({
  table: spec.name,
  fields: spec.columns.map((c) => ({ name: c.name, type: c.type })),
  key: spec.key.map((k) => ({ name: k, cast: sqlType(spec, columnType(spec, k)) })),
});

export const groupSource = (spec: DatasetSpec, a: AggregateSpec): Source => ({
  table: a.name,
  fields: [
    ...a.groupBy.map((g) => ({ name: g, type: columnType(spec, g).type })),
    ...a.measures.map((m) => ({ name: m.name, type: measureValueType(spec, m) })),
  ],
  key: a.groupBy.map((g) => ({ name: g, cast: sqlType(spec, columnType(spec, g)) })),
});

/** `SELECT row_to_json(out) … FROM <table> AS src`: the row's JSON, its columns still `src."c"` for WHERE and ORDER BY. */
const selectJson = (s: Source) => `SELECT row_to_json(out) AS row FROM ${q(s.table)} AS src CROSS JOIN LATERAL (SELECT ${jsonColumns(s.fields, 'src')}) AS out`;

/** `src."a", src."b"`; `(src."a", src."b")` and `($1::t, $2::u)` from parameter `first` on. */
const keyList = (s: Source) =>
  list(
    s.key.map((k) => k.name),
    'src.',
  );
const keyColumns = (s: Source) => `(${keyList(s)})`;
const keyParams = (s: Source, first: number) => `(${s.key.map((k, i) => `$${first + i}::${k.cast}`).join(', ')})`;

const byKeySql = (s: Source) => `${selectJson(s)} WHERE ${keyColumns(s)} = ${keyParams(s, 1)}`;

/** The dataset's row of this key, or undefined. */
export async function rowByKey(pool: Pool, spec: DatasetSpec, key: string[]): Promise<JsonRow | undefined> {
  return byKey(pool, rowSource(spec), key);
}

/** The aggregate's row of this group, or undefined. */
export async function groupByKey(pool: Pool, spec: DatasetSpec, a: AggregateSpec, group: string[]): Promise<JsonRow | undefined> {
  return byKey(pool, groupSource(spec, a), group);
}

async function byKey(pool: Pool, s: Source, values: string[]): Promise<JsonRow | undefined> {
  const rows = await typedQuery(pool, byKeySql(s), values, (err) => badValueField(pool, err, s, values));
  return rows[0];
}

export interface Page {
  rows: JsonRow[];
  next: string | null;
}

/** A keyset page in the key's order: `(key) > (after)`, the primary key's index read in order. */
export function keyPageSql(s: Source, after: boolean): string {
  const where = after ? ` WHERE ${keyColumns(s)} > ${keyParams(s, 2)}` : '';
  return `${selectJson(s)}${where} ORDER BY ${keyList(s)} LIMIT $1`;
}

export async function rowsPage(pool: Pool, spec: DatasetSpec, page: RowsPage): Promise<Page> {
  return keyPage(pool, rowSource(spec), page.limit, page.after);
}

async function keyPage(pool: Pool, s: Source, limit: number, after: (string | null)[] | null): Promise<Page> {
  const rows = await typedQuery(pool, keyPageSql(s, after !== null), [limit + 1, ...(after ?? [])], badCursor);
  return pageOf(rows, limit, (last) => s.key.map((k) => cursorValue(last[k.name])));
}

/**
 * Groups ordered by a measure, NULLs last (ascending or descending), ties by the group key
 * ascending. After a cursor (measure value m, group key g): while m is not NULL, the rows past m
 * in the order, those equal to m with a greater group key, and every NULL; once m is NULL, the
 * NULLs with a greater group key.
 */
export function measurePageSql(s: Source, measure: { name: string; cast: string }, order: GroupOrder, after: 'none' | 'value' | 'null'): string {
  const m = `src.${q(measure.name)}`;
  let where = '';
  if (after === 'value') {
    const v = `$2::${measure.cast}`;
    where = ` WHERE (${m} ${order.descending ? '<' : '>'} ${v} OR (${m} = ${v} AND ${keyColumns(s)} > ${keyParams(s, 3)}) OR ${m} IS NULL)`;
  } else if (after === 'null') {
    where = ` WHERE ${m} IS NULL AND ${keyColumns(s)} > ${keyParams(s, 2)}`;
  }
  return `${selectJson(s)}${where} ORDER BY ${m} ${order.descending ? 'DESC' : 'ASC'} NULLS LAST, ${keyList(s)} LIMIT $1`;
}

export async function groupsPage(pool: Pool, spec: DatasetSpec, a: AggregateSpec, read: Extract<AggregateRead, { kind: 'page' }>): Promise<Page> {
  const s = groupSource(spec, a);
  if (!read.order) return keyPage(pool, s, read.limit, read.after);
  const order = read.order;
  const measure = a.measures.find((m) => m.name === order.measure)!;
  const cast = measureType(spec, measure);
  const after = read.after === null ? 'none' : read.after[0] === null ? 'null' : 'value';
  const params = after === 'none' ? [] : after === 'null' ? read.after!.slice(1) : read.after!;
  const sql = measurePageSql(s, { name: measure.name, cast }, order, after);
  const rows = await typedQuery(pool, sql, [read.limit + 1, ...params], badCursor);
  return pageOf(rows, read.limit, (last) => [cursorValue(last[measure.name]), ...s.key.map((k) => cursorValue(last[k.name]))]);
}

/** One row more than asked tells whether another page follows; its cursor is the last row's sort values. */
function pageOf(rows: JsonRow[], limit: number, sortValues: (last: JsonRow) => (string | null)[]): Page {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { rows: page, next: more ? encodeCursor(sortValues(page[page.length - 1])) : null };
}

/** Run a statement of typed parameters; a value PostgreSQL refuses for its type (SQLSTATE class 22) is `refused(err)`. */
async function typedQuery(pool: Pool, sql: string, params: unknown[], refused: (err: unknown) => Promise<never> | never): Promise<JsonRow[]> {
  try {
    const { rows } = await pool.query<{ row: JsonRow }>(sql, params);
    return rows.map((r) => r.row);
  } catch (err) {
    if (sqlState(err)?.startsWith('22')) await refused(err);
    throw err;
  }
}

const badCursor = (): never => {
  throw new ApiError(400, 'invalid_value', 'after holds a value its column does not take; use the "next" of a page', 'after');
};

/** Which value did not parse: each cast alone, the first refused named (the statement's error cannot say which). */
async function badValueField(pool: Pool, err: unknown, s: Source, values: string[]): Promise<never> {
  for (let i = 0; i < s.key.length; i++) {
    const { name, cast } = s.key[i];
    if (await refusedCast(pool, cast, values[i])) throw new ApiError(400, 'invalid_value', `${name} is not a value of its type (${cast.split(' ')[0]})`, name);
  }
  throw err;
}

async function refusedCast(pool: Pool, cast: string, value: string): Promise<boolean> {
  try {
    await pool.query(`SELECT $1::${cast}`, [value]);
    return false;
  } catch (err) {
    if (sqlState(err)?.startsWith('22')) return true;
    throw err;
  }
}
