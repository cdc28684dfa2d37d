/**
 * A streaming RFC 4180 parser that never gives up on a file: a malformed record is reported
 * (with the physical line it starts on) and parsing resumes with the next one.
 *
 * - Chunks are strings (decode UTF-8 before, see ./reader); state carries across chunks, so
 *   memory is one record at most, and at most `maxRecordBytes` of it (larger ones are skipped
 *   while still followed quote by quote).
 * - Line breaks are LF, CRLF or a lone CR, counted as a text editor counts lines, inside
 *   quoted fields too; a record ends at a line break outside quotes.
 * - A blank (or whitespace-only) line is not a record.
 * - Malformed: a quote inside an unquoted field, a character after a closing quote, end of
 *   input inside quotes. After the first two, the record ends at the end of its physical line.
 */
export interface ParsedRecord {
  fields: string[];
  /** 1-based physical line the record starts on */
  line: number;
  /** the record's text without its line break */
  raw: string;
  /** some field holds U+0000 */
  hasNul: boolean;
  /** the record's size in UTF-8 bytes exceeds the limit */
  oversize: boolean;
}

export interface ParserReject {
  line: number;
  reason: string;
  raw: string;
}

export interface ParserSink {
  record(r: ParsedRecord): void;
  reject(r: ParserReject): void;
}

export const MAX_RECORD_BYTES = 1024 * 1024;

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;
const NUL = 0;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3; // saw a quote inside a quoted field: doubled quote or the closing one
const SKIP_LINE = 4; // malformed: skip to the end of the physical line

export const REASONS = {
  quoteInUnquoted: 'malformed: quote inside an unquoted field',
  afterClosingQuote: 'malformed: character after a closing quote',
  unterminated: 'malformed: quoted field not closed before the end of the file',
  oversize: (limit: number) => `record larger than ${limit === MAX_RECORD_BYTES ? '1 MiB' : `${limit} bytes`}`,
} as const;

export class CsvParser {
  private st = FIELD_START;
  private fields: string[] = [];
  /** current field content carried over from earlier chunks or cut at a doubled quote */
  private acc = '';
  /** current record's raw text carried over from earlier chunks */
  private rawAcc = '';
  private line = 1;
  private recLine = 1;
  /** the previous chunk ended with CR: an LF at the start of this one belongs to it */
  private afterCR = false;
  private nul = false;
  private bad: string | null = null;
  private oversize = false;
  /** chars of the current record seen so far (raw may have been dropped when oversize) */
  private recChars = 0;
  private inRecord = false;
  private ended = false;

  constructor(
    private readonly sink: ParserSink,
    private readonly maxRecordBytes = MAX_RECORD_BYTES,
  ) {}

