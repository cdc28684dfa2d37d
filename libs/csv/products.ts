import { keyTooLong, keyTooLongReason } from '../db/key-limit';
import { InputError } from '../errors';
import { columnIndex, HeaderedCsv } from './headered';
import { MAX_RECORD_BYTES, ParsedRecord } from './parser';

export type { Reject } from './headered';
import type { Reject } from './headered';

/**
 * The products ingest rules (DESIGN.md §5) on top of the RFC 4180 parser: the header names
 * `name`, `sku`, `description` in any order and case; sku and name are trimmed, description kept
 * exactly; a record is rejected for a wrong field count, an empty sku or name, a sku or name over
 * the key limit (libs/db/key-limit.ts), a NUL, being over 1 MiB, or being malformed.
 */
export interface Product {
  sku: string;
  name: string;
  description: string;
  /** physical line the record starts on (header is line 1) */
  line: number;
  /** 1-based position among the file's records, header excluded */
  record: number;
}

export const REQUIRED_COLUMNS = ['name', 'sku', 'description'] as const;

export interface ProductsSink {
  product(p: Product): void;
  reject(r: Reject): void;
}

type ProductColumns = { sku: number; name: number; description: number; count: number };

export class ProductsCsv extends HeaderedCsv<ProductColumns> {
  constructor(
    private readonly sink: ProductsSink,
    maxRecordBytes = MAX_RECORD_BYTES,
  ) {
    super((r) => sink.reject(r), 'the file is empty: expected a header naming name, sku and description', maxRecordBytes);
  }

  protected row(r: ParsedRecord, cols: ProductColumns, record: number): void {
    if (r.hasNul) {
      this.sink.reject({ line: r.line, reason: 'a field holds a NUL character', raw: r.raw });
      return;
    }
    const sku = r.fields[cols.sku].trim();
    if (!sku) {
      this.sink.reject({ line: r.line, reason: 'sku is empty', raw: r.raw });
      return;
    }
    const name = r.fields[cols.name].trim();
    if (!name) {
      this.sink.reject({ line: r.line, reason: 'name is empty', raw: r.raw });
      return;
    }
    const long = keyTooLong(sku) ? 'sku' : keyTooLong(name) ? 'name' : undefined;
    if (long) {
      this.sink.reject({ line: r.line, reason: keyTooLongReason(long), raw: r.raw });
      return;
    }
    this.sink.product({ sku, name, description: r.fields[cols.description], line: r.line, record });
  }

  protected readHeader(r: ParsedRecord): ProductColumns {
    const index = columnIndex(r);
    const sku = index('sku');
    const name = index('name');
    const description = index('description');
    const missing = REQUIRED_COLUMNS.filter((c) => ({ sku, name, description })[c] < 0);
    if (missing.length) {
      throw new InputError(
        `the header (line ${r.line}) must name the columns name, sku and description; missing: ${missing.join(', ')} (found: ${r.fields.map((f) => JSON.stringify(f)).join(',')})`.slice(
          0,
          500,
        ),
      );
    }
    return { sku, name, description, count: r.fields.length };
  }
}
