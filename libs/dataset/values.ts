import { KEY_MAX_BYTES, keyTooLong } from '../db/key-limit';
import type { ColumnSpec, ColumnType, DatasetSpec } from './spec';

/**
 * One field of a dataset's CSV (DESIGN.md §8) turned into the canonical text PostgreSQL casts
 * exactly (`::bigint`, `::numeric`, `::boolean`, `::date`, `::timestamptz`), or the reason it is
 * refused. Checked here, in full, so that no value reaches the topic that the database would
 * refuse: a record is rejected at its line, never a batch at its insert. The same rules check a
 * topic's values again (./wire.ts): canonical text parses to itself.
 */
export type Parsed = { ok: true; value: string | null } | { ok: false; reason: string };

/** `trimmedKey`: the column is a key or group_by column, whose text is trimmed and non-empty. */
export function parseField(column: ColumnSpec, raw: string, trimmedKey: boolean): Parsed {
  if (column.type === 'text') return parseText(column, raw, trimmedKey);
  const text = raw.trim();
  if (!text) return column.optional ? { ok: true, value: null } : refused('is empty');
  return PARSERS[column.type](text);
}

/** Per spec column, whether it is a key or group_by column (parsed with `trimmedKey`). */
export function trimmedColumns(spec: DatasetSpec): boolean[] {
  const keyed = new Set([...spec.key, ...spec.aggregates.flatMap((a) => a.groupBy)]);
  return spec.columns.map((c) => keyed.has(c.name));
}

/** Whether the values' UTF-8 bytes together exceed KEY_MAX_BYTES (a composite key, a group). */
export function keyBytesTooLong(values: readonly string[]): boolean {
  if (values.length === 1) return keyTooLong(values[0]);
  let units = 0;
  for (const v of values) units += v.length;
  // a UTF-16 unit is at most 3 UTF-8 bytes: short values need no count
  if (units * 3 <= KEY_MAX_BYTES) return false;
  let bytes = 0;
  for (const v of values) bytes += Buffer.byteLength(v, 'utf8');
  return bytes > KEY_MAX_BYTES;
}

const refused = (reason: string): Parsed => ({ ok: false, reason });
const accepted = (value: string): Parsed => ({ ok: true, value });

function parseText(column: ColumnSpec, raw: string, trimmedKey: boolean): Parsed {
  if (raw === '' && column.optional) return { ok: true, value: null };
  if (raw.includes('\u0000')) return refused('holds a NUL character');
  if (!trimmedKey) return accepted(raw);
  const text = raw.trim();
  return text ? accepted(text) : refused('is empty');
}

const PARSERS: Record<Exclude<ColumnType, 'text'>, (text: string) => Parsed> = {
  integer: parseInteger,
  numeric: parseNumeric,
  boolean: parseBoolean,
  date: parseDate,
  timestamp: parseTimestamp,
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function parseInteger(text: string): Parsed {
  if (!/^[+-]?\d+$/.test(text)) return refused('is not an integer');
  const n = BigInt(text);
  if (n < INT64_MIN || n > INT64_MAX) return refused('is out of the 64-bit integer range');
  return accepted(n.toString());
}

const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?$/;
/** PostgreSQL refuses an exponent beyond ±1000 in numeric input; a longer text is no one's number. */
const NUMERIC_MAX_EXPONENT = 1000;
const NUMERIC_MAX_CHARS = 1000;

/** Kept as written: PostgreSQL's numeric reads the decimal text exactly, never through a float. */
function parseNumeric(text: string): Parsed {
  const m = NUMERIC.exec(text);
  if (!m) return refused('is not a number');
  if (text.length > NUMERIC_MAX_CHARS) return refused('is out of range');
  if (m[1] !== undefined && Math.abs(Number(m[1])) > NUMERIC_MAX_EXPONENT) return refused('is out of range');
  return accepted(text);
}

const BOOLEANS = new Map([
  ['true', 'true'],
  ['1', 'true'],
  ['yes', 'true'],
  ['false', 'false'],
  ['0', 'false'],
  ['no', 'false'],
]);

function parseBoolean(text: string): Parsed {
  const value = BOOLEANS.get(text.toLowerCase());
  return value ? accepted(value) : refused('is not a boolean (true/false/1/0/yes/no)');
}

function parseDate(text: string): Parsed {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m && isCalendarDate(m[1], m[2], m[3]) ? accepted(text) : refused('is not a date (YYYY-MM-DD)');
}

/** Year 0001–9999 (4 digits, as PostgreSQL reads them literally), a month's real days, leap years. */
function isCalendarDate(year: string, month: string, day: string): boolean {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return d <= days;
}

// date, then an optional time (T or a space): HH:MM, :SS, a fraction of 1-6 digits (microseconds,
// PostgreSQL's precision: a 7th digit would be rounded), an offset Z, ±HH:MM, ±HHMM or ±HH
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

/** Canonical `YYYY-MM-DDTHH:MM:SS[.f]+HH:MM`; no offset is UTC. */
function parseTimestamp(text: string): Parsed {
  const m = TIMESTAMP.exec(text);
  if (!m) return refused('is not an ISO 8601 timestamp');
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', , sign = '+', offsetHour = '00', offsetMinute = '00'] = m;
  const inRange =
    isCalendarDate(year, month, day) &&
    Number(hour) <= 23 &&
    Number(minute) <= 59 &&
    Number(second) <= 59 &&
    Number(offsetHour) <= 15 &&
    Number(offsetMinute) <= 59;
  if (!inRange) return refused('is not an ISO 8601 timestamp');
  // -00:00 is UTC too: one text for one offset
  const offsetSign = offsetHour === '00' && offsetMinute === '00' ? '+' : sign;
  return accepted(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction}${offsetSign}${offsetHour}:${offsetMinute}`);
}
