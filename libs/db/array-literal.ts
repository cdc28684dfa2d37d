/**
 * PostgreSQL array literals (`{...}`) for the array parameters of batch statements
 * (`unnest($1::float8[], ...)`), written directly. pg serializes a JS array by quoting and escaping
 * every element, numbers included, through two regular expressions: with batches of 1,000 pushes
 * that was a twentieth of the api's CPU. The server parses the same text either way.
 */

/** Numbers (float8, integer, bigint arrays); null is NULL. JS's shortest round-trip form is exact for float8. */
export function numbersLiteral(values: readonly (number | bigint | string | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i) out += ',';
    out += v === null ? 'NULL' : String(v);
  }
  return out + '}';
}

const NEEDS_ESCAPE = /["\\]/;

/** Texts, each double-quoted (backslash before `"` and `\`): any text, empty or "NULL" included; null is NULL. */
export function textsLiteral(values: readonly (string | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i) out += ',';
    out += v === null ? 'NULL' : NEEDS_ESCAPE.test(v) ? `"${v.replace(/["\\]/g, '\\$&')}"` : `"${v}"`;
  }
  return out + '}';
}
