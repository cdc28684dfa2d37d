import { isUtf8 } from 'buffer';
import { isTrimmedUtf8 } from '../csv/trimmed';
import { PoisonMessageError } from '../errors';
import type { DatasetSpec } from './spec';

/**
 * The compact value of a `<ns>.<dataset>` message, as dasy's producer writes it: one format byte,
 * then each column in the spec's order, each a tag (VALUE, then its canonical text in UTF-8, or
 * NULL) and the columns separated by a NUL. Read without a parser and without making strings: a
 * field never holds a NUL (the ingest rules reject it), so the NULs split the fields, and each
 * field goes to PostgreSQL as the bytes it came as. Columns are only ever added at the end of a
 * spec (evolve.ts): an older message has fewer fields, and the missing (optional) ones are NULL.
 * The values' types are PostgreSQL's to check (a cast it refuses, SQLSTATE class 22, dead-letters
 * the message alone); what the consumer must know itself is checked here: UTF-8, the required
 * columns present, the key and group-by text trimmed and not empty, the key the message's key.
 */
export const DATASET_VALUE_V1 = 0x01;
const VALUE = 0x01;
const NULL = 0x02;

export function encodeCompactValue(values: readonly (string | null)[]): Buffer {
  let size = 1 + values.length * 2;
  for (const v of values) if (v !== null) size += Buffer.byteLength(v);
  const out = Buffer.allocUnsafe(size);
  out[0] = DATASET_VALUE_V1;
  let at = 1;
  values.forEach((v, i) => {
    if (i > 0) out[at++] = 0;
    if (v === null) out[at++] = NULL;
    else {
      out[at++] = VALUE;
      at += out.write(v, at, 'utf8');
    }
  });
  return out.subarray(0, at);
}

/** The fields of a compact value, views of its bytes (null: NULL), one per column of the spec. */
export function decodeCompactValue(spec: DatasetSpec, value: Buffer, trimmed: boolean[]): (Buffer | null)[] {
  if (!isUtf8(value)) throw new PoisonMessageError('message value is not valid UTF-8');
  const fields: (Buffer | null)[] = [];
  let start = 1;
  while (start <= value.length && fields.length < spec.columns.length) {
    let end = value.indexOf(0, start);
    if (end < 0) end = value.length;
    fields.push(field(spec, fields.length, value, start, end, trimmed));
    start = end + 1;
  }
  if (start <= value.length) throw new PoisonMessageError(`message value has more fields than the spec's ${spec.columns.length} columns`);
  for (let i = fields.length; i < spec.columns.length; i++) {
    if (!spec.columns[i].optional) throw new PoisonMessageError(`${spec.columns[i].name}: missing, and the column is required`);
    fields.push(null);
  }
  return fields;
}

function field(spec: DatasetSpec, i: number, value: Buffer, start: number, end: number, trimmed: boolean[]): Buffer | null {
  const column = spec.columns[i];
  const tag = value[start];
  if (tag === NULL && end === start + 1) {
    if (!column.optional) throw new PoisonMessageError(`${column.name}: null, and the column is required`);
    return null;
  }
  if (tag !== VALUE) throw new PoisonMessageError(`${column.name}: not a field of the compact format`);
  const text = value.subarray(start + 1, end);
  if (!trimmed[i] || isTrimmedUtf8(text, 0, text.length)) return text;
  // a key or group-by column's text is trimmed, as the CSV rules trim it (a column grouped by
  // since the message was written held its text as written): only an empty one is refused
  const trimmedText = Buffer.from(text.toString('utf8').trim(), 'utf8');
  if (!trimmedText.length) throw new PoisonMessageError(`${column.name}: is empty`);
  return trimmedText;
}
