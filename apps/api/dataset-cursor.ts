import { ApiError } from './validate';

/**
 * The `after` cursor of a dataset's pages: the last row's sort values (its key, or a measure then
 * the group key) as the text PostgreSQL casts back to the column's type exactly, as a JSON array,
 * in base64url. Opaque to clients; a cursor that is not one of ours is a 400 naming `after`.
 */
export type CursorValue = string | null;

/** Longer than any cursor a URL can carry (node bounds a request's headers to 16 KiB). */
export const CURSOR_MAX_CHARS = 32768;

export function encodeCursor(values: readonly CursorValue[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

const badCursor = (why: string) => new ApiError(400, 'invalid_value', `after is not a cursor of this listing (${why}); use the "next" of a page`, 'after');

/**
 * A cursor's values: exactly `length` of them, each a string, or null at the positions in
 * `nullable` (a measure, which may be NULL), none holding what PostgreSQL text cannot (NUL).
 */
export function decodeCursor(cursor: string, length: number, nullable: ReadonlySet<number> = NO_NULLS): CursorValue[] {
  if (cursor.length > CURSOR_MAX_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor('not base64url');
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor('not JSON');
  }
  if (!Array.isArray(values) || values.length !== length) throw badCursor(`not a list of ${length} values`);
  return values.map((v: unknown, i) => {
    if (v === null && nullable.has(i)) return null;
    if (typeof v !== 'string') throw badCursor(`value ${i + 1} is not a string`);
    if (v.includes('\u0000') || /\p{Cs}/u.test(v)) throw badCursor(`value ${i + 1} holds NUL or an unpaired surrogate`);
    return v;
  });
}

const NO_NULLS: ReadonlySet<number> = new Set();

/** A JSON value of a row (json.ts) back to the text its column casts from: strings as they are, numbers and booleans as written. */
export function cursorValue(v: unknown): CursorValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`not a sort value: ${JSON.stringify(v)}`);
}
