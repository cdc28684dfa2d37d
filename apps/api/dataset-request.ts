import { AggregateSpec, DatasetSpec, NAME_PATTERN } from '../../libs/dataset/spec';
import { catalogText } from './catalog-request';
import { CursorValue, decodeCursor } from './dataset-cursor';
import { ApiError } from './validate';

/**
 * The dataset api's request checks, as pure functions: what to read, or an ApiError naming the
 * offending field (400 `{"error":{"code","message","field"}}`, 404 for what does not exist).
 */

export const DATASET_PAGE_DEFAULT = 100;
export const DATASET_PAGE_MAX = 1000;

type Query = Record<string, unknown>;

const bad = (field: string, code: string, message: string) => new ApiError(400, code, message, field);

/** A dataset or aggregate name of the URL: one dasy could have made (spec.ts NAME_PATTERN), checked before any SQL; else none such (404). */
export function urlName(value: string, field: 'name' | 'aggregate'): string {
  if (!NAME_PATTERN.test(value)) throw notFound(field, value);
  return value;
}

export function notFound(field: 'name' | 'aggregate', value: string): ApiError {
  return new ApiError(404, 'not_found', `no ${field === 'name' ? 'dataset' : 'aggregate'} named ${JSON.stringify(value)}`, field);
}

export function aggregateOf(spec: DatasetSpec, name: string): AggregateSpec {
  const aggregate = spec.aggregates.find((a) => a.name === urlName(name, 'aggregate'));
  if (!aggregate) throw new ApiError(404, 'not_found', `dataset ${spec.name} has no aggregate named ${JSON.stringify(name)}`, 'aggregate');
  return aggregate;
}

/**
 * A key or group value as given (once, non-empty after trim, within the key limit): trimmed, as
 * the ingest stores keys. Its type is PostgreSQL's to check (cast in the statement).
 */
const keyValue = (value: unknown, column: string) => catalogText(value, column, { trim: true });

/** `/rows/:key`: the value of a dataset's one key column; a composite key is read with `/row?<col>=…`. */
export function singleKey(spec: DatasetSpec, value: string): string[] {
  if (spec.key.length !== 1)
    throw bad(
      'key',
      'composite_key',
      `dataset ${spec.name} has a composite key (${spec.key.join(', ')}): read a row with /api/datasets/${spec.name}/row?${spec.key.map((k) => `${k}=…`).join('&')}`,
    );
  return [keyValue(value, spec.key[0])];
}

/** `/row?<col>=…`: every key column's value, in key order. */
export function keyFromQuery(spec: DatasetSpec, query: unknown): string[] {
  const q = (query ?? {}) as Query;
  return spec.key.map((k) => keyValue(q[k], k));
}

export interface RowsPage {
  limit: number;
  /** the last key of the previous page; null from the first */
  after: CursorValue[] | null;
}

/** `/rows?after=&limit=`: pages in key order. */
export function rowsPage(spec: DatasetSpec, query: unknown): RowsPage {
  const q = (query ?? {}) as Query;
  return { limit: pageLimit(q.limit), after: cursorOf(q.after, spec.key.length, false) };
}

export interface GroupOrder {
  measure: string;
  descending: boolean;
}

export type AggregateRead =
  | { kind: 'group'; values: string[] }
  /** `order` null: by the group key; `after`: the previous page's last (measure when ordered, then group key) */
  | { kind: 'page'; order: GroupOrder | null; limit: number; after: CursorValue[] | null };

/**
 * `/aggregates/:aggregate?…`: every group_by column given, that group; none, a page of groups,
 * by the group key or by a measure (`order=m` ascending, `-m` descending; NULLs last).
 */
export function aggregateRead(aggregate: AggregateSpec, query: unknown): AggregateRead {
  const q = (query ?? {}) as Query;
  const given = aggregate.groupBy.filter((g) => q[g] !== undefined);
  if (given.length === aggregate.groupBy.length) return { kind: 'group', values: aggregate.groupBy.map((g) => keyValue(q[g], g)) };
  if (given.length) {
    const missing = aggregate.groupBy.find((g) => q[g] === undefined)!;
    throw bad(missing, 'missing', `${missing} is required with ${given.join(', ')}: give every group_by column (${aggregate.groupBy.join(', ')}) or none`);
  }
  const order = groupOrder(aggregate, q.order);
  const length = aggregate.groupBy.length + (order ? 1 : 0);
  return { kind: 'page', order, limit: pageLimit(q.limit), after: cursorOf(q.after, length, order !== null) };
}

function groupOrder(aggregate: AggregateSpec, value: unknown): GroupOrder | null {
  if (value === undefined || value === '') return null;
  const names = aggregate.measures.map((m) => m.name);
  const known = `a measure of ${aggregate.name} (${names.join(', ')}), with a leading - for descending`;
  if (typeof value !== 'string') throw bad('order', 'invalid_type', 'order must be given once');
  const descending = value.startsWith('-');
  const measure = descending ? value.slice(1) : value;
  if (!names.includes(measure)) throw bad('order', 'invalid_value', `order must be ${known}`);
  return { measure, descending };
}

function cursorOf(value: unknown, length: number, measureFirst: boolean): CursorValue[] | null {
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string') throw bad('after', 'invalid_type', 'after must be given once');
  return decodeCursor(value, length, measureFirst ? MEASURE_NULLABLE : undefined);
}

/** A measure (first in an ordered cursor) may be NULL: sum, min and max of a group of NULLs. */
const MEASURE_NULLABLE: ReadonlySet<number> = new Set([0]);

export function pageLimit(value: unknown): number {
  if (value === undefined || value === '') return DATASET_PAGE_DEFAULT;
  if (typeof value !== 'string') throw bad('limit', 'invalid_type', 'limit must be given once');
  if (!/^\d{1,9}$/.test(value)) throw bad('limit', 'invalid_value', `limit must be a whole number from 1 to ${DATASET_PAGE_MAX}`);
  const n = Number(value);
  if (n < 1 || n > DATASET_PAGE_MAX) throw bad('limit', 'out_of_range', `limit must be from 1 to ${DATASET_PAGE_MAX}`);
  return n;
}
