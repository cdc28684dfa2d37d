import { KEY_MAX_BYTES } from '../db/key-limit';
import type { DatasetSpec } from '../dataset/spec';
import { keyBytesTooLong, parseField, trimmedColumns } from '../dataset/values';
import { InputError } from '../errors';
import { columnIndex, HeaderedCsv } from './headered';
import type { Reject } from './headered';
import { MAX_RECORD_BYTES, ParsedRecord } from './parser';

export type { Reject } from './headered';

/**
 * A dataset's ingest rules (DESIGN.md §8) on top of the RFC 4180 parser: the header names every
 * column of the spec, in any order and case (others are ignored); each field is parsed to its
 * column's type (libs/dataset/values.ts), and a record is rejected at its line with the first
 * field that does not parse (`column: reason`), a key or group over the key limit, a NUL, a wrong
 * field count, being over 1 MiB, or being malformed.
 */
export interface DatasetRow {
  /** canonical text or null, in the spec's column order */
  values: (string | null)[];
  /** physical line the record starts on (header is line 1) */
  line: number;
  /** 1-based position among the file's records, header excluded */
  record: number;
}

export interface DatasetSink {
  row(r: DatasetRow): void;
  reject(r: Reject): void;
}

/** Where each spec column is in the file, in the spec's order. */
type DatasetColumns = { at: number[]; count: number };

/** Columns whose values together are one btree key, and what a reject calls them. */
type KeyGroup = { label: string; columns: number[] };

export class DatasetCsv extends HeaderedCsv<DatasetColumns> {
  /** per spec column: trimmed and non-empty (a key or group_by column) */
  private readonly trimmed: boolean[];
  private readonly keyGroups: KeyGroup[];

  constructor(
    private readonly spec: DatasetSpec,
    private readonly sink: DatasetSink,
    maxRecordBytes = MAX_RECORD_BYTES,
  ) {
    super((r) => sink.reject(r), `the file is empty: expected a header naming ${listed(spec.columns.map((c) => c.name))}`, maxRecordBytes);
    this.trimmed = trimmedColumns(spec);
    const indexes = (names: string[]) => names.map((n) => spec.columns.findIndex((c) => c.name === n));
    this.keyGroups = [
      { label: `key (${spec.key.join(', ')})`, columns: indexes(spec.key) },
      ...spec.aggregates.map((a) => ({ label: `${a.name}.group_by (${a.groupBy.join(', ')})`, columns: indexes(a.groupBy) })),
    ];
  }

  protected row(r: ParsedRecord, cols: DatasetColumns, record: number): void {
    if (r.hasNul) {
      this.sink.reject({ line: r.line, reason: 'a field holds a NUL character', raw: r.raw });
      return;
    }
    const values: (string | null)[] = [];
    for (let i = 0; i < this.spec.columns.length; i++) {
      const column = this.spec.columns[i];
      const parsed = parseField(column, r.fields[cols.at[i]], this.trimmed[i]);
      if (!parsed.ok) {
        this.sink.reject({ line: r.line, reason: `${column.name}: ${parsed.reason}`, raw: r.raw });
        return;
      }
      values.push(parsed.value);
    }
    // key and group_by columns are required: their values are never null
    const long = this.keyGroups.find((g) => keyBytesTooLong(g.columns.map((i) => values[i]!)));
    if (long) {
      this.sink.reject({ line: r.line, reason: `${long.label}: longer than ${KEY_MAX_BYTES} bytes in UTF-8`, raw: r.raw });
      return;
    }
    this.sink.row({ values, line: r.line, record });
  }

  protected readHeader(r: ParsedRecord): DatasetColumns {
    const index = columnIndex(r);
    const names = this.spec.columns.map((c) => c.name);
    const at = names.map(index);
    const missing = names.filter((_, i) => at[i] < 0);
    if (missing.length) {
      throw new InputError(
        `the header (line ${r.line}) must name the columns ${listed(names)}; missing: ${missing.join(', ')} (found: ${r.fields.map((f) => JSON.stringify(f)).join(',')})`.slice(
          0,
          500,
        ),
      );
    }
    return { at, count: r.fields.length };
  }
}

/** `a`, `a and b`, `a, b and c` */
function listed(names: string[]): string {
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
