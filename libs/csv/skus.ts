import { InputError } from '../errors';
import { CsvParser, MAX_RECORD_BYTES, ParsedRecord, ParserReject } from './parser';
import { Reject } from './products';

/**
 * A file of skus (`make delete`), read by the products file's rules (DESIGN.md §5) where they
 * apply: the header names `sku` in any case (other columns, such as a products file's `name` and
 * `description`, are ignored); the sku is trimmed; a record is rejected for a wrong field count, an
 * empty sku, a NUL, being over 1 MiB, or being malformed, and the rest of the file goes on.
 *
 * `readable`: instead of those rules, every record whose sku can be read (the header's field
 * count, a sku that is not empty and has no NUL) is accepted, whatever its other fields hold: the
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

export class SkusCsv {
  private readonly parser: CsvParser;
  private columns: { sku: number; count: number } | undefined;
  private records = 0;

  constructor(
    private readonly sink: SkusSink,
    private readonly options: { readable?: boolean } = {},
    maxRecordBytes = MAX_RECORD_BYTES,
  ) {
    this.parser = new CsvParser({ record: (r) => this.onRecord(r), reject: (r) => this.onReject(r) }, maxRecordBytes);
  }

  push(chunk: string): void {
    this.parser.push(chunk);
  }

  end(): void {
    this.parser.end();
    if (!this.columns) throw new InputError('the file is empty: expected a header naming sku');
  }

  get hasHeader(): boolean {
    return this.columns !== undefined;
  }

  get recordCount(): number {
    return this.records;
  }

  private onReject(r: ParserReject) {
    if (!this.columns) throw new InputError(`the header (line ${r.line}) is unreadable: ${r.reason}`);
    this.records++;
    this.sink.reject(r);
  }

  private onRecord(r: ParsedRecord) {
    if (!this.columns) {
      this.columns = readSkuHeader(r);
      return;
    }
    this.records++;
    const cols = this.columns;
    if (r.fields.length !== cols.count) {
      this.sink.reject({ line: r.line, reason: `wrong number of fields: expected ${cols.count}, got ${r.fields.length}`, raw: r.raw });
      return;
    }
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
    this.sink.sku({ sku, line: r.line, record: this.records });
  }
}

function readSkuHeader(r: ParsedRecord): { sku: number; count: number } {
  const names = r.fields.map((f) => f.trim().toLowerCase());
  const sku = names.indexOf('sku');
  if (sku >= 0 && names.indexOf('sku', sku + 1) >= 0) throw new InputError(`the header (line ${r.line}) names column "sku" twice`);
  if (sku < 0)
    throw new InputError(`the header (line ${r.line}) must name the column sku (found: ${r.fields.map((f) => JSON.stringify(f)).join(',')})`.slice(0, 500));
  return { sku, count: r.fields.length };
}
