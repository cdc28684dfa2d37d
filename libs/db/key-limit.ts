/**
 * The longest key dasy accepts (a sku, a name), in UTF-8 bytes: the one limit of the ingest rules
 * (libs/csv), `make delete`'s sku file, the catalogue and the score api (apps/api).
 *
 * Why 2,000: every such value is a btree key (products_pkey, products_name_idx, product_count's
 * and the score tables' primary keys), and a btree row of an 8 kB page holds at most 2,704 bytes
 * (a third of a page, less its headers). PostgreSQL compresses a long key only when it
 * compresses well, so a key of random letters (a hash, a URL) is stored as it is: over 2,704 it
 * is refused at its insert (SQLSTATE 54000), every time. 2,000 bytes plus the value's 4-byte
 * header, the row's 8-byte header and a second column of a composite key (score_stats: name and
 * session) always fits, compressed or not.
 */
export const KEY_MAX_BYTES = 2000;

/** Whether a key's UTF-8 encoding is longer than KEY_MAX_BYTES. */
export function keyTooLong(text: string): boolean {
  // a UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair, two units, is 4): short text needs no count
  if (text.length * 3 <= KEY_MAX_BYTES) return false;
  if (text.length > KEY_MAX_BYTES) return true; // at least one byte per unit
  return Buffer.byteLength(text, 'utf8') > KEY_MAX_BYTES;
}

/** The reason a key is refused, as the ingest rules and the api word it. */
export function keyTooLongReason(field: string): string {
  return `${field} is longer than ${KEY_MAX_BYTES} bytes in UTF-8`;
}
