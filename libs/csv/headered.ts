import { InputError } from '../errors';
import { CsvParser, MAX_RECORD_BYTES, ParsedRecord, ParserReject } from './parser';

export interface Reject {
  line: number;
  reason: string;
  raw: string;
}

/**
 * What every CSV dasy reads shares (products, skus): the first record is the header, which names
 * the columns and fixes the field count; a record with another count is rejected, as is one the
 * parser refuses (malformed, over 1 MiB), and the rest of the file goes on. A subclass reads its
 * header and applies its own rules to each row.
 */
export abstract class HeaderedCsv<C extends { count: number }> {
  private readonly parser: CsvParser;
  private columns: C | undefined;
  private records = 0;

  constructor(
    private readonly rejectRecord: (r: Reject) => void,
    /** what an empty file is refused with */
    private readonly emptyMessage: string,
    maxRecordBytes = MAX_RECORD_BYTES,
  ) {
    this.parser = new CsvParser({ record: (r) => this.onRecord(r), reject: (r) => this.onReject(r) }, maxRecordBytes);
  }

  push(chunk: string): void {
    this.parser.push(chunk);
  }

  end(): void {
    this.parser.end();
    if (!this.columns) throw new InputError(this.emptyMessage);
  }

  /** The header has been read (and is valid). */
  get hasHeader(): boolean {
    return this.columns !== undefined;
  }

  /** Records seen after the header, accepted or not. */
  get recordCount(): number {
    return this.records;
  }

  /** The header's columns, or an InputError saying why the file cannot be read. */
  protected abstract readHeader(r: ParsedRecord): C;

  /** A record with the header's field count; `record` is its 1-based position after the header. */
  protected abstract row(r: ParsedRecord, columns: C, record: number): void;

  private onReject(r: ParserReject) {
    if (!this.columns) throw new InputError(`the header (line ${r.line}) is unreadable: ${r.reason}`);
    this.records++;
    this.rejectRecord(r);
  }

  private onRecord(r: ParsedRecord) {
    if (!this.columns) {
      this.columns = this.readHeader(r);
      return;
    }
    this.records++;
    if (r.fields.length !== this.columns.count) {
      this.rejectRecord({ line: r.line, reason: `wrong number of fields: expected ${this.columns.count}, got ${r.fields.length}`, raw: r.raw });
      return;
    }
    this.row(r, this.columns, this.records);
  }
}

/** The header's (trimmed, case-insensitive) column names, each named at most once. */
export function columnIndex(r: ParsedRecord): (column: string) => number {
  const names = r.fields.map((f) => f.trim().toLowerCase());
  return (column) => {
    const at = names.indexOf(column);
    if (at >= 0 && names.indexOf(column, at + 1) >= 0) throw new InputError(`the header (line ${r.line}) names column "${column}" twice`);
    return at;
  };
}
