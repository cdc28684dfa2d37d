import * as fs from 'fs';
import { parse } from 'csv-parse/sync';
import type { AggregateSpec, ColumnSpec, DatasetSpec } from '../libs/dataset/spec';

/**
 * What a clean run of a declared dataset must leave (the `dataset` chaos scenario), computed
 * without dasy's readers: the files parsed by csv-parse, the later record of a key winning, the
 * keys of a delete file gone, and each aggregate's groups from those rows, with its own exact
 * decimal and instant arithmetic. Values stay text: the check casts them in PostgreSQL
 * (`::numeric`, `::timestamptz`), so that 1.50 and 1.5, or one instant in two offsets, compare equal.
 */

/** A row: its values in the spec's column order, null for NULL. */
export type ExpectedRow = (string | null)[];

/** The rows by key (the key's text). */
export type ExpectedRows = Map<string, ExpectedRow>;

/** A file's records as csv-parse gives them: one object per record, keyed by the header's names in lower case. */
export function readCsvObjects(file: string): Record<string, string>[] {
  return parse(fs.readFileSync(file), { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), bom: true, skip_empty_lines: true }) as Record<
    string,
    string
  >[];
}

/**
 * A field by the dataset's rules: key and group-by columns trimmed, other text kept exactly, an
 * empty field of an optional column NULL, other types trimmed.
 */
function fieldValue(column: ColumnSpec, raw: string | undefined, keyed: boolean): string | null {
  const text = raw ?? '';
  if (column.optional && text.trim() === '' && (column.type !== 'text' || text === '')) return null;
  if (column.type === 'text' && !keyed) return text;
  return text.trim();
}

/** The spec's key and group-by columns (trimmed). */
function keyedColumns(spec: DatasetSpec): Set<string> {
  return new Set([...spec.key, ...spec.aggregates.flatMap((a) => a.groupBy)]);
}

/** A key's text: one column's value, or the values joined by a separator no value holds. */
function keyText(values: (string | null)[]): string {
  return values.length === 1 ? values[0]! : JSON.stringify(values);
}

/** `rows` after ingesting `records` (no rejects expected): the later record of a key wins. */
export function applyRecords(spec: DatasetSpec, rows: ExpectedRows, records: Iterable<Record<string, string>>): ExpectedRows {
  const keyed = keyedColumns(spec);
  const keyAt = spec.key.map((k) => spec.columns.findIndex((c) => c.name === k));
  const out = new Map(rows);
  for (const r of records) {
    const row = spec.columns.map((c) => fieldValue(c, r[c.name], keyed.has(c.name)));
    out.set(keyText(keyAt.map((i) => row[i])), row);
  }
  return out;
}

/** `rows` without the keys of a delete file's records (keys that are not there change nothing). */
export function deleteKeys(spec: DatasetSpec, rows: ExpectedRows, records: Iterable<Record<string, string>>): ExpectedRows {
  const out = new Map(rows);
  for (const r of records) out.delete(keyText(spec.key.map((k) => (r[k] ?? '').trim())));
  return out;
}

/** An aggregate's expected groups: the group's values, then each measure's value as text (null: SQL NULL). */
export type ExpectedGroups = Map<string, { group: string[]; measures: (string | null)[] }>;

/** The aggregate over `rows` as SQL computes it: count, sum, min, max, NULLs ignored, an all-NULL sum NULL. */
export function aggregateRows(spec: DatasetSpec, aggregate: AggregateSpec, rows: ExpectedRows): ExpectedGroups {
  const at = (name: string) => spec.columns.findIndex((c) => c.name === name);
  const groupAt = aggregate.groupBy.map(at);
  const groups: ExpectedGroups = new Map();
  for (const row of rows.values()) {
    const group = groupAt.map((i) => row[i]!);
    const key = JSON.stringify(group);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { group, measures: aggregate.measures.map((m) => (m.fn === 'count' ? '0' : null)) }));
    aggregate.measures.forEach((m, i) => {
      if (m.fn === 'count') return void (g.measures[i] = String(Number(g.measures[i]) + 1));
      const value = row[at(m.column!)];
      if (value === null) return;
      const type = spec.columns[at(m.column!)].type;
      const current = g.measures[i];
      if (current === null) g.measures[i] = m.fn === 'sum' ? decimalText(parseDecimal(value)) : value;
      else if (m.fn === 'sum') g.measures[i] = decimalText(addDecimals(parseDecimal(current), parseDecimal(value)));
      else {
        const c = compareValues(type, value, current);
        if ((m.fn === 'min' && c < 0) || (m.fn === 'max' && c > 0)) g.measures[i] = value;
      }
    });
  }
  return groups;
}

/** Two values of a min/max column, by value: < 0, 0, > 0. */
export function compareValues(type: ColumnSpec['type'], a: string, b: string): number {
  switch (type) {
    case 'integer':
      return Number(BigInt(a) - BigInt(b));
    case 'numeric':
      return subtractSign(parseDecimal(a), parseDecimal(b));
    case 'timestamp': {
      const d = instantMicros(a) - instantMicros(b);
      return d < 0n ? -1 : d > 0n ? 1 : 0;
    }
    case 'date':
      return a < b ? -1 : a > b ? 1 : 0;
    default:
      throw new Error(`the chaos expectation does not order ${type} values`);
  }
}

/** An exact decimal: `units` × 10^-`scale`. */
export interface Decimal {
  units: bigint;
  scale: number;
}

/** A decimal's text (`-12.50`, `.5`, `1e3`, `+7`) read exactly, never through a float. */
export function parseDecimal(text: string): Decimal {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m || (m[2] === '' && !m[3])) throw new Error(`not a decimal: ${JSON.stringify(text)}`);
  const fraction = m[3] ?? '';
  let units = BigInt((m[2] || '0') + fraction);
  let scale = fraction.length - Number(m[4] ?? 0);
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { units: m[1] === '-' ? -units : units, scale };
}

function aligned(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale), scale];
}

export function addDecimals(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = aligned(a, b);
  return { units: x + y, scale };
}

function subtractSign(a: Decimal, b: Decimal): number {
  const [x, y] = aligned(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `-12.50`-style text of a decimal. */
export function decimalText(d: Decimal): string {
  const digits = (d.units < 0n ? -d.units : d.units).toString().padStart(d.scale + 1, '0');
  const text = d.scale ? `${digits.slice(0, -d.scale)}.${digits.slice(-d.scale)}` : digits;
  return d.units < 0n ? `-${text}` : text;
}

/**
 * An ISO 8601 timestamp's instant in microseconds since the epoch: a date, or a date and a time
 * (T or a space) to the minute, second or microsecond, then Z, ±HH, ±HHMM, ±HH:MM or nothing (UTC).
 */
export function instantMicros(text: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(?:Z|([+-])(\d{2})(?::?(\d{2}))?)?$/.exec(text.trim());
  if (!m) throw new Error(`not an ISO 8601 timestamp: ${JSON.stringify(text)}`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', sign, oh = '0', om = '0'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  return BigInt(ms) * 1000n + BigInt(fraction.padEnd(6, '0')) - BigInt(offsetMinutes) * 60_000_000n;
}
