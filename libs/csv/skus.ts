import { keyTooLong, keyTooLongReason } from '../db/key-limit';
import { InputError } from '../errors';
import { columnIndex, HeaderedCsv, Reject } from './headered';
import { MAX_RECORD_BYTES, ParsedRecord } from './parser';

/**
 * A file of skus (`make delete`), read by the products file's rules (DESIGN.md §5) where they
 * apply: the header names `sku` in any case (other columns, such as a products file's `name` and
 * `description`, are ignored); the sku is trimmed; a record is rejected for a wrong field count, an
 * empty sku, a sku over the key limit (libs/db/key-limit.ts), a NUL, being over 1 MiB, or being
 * malformed, and the rest of the file goes on.
 *
 * `readable`: instead of those rules, every record whose sku can be read (the header's field
 * count, a sku that is not empty, within the key limit and has no NUL) is accepted, whatever its other fields hold: the
 * skus a products file names, rejected records included (what `ingest --sync` must not delete).
 */
export interface SkuRecord {
  sku: string;
  /** physical line the record starts on (header is line 1) */
  line: number;
  /** 1-based position among the file's records, header excluded */
  record: number;
}

export interface SkusSink {
  sku(s: SkuRecord): void;
  reject(r: Reject): void;
}

type SkuColumns = { sku: number; count: number };

export class SkusCsv extends HeaderedCsv<SkuColumns> {
  constructor(
    private readonly sink: SkusSink,
    private readonly options: { readable?: boolean } = {},
    maxRecordBytes = MAX_RECORD_BYTES,
  ) {
    super((r) => sink.reject(r), 'the file is empty: expected a header naming sku', maxRecordBytes);
  }

  protected row(r: ParsedRecord, cols: SkuColumns, record: number): void {
    const field = r.fields[cols.sku];
    if (this.options.readable ? field.includes('\u0000') : r.hasNul) {
      this.sink.reject({ line: r.line, reason: 'a field holds a NUL character', raw: r.raw });
      return;
    }
    const sku = field.trim();
    if (!sku) {
      this.sink.reject({ line: r.line, reason: 'sku is empty', raw: r.raw });
      return;
    }
    // over the key limit, a sku cannot be in products (the ingest rule keeps it out); in `readable`
    // mode too, whose skus go into a table keyed by sku that would refuse it
    if (keyTooLong(sku)) {
      this.sink.reject({ line: r.line, reason: keyTooLongReason('sku'), raw: r.raw });
      return;
    }
    this.sink.sku({ sku, line: r.line, record });
  }

  protected readHeader(r: ParsedRecord): SkuColumns {
    const sku = columnIndex(r)('sku');
    if (sku < 0)
      throw new InputError(`the header (line ${r.line}) must name the column sku (found: ${r.fields.map((f) => JSON.stringify(f)).join(',')})`.slice(0, 500));
    return { sku, count: r.fields.length };
  }
}