  push(s: string): void {
    if (this.ended) throw new Error('CsvParser: push after end');
    const n = s.length;
    let i = 0;
    let st = this.st;
    let seg = 0; // start in s of field content not yet moved to acc
    let rawStart = 0; // start in s of the current record's raw

    if (this.afterCR && n > 0) {
      this.afterCR = false;
      if (s.charCodeAt(0) === LF) {
        // Second half of a CRLF that ended a record (or sits inside quotes: then it is content
        // and the line was already counted at the CR).
        if (st !== QUOTED) {
          i = 1;
          seg = 1;
          rawStart = 1;
        } else {
          i = 1;
        }
      }
    }

    while (i < n) {
      const c = s.charCodeAt(i);
      switch (st) {
        case FIELD_START:
          if (!this.inRecord) {
            this.inRecord = true;
            this.recLine = this.line;
            rawStart = i;
          }
          if (c === QUOTE) {
            st = QUOTED;
            i++;
            seg = i;
            continue;
          }
          st = UNQUOTED;
          seg = i;
          continue; // the character belongs to an unquoted field
        case UNQUOTED: {
          // hot loop: plain characters
          let j = i;
          let k = s.charCodeAt(j);
          while (k !== COMMA && k !== LF && k !== CR && k !== QUOTE && k !== NUL) {
            if (++j === n) break;
            k = s.charCodeAt(j);
          }
          if (j === n) {
            i = n;
            break;
          }
          if (k === NUL) {
            this.nul = true;
            i = j + 1;
            break;
          }
          if (k === COMMA) {
            this.fields.push(this.acc + s.slice(seg, j));
            this.acc = '';
            st = FIELD_START;
            i = j + 1;
            seg = i;
            continue;
          }
          if (k === QUOTE) {
            this.bad = REASONS.quoteInUnquoted;
            st = SKIP_LINE;
            i = j + 1;
            break;
          }
          // line break ends the record
          this.fields.push(this.acc + s.slice(seg, j));
          this.acc = '';
          i = this.endRecord(s, rawStart, j);
          st = FIELD_START;
          seg = rawStart = i;
          continue;
        }
        case QUOTED: {
          let j = i;
          let k = s.charCodeAt(j);
          while (k !== QUOTE) {
            if (k === LF) {
              if (j > 0 ? s.charCodeAt(j - 1) !== CR : true) this.line++;
            } else if (k === CR) this.line++;
            else if (k === NUL) this.nul = true;
            if (++j === n) break;
            k = s.charCodeAt(j);
          }
          if (j === n) {
            if (s.charCodeAt(n - 1) === CR) this.afterCR = true;
            i = n;
            break;
          }
          this.acc += s.slice(seg, j);
          st = QUOTE_IN_QUOTED;
          i = j + 1;
          seg = i;
          continue;
        }
        case QUOTE_IN_QUOTED:
          if (c === QUOTE) {
            // doubled quote: one literal quote, still inside
            this.acc += '"';
            st = QUOTED;
            i++;
            seg = i;
            continue;
          }
          if (c === COMMA) {
            this.fields.push(this.acc);
            this.acc = '';
            st = FIELD_START;
            i++;
            seg = i;
            continue;
          }
          if (c === LF || c === CR) {
            this.fields.push(this.acc);
            this.acc = '';
            i = this.endRecord(s, rawStart, i);
            st = FIELD_START;
            seg = rawStart = i;
            continue;
          }
          this.bad = REASONS.afterClosingQuote;
          st = SKIP_LINE;
          break;
        case SKIP_LINE: {
          let j = i;
          let k = s.charCodeAt(j);
          while (k !== LF && k !== CR) {
            if (++j === n) break;
            k = s.charCodeAt(j);
          }
          if (j === n) {
            i = n;
            break;
          }
          i = this.endRecord(s, rawStart, j);
          st = FIELD_START;
          seg = rawStart = i;
          continue;
        }
      }
    }

    // Carry the unfinished record over to the next chunk.
    if (this.inRecord) {
      if (st === UNQUOTED || st === QUOTED) this.acc += s.slice(seg, n);
      this.carryRaw(s, rawStart, n);
      // An oversize record is only followed to its end, not kept.
      if (this.oversize) {
        this.acc = '';
        this.fields = [];
      }
    }
    this.st = st;
  }

  /** End of input: an open record ends here. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.inRecord) return;
    if (this.st === QUOTED) {
      this.bad ??= REASONS.unterminated;
    } else if (this.st !== SKIP_LINE) {
      this.fields.push(this.acc);
    }
    this.acc = '';
    this.emit(this.rawAcc);
  }

  /** Lines seen so far (the physical line the parser is on). */
  get currentLine(): number {
    return this.line;
  }

  private carryRaw(s: string, from: number, to: number) {
    if (to <= from) return;
    this.recChars += to - from;
    if (this.oversize) return;
    // A UTF-16 unit is at least one UTF-8 byte: past the limit in units is past it in bytes.
    if (this.recChars > this.maxRecordBytes) {
      this.oversize = true;
      this.rawAcc = (this.rawAcc + s.slice(from, to)).slice(0, this.maxRecordBytes);
      this.acc = '';
      this.fields = [];
      return;
    }
    this.rawAcc += s.slice(from, to);
  }

  /** The record ends at the line break at `at`; returns the index after the break. */
  private endRecord(s: string, rawStart: number, at: number): number {
    const c = s.charCodeAt(at);
    this.line++;
    let next = at + 1;
    if (c === CR) {
      if (next < s.length) {
        if (s.charCodeAt(next) === LF) next++;
      } else this.afterCR = true;
    }
    let raw: string;
    if (this.rawAcc === '' && !this.oversize) {
      raw = s.slice(rawStart, at);
      this.recChars = at - rawStart;
    } else {
      this.carryRaw(s, rawStart, at);
      raw = this.rawAcc;
    }
    this.emit(raw);
    return next;
  }

  private emit(raw: string) {
    const line = this.recLine;
    const fields = this.fields;
    let oversize = this.oversize;
    if (!oversize && this.recChars * 3 > this.maxRecordBytes) oversize = Buffer.byteLength(raw, 'utf8') > this.maxRecordBytes;
    const bad = this.bad;
    const nul = this.nul;
    this.fields = [];
    this.acc = '';
    this.rawAcc = '';
    this.recChars = 0;
    this.nul = false;
    this.bad = null;
    this.oversize = false;
    this.inRecord = false;
    if (oversize) {
      this.sink.reject({ line, reason: REASONS.oversize(this.maxRecordBytes), raw });
      return;
    }
    if (bad) {
      this.sink.reject({ line, reason: bad, raw });
      return;
    }
    // A blank or whitespace-only line is not a record.
    if (fields.length === 1 && isBlank(raw)) return;
    this.sink.record({ fields, line, raw, hasNul: nul, oversize: false });
  }
}

function isBlank(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}
