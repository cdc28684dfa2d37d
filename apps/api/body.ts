import { isUtf8 } from 'buffer';
import { ApiError } from './validate';

/** The largest request body the api reads (413 beyond). */
export const BODY_LIMIT = 1024 * 1024;

/**
 * A JSON request body from its bytes. The bytes must be UTF-8 (RFC 8259): decoding invalid
 * sequences to U+FFFD, as Buffer.toString does, would make different byte strings one name.
 * A refusal names the property whose string holds the first invalid byte.
 */
export function parseJsonBody(raw: Buffer): unknown {
  if (!isUtf8(raw)) throw invalidEncodingError(raw);
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined; // no body (a reset needs none)
  try {
    return JSON.parse(text);
  } catch {
    throw invalidJsonError();
  }
}

export const invalidJsonError = () => new ApiError(400, 'invalid_json', 'the request body is not valid JSON');

function invalidEncodingError(raw: Buffer): ApiError {
  const at = firstInvalidUtf8(raw);
  const { path } = jsonPathAt(raw.subarray(0, Math.max(0, at)).toString('utf8'));
  if (path) return new ApiError(400, 'invalid_encoding', `${path} is not valid UTF-8`, path);
  return new ApiError(400, 'invalid_encoding', 'the request body is not valid UTF-8');
}

/** Index of the first byte not part of a well-formed UTF-8 sequence (Unicode Table 3-7); -1 if none. */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c === 0xe0) [need, lo] = [2, 0xa0];
    else if (c === 0xed)
      [need, hi] = [2, 0x9f]; // not the surrogates
    else if (c >= 0xe1 && c <= 0xef) need = 2;
    else if (c === 0xf0) [need, lo] = [3, 0x90];
    else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else if (c === 0xf4)
      [need, hi] = [3, 0x8f]; // not beyond U+10FFFF
    else return i;
    if (i + need >= b.length) return i; // truncated
    if (b[i + 1] < lo || b[i + 1] > hi) return i;
    for (let k = 2; k <= need; k++) if (b[i + k] < 0x80 || b[i + k] > 0xbf) return i;
    i += need + 1;
  }
  return -1;
}

type Frame = { kind: 'object'; key: string | null; expectKey: boolean } | { kind: 'array'; index: number };

/**
 * Where the end of `prefix` (the start of a JSON text) lies: inside a string or not, and when inside
 * a string value, the path of that value (property names and array indexes joined by '.'; null at
 * the top level or inside a property name).
 */
export function jsonPathAt(prefix: string): { path: string | null; inString: boolean } {
  const stack: Frame[] = [];
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      let j = i + 1;
      while (j < prefix.length && prefix[j] !== '"') j += prefix[j] === '\\' ? 2 : 1;
      if (j >= prefix.length) {
        if (top?.kind === 'object' && top.expectKey) return { path: null, inString: true };
        return { path: stack.map((f) => (f.kind === 'object' ? f.key : String(f.index))).join('.') || null, inString: true };
      }
      if (top?.kind === 'object' && top.expectKey) top.key = unescape(prefix.slice(i + 1, j));
      i = j;
    } else if (c === '{') stack.push({ kind: 'object', key: null, expectKey: true });
    else if (c === '[') stack.push({ kind: 'array', index: 0 });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ':' && top?.kind === 'object') top.expectKey = false;
    else if (c === ',' && top?.kind === 'object') [top.expectKey, top.key] = [true, null];
    else if (c === ',' && top?.kind === 'array') top.index++;
  }
  return { path: null, inString: false };
}

function unescape(content: string): string {
  try {
    return JSON.parse(`"${content}"`) as string;
  } catch {
    return content;
  }
}
