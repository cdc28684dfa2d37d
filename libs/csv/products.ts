import { InputError } from '../errors';
import { CsvParser, MAX_RECORD_BYTES, ParsedRecord, ParserReject } from './parser';

/**
 * The products ingest rules (DESIGN.md §5) on top of the RFC 4180 parser: the header names
 * `name`, `sku`, `description` in any order and case; sku and name are trimmed, description kept
 * exactly; a record is rejected for a wrong field count, an empty sku or name, a NUL, being over
 * 1 MiB, or being malformed.
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

export interface Reject {
  line: number;
  reason: string;
  raw: string;
}

export const REQUIRED_COLUMNS = ['name', 'sku', 'description'] as const;

export interface ProductsSink {
  product(p: Product): void;
  reject(r: Reject): void;
}

export class ProductsCsv {
  private readonly parser: CsvParser;
  private columns: { sku: number; name: number; description: number; count: number } | undefined;
  private records = 0;

  constructor(
    private readonly sink: ProductsSink,
    maxRecordBytes = MAX_RECORD_BYTES,
  ) {
    this.parser = new CsvParser({ record: (r) => this.onRecord(r), reject: (r) => this.onReject(r) }, maxRecordBytes);
  }

  push(chunk: string): void {
    this.parser.push(chunk);
  }

  end(): void {
    this.parser.end();
    if (!this.columns) throw new InputError('the file is empty: expected a header naming name, sku and description');
  }

  /** The header has been read (and is valid). */
  get hasHeader(): boolean {
    return this.columns !== undefined;
  }

  /** Records seen after the header, accepted or not. */
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
      this.columns = readHeader(r);
      return;
    }
    this.records++;
    const cols = this.columns;
    if (r.fields.length !== cols.count) {
      this.sink.reject({ line: r.line, reason: `wrong number of fields: expected ${cols.count}, got ${r.fields.length}`, raw: r.raw });
      return;
    }
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
    this.sink.product({ sku, name, description: r.fields[cols.description], line: r.line, record: this.records });
  }
}

function readHeader(r: ParsedRecord) {
  const names = r.fields.map((f) => f.trim().toLowerCase());
  const index = (col: string) => {
    const at = names.indexOf(col);
    if (at >= 0 && names.indexOf(col, at + 1) >= 0) throw new InputError(`the header (line ${r.line}) names column "${col}" twice`);
    return at;
  };
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
