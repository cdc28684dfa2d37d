/** The ASCII characters String.prototype.trim removes: tab, line feed, vertical tab, form feed, carriage return, space. */
const ASCII_SPACE = new Uint8Array(128);
for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]) ASCII_SPACE[c] = 1;

/**
 * Whether the UTF-8 text in bytes start..end is not empty and already trimmed, as
 * `s.trim() !== '' && s === s.trim()` says of it as a string. Read from the bytes when the first
 * and last are ASCII (nearly every name and sku), so the consumer makes no string of them; the
 * other whitespace trim removes (U+00A0, U+FEFF, U+2028 ...) is not ASCII: decoded and asked.
 */
export function isTrimmedUtf8(bytes: Buffer, start: number, end: number): boolean {
  if (end <= start) return false;
  const first = bytes[start];
  const last = bytes[end - 1];
  if (first < 0x80 && last < 0x80) return ASCII_SPACE[first] === 0 && ASCII_SPACE[last] === 0;
  return isTrimmed(bytes.toString('utf8', start, end));
}

/** Whether a string is not empty and already trimmed (the ingest rule for a sku and a name). */
export function isTrimmed(text: string): boolean {
  return text.trim() !== '' && text === text.trim();
}
