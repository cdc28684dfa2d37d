import { NAME_MAX, SCORE_MAX, SCORE_MIN, USERNAME_MAX } from './messages';

/**
 * Every request check of the api as pure functions: they return the normalized values or throw an
 * ApiError naming the offending field. The server turns an ApiError into
 * `{"error":{"code","message","field"}}` with its status.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): { error: { code: string; message: string; field: string | null } } {
    return { error: { code: this.code, message: this.message, field: this.field } };
  }
}

const bad = (field: string | null, code: string, message: string) => new ApiError(400, code, message, field);

/** Length in characters (code points), not UTF-16 units. */
function chars(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

type Query = Record<string, unknown>;

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(null, 'invalid_body', `${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** PostgreSQL text cannot hold NUL, and a lone surrogate would not survive UTF-8. */
function storable(s: string): boolean {
  return !s.includes('\u0000') && !/\p{Cs}/u.test(s);
}

/** A required string: trimmed, non-empty, at most `max` characters. */
export function requiredText(value: unknown, field: string, max: number): string {
  if (value === undefined || value === null) throw bad(field, 'missing', `${field} is required`);
  if (Array.isArray(value)) throw bad(field, 'invalid_type', `${field} must be given once`);
  if (typeof value !== 'string') throw bad(field, 'invalid_type', `${field} must be a string`);
  const s = value.trim();
  if (!s) throw bad(field, 'empty', `${field} must not be empty`);
  if (!storable(s)) throw bad(field, 'invalid_value', `${field} must not contain NUL or unpaired surrogate characters`);
  if (chars(s) > max) throw bad(field, 'too_long', `${field} must be at most ${max} characters`);
  return s;
}

/** An optional string: absent or null gives null; otherwise as requiredText. */
export function optionalText(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  return requiredText(value, field, max);
}

export function validateName(value: unknown, field = 'name'): string {
  return requiredText(value, field, NAME_MAX);
}

export function validateScore(value: unknown): number {
  if (value === undefined || value === null) throw bad('score', 'missing', 'score is required');
  if (typeof value !== 'number') throw bad('score', 'invalid_type', 'score must be a number');
  // JSON cannot spell NaN or Infinity, but 1e999 parses to Infinity.
  if (!Number.isFinite(value)) throw bad('score', 'not_finite', 'score must be a finite number');
  if (value < SCORE_MIN || value > SCORE_MAX) throw bad('score', 'out_of_range', `score must be from ${SCORE_MIN} to ${SCORE_MAX}`);
  return value === 0 ? 0 : value; // -0 → 0
}

export interface PushRequest {
  name: string;
  score: number;
  username: string | null;
}

/** `POST /api/push` body: `{"name", "score", "username"?}`. Other properties are ignored. */
export function validatePush(body: unknown): PushRequest {
  const b = asObject(body, 'the request body');
  return { name: validateName(b.name), score: validateScore(b.score), username: optionalText(b.username, 'username', USERNAME_MAX) };
}

/** `POST /api/products/:name/reset` body: empty, or `{"username"?}`. */
export function validateReset(body: unknown): { username: string | null } {
  if (body === undefined || body === null) return { username: null };
  const b = asObject(body, 'the request body');
  return { username: optionalText(b.username, 'username', USERNAME_MAX) };
}

const ISO = /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+\- ]\d{2}:?\d{2})?)?$/;

/**
 * An ISO 8601 date or date-time. Without a UTC offset it is UTC. A '+' that arrived unencoded in
 * a query string reads as a space; it is taken for '+'.
 */
export function parseIsoTime(value: unknown, field: string): Date | null {
  if (value === undefined || value === '') return null;
  if (Array.isArray(value)) throw bad(field, 'invalid_type', `${field} must be given once`);
  if (typeof value !== 'string') throw bad(field, 'invalid_type', `${field} must be a string`);
  const m = ISO.exec(value.trim());
  const invalid = () => bad(field, 'invalid_time', `${field} must be an ISO 8601 time such as 2024-05-01T12:00:00Z`);
  if (!m) throw invalid();
  const [, date, hm, sec, frac, zone] = m;
  let zoneNorm = 'Z';
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = zone.replace(' ', '+').replace(':', '');
    zoneNorm = `${z.slice(0, 3)}:${z.slice(3)}`;
  }
  const text = `${date}T${hm ?? '00:00'}:${sec ?? '00'}.${(frac ?? '').padEnd(3, '0').slice(0, 3)}${zoneNorm}`;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw invalid();
  // Date.parse rolls Feb 30 over to Mar 1: refuse dates that do not exist. (setUTCFullYear, not
  // Date.UTC, which reads years 0-99 as 1900-1999.)
  const [y, mo, d] = date.split('-').map(Number);
  const check = new Date(0);
  check.setUTCFullYear(y, mo - 1, d);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) throw invalid();
  if (hm && (Number(hm.slice(0, 2)) > 23 || Number(hm.slice(3)) > 59 || Number(sec ?? 0) > 59)) throw invalid();
  return new Date(ms);
}

export interface Window {
  from: Date | null;
  to: Date | null;
}

/** `?from=ISO&to=ISO`, both optional; `from` must not be after `to`. */
export function validateWindow(query: unknown): Window {
  const q = (query ?? {}) as Query;
  const from = parseIsoTime(q.from, 'from');
  const to = parseIsoTime(q.to, 'to');
  if (from && to && from.getTime() > to.getTime()) throw bad('to', 'invalid_range', 'to must not be before from');
  return { from, to };
}

export type Interval = 'minute' | 'hour' | 'day';
export const INTERVAL_MS: Record<Interval, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** `?interval=minute|hour|day` (default minute), with an optional window. */
export function validateHistory(query: unknown): Window & { interval: Interval } {
  const q = (query ?? {}) as Query;
  let interval: Interval = 'minute';
  if (q.interval !== undefined && q.interval !== '') {
    // own properties only: `in` would take constructor, __proto__, toString... for intervals
    if (typeof q.interval !== 'string' || !Object.hasOwn(INTERVAL_MS, q.interval)) {
      throw bad('interval', 'invalid_value', 'interval must be minute, hour or day');
    }
    interval = q.interval as Interval;
  }
  return { interval, ...validateWindow(q) };
}

/**
 * `?q=`: a part of a name to search for (the dashboard). Kept as given, not trimmed (a space may
 * be part of what is searched); absent or empty searches everything.
 */
export function validateSearch(value: unknown, field = 'q'): string {
  if (value === undefined || value === '') return '';
  if (Array.isArray(value)) throw bad(field, 'invalid_type', `${field} must be given once`);
  if (typeof value !== 'string') throw bad(field, 'invalid_type', `${field} must be a string`);
  if (!storable(value)) throw bad(field, 'invalid_value', `${field} must not contain NUL or unpaired surrogate characters`);
  if (chars(value) > NAME_MAX) throw bad(field, 'too_long', `${field} must be at most ${NAME_MAX} characters`);
  return value;
}

/**
 * The query string must be well-formed percent-encoded UTF-8: the query parser keeps a malformed
 * escape as its literal text (`%FF` would be the three characters "%FF", the same name as a
 * client's `%25FF`), so refuse it, naming the parameter.
 */
export function validateQueryEncoding(url: string): void {
  const start = url.indexOf('?');
  if (start < 0) return;
  for (const part of url.slice(start + 1).split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = strictDecode(eq < 0 ? part : part.slice(0, eq));
    if (key === undefined) throw bad(null, 'invalid_encoding', 'a query parameter name is not valid percent-encoded UTF-8');
    if (eq >= 0 && strictDecode(part.slice(eq + 1)) === undefined) throw bad(key, 'invalid_encoding', `${key} is not valid percent-encoded UTF-8`);
  }
}

function strictDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined; // URIError: a malformed escape or invalid UTF-8
  }
}

export interface AdRequest {
  sdk_version: string;
  session_id: string;
  platform: string;
  username: string;
  country_code: string;
}

export const AD_TEXT_MAX = 64;
const SDK_VERSION = /^\d+(\.\d+)*$/;
const COUNTRY = /^[A-Za-z]{2}$/;

export function validateSdkVersion(value: unknown, field = 'sdk_version'): string {
  const s = requiredText(value, field, AD_TEXT_MAX);
  if (!SDK_VERSION.test(s)) throw bad(field, 'invalid_format', `${field} must be dotted digits such as 1.4.2`);
  return s;
}

/** `GET /ad` and `GET /impression`: every parameter is required; checked in this order. */
export function validateAdRequest(query: unknown): AdRequest {
  const q = (query ?? {}) as Query;
  const sdk_version = validateSdkVersion(q.sdk_version);
  const session_id = requiredText(q.session_id, 'session_id', AD_TEXT_MAX);
  const platform = requiredText(q.platform, 'platform', AD_TEXT_MAX);
  const username = requiredText(q.username, 'username', AD_TEXT_MAX);
  const cc = requiredText(q.country_code, 'country_code', AD_TEXT_MAX);
  if (!COUNTRY.test(cc)) throw bad('country_code', 'invalid_format', 'country_code must be two letters such as DE');
  return { sdk_version, session_id, platform, username, country_code: cc.toUpperCase() };
}

export interface StatisticsFilter {
  filter: 'username' | 'sdk_version';
  value: string;
}

/** `GET /statistics`: exactly one of `username`, `sdk_version` (alias `sdk`). */
export function validateStatistics(query: unknown): StatisticsFilter {
  const q = (query ?? {}) as Query;
  const given = ['username', 'sdk_version', 'sdk'].filter((k) => q[k] !== undefined);
  if (given.length === 0) throw bad('username', 'missing', 'give exactly one filter: username, sdk_version (or its alias sdk)');
  if (given.length > 1) throw bad(given[1], 'ambiguous', `give exactly one filter, not ${given.join(' and ')}`);
  const key = given[0];
  if (key === 'username') return { filter: 'username', value: requiredText(q.username, 'username', AD_TEXT_MAX) };
  return { filter: 'sdk_version', value: validateSdkVersion(q[key], key) };
}
