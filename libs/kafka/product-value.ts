import { isUtf8 } from 'buffer';
import { PoisonMessageError } from '../errors';

/**
 * The value of a `<ns>.products` message (its key is the sku): one format byte, the name in UTF-8, a
 * NUL, the description in UTF-8. Compact, and read without a parser: a record never holds a NUL
 * (the ingest rules reject it), so the first NUL ends the name. A null value is a tombstone.
 * Values written as a JSON object `{"sku","name","description"}` (by hand, with Kafka's console
 * producer, or by older versions of dasy) are read too.
 */
export const PRODUCT_VALUE_V1 = 0x01;

export function encodeProductValue(name: string, description: string): Buffer {
  const nameBytes = Buffer.byteLength(name);
  const value = Buffer.allocUnsafe(2 + nameBytes + Buffer.byteLength(description));
  value[0] = PRODUCT_VALUE_V1;
  value.write(name, 1, 'utf8');
  value[1 + nameBytes] = 0;
  value.write(description, 2 + nameBytes, 'utf8');
  return value;
}

/** A compact value's name and description: views of its UTF-8 bytes, as they go to PostgreSQL (no string made). */
export function decodeProductValue(value: Buffer): { name: Buffer; description: Buffer } {
  if (value[0] !== PRODUCT_VALUE_V1) throw new PoisonMessageError(`unknown value format ${value[0]}`);
  if (!isUtf8(value)) throw new PoisonMessageError('value is not valid UTF-8');
  const end = value.indexOf(0, 1);
  if (end < 0) throw new PoisonMessageError('value has no end of name');
  if (value.indexOf(0, end + 1) >= 0) throw new PoisonMessageError('description holds a NUL character');
  return { name: value.subarray(1, end), description: value.subarray(end + 1) };
}
