import { KEY_MAX_BYTES, keyTooLong } from '../../libs/db/key-limit';
import { ApiError } from './validate';

/**
 * The catalogue api's request checks, as pure functions: normalized values, or an ApiError naming
 * the offending field (400, `{"error":{"code","message","field"}}`).
 */

export const PAGE_LIMIT_DEFAULT = 100;
export const PAGE_LIMIT_MAX = 500;

const bad = (field: string, code: string, message: string) => new ApiError(400, code, message, field);

/**
 * A text parameter: given once, a string, a key (sku, name) or a part of one (a prefix, a cursor):
 * at most KEY_MAX_BYTES in UTF-8 (libs/db/key-limit.ts), as stored keys are, nothing PostgreSQL
 * text cannot hold (NUL) or UTF-8 cannot carry (a lone surrogate). Trimmed when `trim` (skus and
 * names are stored trimmed); a prefix or a cursor is taken exactly as given.
 */
export function catalogText(value: unknown, field: string, options: { trim: boolean }): string {
  if (value === undefined || value === null) throw bad(field, 'missing', `${field} is required`);
  if (Array.isArray(value)) throw bad(field, 'invalid_type', `${field} must be given once`);
  if (typeof value !== 'string') throw bad(field, 'invalid_type', `${field} must be a string`);
  const s = options.trim ? value.trim() : value;
  if (!s) throw bad(field, 'empty', `${field} must not be empty`);
  if (s.includes('\u0000') || /\p{Cs}/u.test(s)) throw bad(field, 'invalid_value', `${field} must not contain NUL or unpaired surrogate characters`);
  if (keyTooLong(s)) throw bad(field, 'too_long', `${field} must be at most ${KEY_MAX_BYTES} bytes in UTF-8`);
  return s;
}

export type ProductsFilter = { filter: 'name'; value: string } | { filter: 'q'; value: string };

export interface ProductsPage {
  filter: ProductsFilter;
  limit: number;
  /** the sku after which the page starts ('' from the first: every sku is longer) */
  after: string;
}

type Query = Record<string, unknown>;

/** `GET /api/catalog/products`: exactly one of `name` (products of that name) and `q` (skus starting with it), then `limit` and `after`. */
export function validateProductsPage(query: unknown): ProductsPage {
  const q = (query ?? {}) as Query;
  const given = (['name', 'q'] as const).filter((k) => q[k] !== undefined);
  if (given.length === 0) throw bad('name', 'missing', 'give exactly one filter: name (products of that name) or q (skus starting with it)');
  if (given.length > 1) throw bad('q', 'ambiguous', 'give exactly one filter, not name and q');
  const filter: ProductsFilter =
    given[0] === 'name'
      ? { filter: 'name', value: catalogText(q.name, 'name', { trim: true }) }
      : { filter: 'q', value: catalogText(q.q, 'q', { trim: false }) };
  const after = q.after === undefined || q.after === '' ? '' : catalogText(q.after, 'after', { trim: false });
  return { filter, limit: pageLimit(q.limit), after };
}

function pageLimit(value: unknown): number {
  if (value === undefined || value === '') return PAGE_LIMIT_DEFAULT;
  if (Array.isArray(value)) throw bad('limit', 'invalid_type', 'limit must be given once');
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) throw bad('limit', 'invalid_value', `limit must be a whole number from 1 to ${PAGE_LIMIT_MAX}`);
  const n = Number(value);
  if (n < 1 || n > PAGE_LIMIT_MAX) throw bad('limit', 'out_of_range', `limit must be from 1 to ${PAGE_LIMIT_MAX}`);
  return n;
}

const MAX_CODE_POINT = 0x10ffff;

/**
 * The smallest string above every string that starts with `prefix`, in code point order (the "C"
 * collation of products.sku): the prefix without its trailing U+10FFFF characters, its last
 * character then replaced by the next code point (skipping the surrogates, which UTF-8 cannot
 * hold). Null when the prefix is only U+10FFFF characters: nothing is above them all.
 * So the skus starting with `prefix` are exactly those in [prefix, upper), one range of the index.
 */
export function prefixUpperBound(prefix: string): string | null {
  const chars = [...prefix].map((c) => c.codePointAt(0)!);
  while (chars.length && chars[chars.length - 1] === MAX_CODE_POINT) chars.pop();
  if (!chars.length) return null;
  let last = chars.pop()! + 1;
  if (last >= 0xd800 && last <= 0xdfff) last = 0xe000;
  return String.fromCodePoint(...chars, last);
}
