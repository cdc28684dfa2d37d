import { isUtf8 } from 'buffer';
import { PoisonMessageError } from '../errors';
import type { DatasetSpec } from './spec';
import { parseField, trimmedColumns } from './values';
import { DATASET_VALUE_V1, decodeCompactValue, encodeCompactValue } from './compact-value';

/**
 * A dataset's rows on its topic `<ns>.<dataset>` (DESIGN.md §8), a compacted changelog: the key is
 * the row's key (one column's canonical text, or a JSON array of several), the value a JSON object
 * of every column's canonical text or null, a null value deletes the row (a tombstone). Compaction
 * keeps one message per key, so a key has one text: a key that is not its own canonical form is
 * refused, as is any value the CSV rules (./values.ts) would not have produced.
 */
export type DecodedRow = { key: string[]; values: (string | Buffer | null)[] } | { key: string[]; deleted: true };

/** The message key of a row (`values` in the spec's column order). */
export function messageKey(spec: DatasetSpec, values: readonly (string | null)[]): string {
  const key = layout(spec).keyAt.map((i) => {
    const v = values[i];
    if (v === null) throw new Error(`dataset ${spec.name}: key column ${spec.columns[i].name} is null`);
    return v;
  });
  return key.length === 1 ? key[0] : JSON.stringify(key);
}

/** The message value of a row as dasy's producer writes it: compact (compact-value.ts). */
export function messageValue(spec: DatasetSpec, values: readonly (string | null)[]): Buffer {
  return encodeCompactValue(values);
}

/** The message value of a row as a JSON object `{ "<column>": text or null, ... }` in UTF-8: what a person or another tool may write. */
export function jsonMessageValue(spec: DatasetSpec, values: readonly (string | null)[]): Buffer {
  const row: Record<string, string | null> = {};
  spec.columns.forEach((c, i) => (row[c.name] = values[i]));
  return Buffer.from(JSON.stringify(row), 'utf8');
}

/** The key columns' values of a message key, in the spec's key order. */
export function keyValues(spec: DatasetSpec, key: Buffer | null): string[] {
  if (!key || key.length === 0) throw new PoisonMessageError('message key is missing or empty');
  if (!isUtf8(key)) throw new PoisonMessageError('message key is not valid UTF-8');
  const text = key.toString('utf8');
  const values = spec.key.length === 1 ? [text] : compositeKey(text, spec.key.length);
  const { keyAt } = layout(spec);
  spec.key.forEach((name, i) => {
    const parsed = parseField(spec.columns[keyAt[i]], values[i], true);
    if (!parsed.ok) throw new PoisonMessageError(`message key: ${name}: ${parsed.reason}`);
    if (parsed.value !== values[i]) throw new PoisonMessageError(`message key: ${name}: is not in canonical form (${JSON.stringify(parsed.value)})`);
  });
  return values;
}

function compositeKey(text: string, length: number): string[] {
  const fail = () => new PoisonMessageError(`message key is not a JSON array of ${length} strings`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw fail();
  }
  if (!Array.isArray(parsed) || parsed.length !== length || !parsed.every((v) => typeof v === 'string' && v.isWellFormed())) throw fail();
  return parsed as string[];
}

/** A message of the topic: a row in the spec's column order, canonical, or a tombstone. */
export function decodeRow(spec: DatasetSpec, message: { key: Buffer | null; value: Buffer | null }): DecodedRow {
  const key = keyValues(spec, message.key);
  if (message.value === null) return { key, deleted: true };
  const { keyAt, trimmed } = layout(spec);
  if (message.value[0] === DATASET_VALUE_V1) {
    const fields = decodeCompactValue(spec, message.value, trimmed);
    if (keyAt.some((at, i) => fields[at]!.toString('utf8') !== key[i])) throw new PoisonMessageError("message key is not the row's key");
    return { key, values: fields };
  }
  const row = jsonObject(message.value);
  const values = spec.columns.map((column, at) => {
    const v = Object.hasOwn(row, column.name) ? row[column.name] : undefined;
    // a column added to the spec later is absent from older messages: optional ones only
    if (v === undefined || v === null) {
      if (column.optional) return null;
      throw new PoisonMessageError(`${column.name}: ${v === undefined ? 'missing' : 'null'}, and the column is required`);
    }
    if (typeof v !== 'string') throw new PoisonMessageError(`${column.name}: a JSON ${Array.isArray(v) ? 'array' : typeof v}, not a string or null`);
    if (!v.isWellFormed()) throw new PoisonMessageError(`${column.name}: holds a lone surrogate (not valid Unicode)`);
    const parsed = parseField(column, v, trimmed[at]);
    if (!parsed.ok) throw new PoisonMessageError(`${column.name}: ${parsed.reason}`);
    return parsed.value;
  });
  if (keyAt.some((at, i) => values[at] !== key[i])) throw new PoisonMessageError("message key is not the row's key");
  return { key, values };
}

function jsonObject(value: Buffer): Record<string, unknown> {
  if (!isUtf8(value)) throw new PoisonMessageError('message value is not valid UTF-8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    throw new PoisonMessageError('message value is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new PoisonMessageError('message value is not a JSON object');
  return parsed as Record<string, unknown>;
}

/** What every message of a spec needs, worked out once per spec. */
type Layout = { keyAt: number[]; trimmed: boolean[] };
const LAYOUTS = new WeakMap<DatasetSpec, Layout>();

/** The key columns' positions among the spec's columns (in the key's order), and which columns are trimmed. */
function layout(spec: DatasetSpec): Layout {
  let l = LAYOUTS.get(spec);
  if (!l) {
    l = { keyAt: spec.key.map((name) => spec.columns.findIndex((c) => c.name === name)), trimmed: trimmedColumns(spec) };
    LAYOUTS.set(spec, l);
  }
  return l;
}
