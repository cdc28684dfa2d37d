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
const LINE_BREAK = 5; // the line break at the current index ends the record (never carried over)

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
  /** in the current chunk: where the next quote, CR and NUL are from where the fast path looked last (s.length: none) */
  private quoteAt = -1;
  private crAt = -1;
  private nulAt = -1;

  constructor(
    private readonly sink: ParserSink,
    private readonly maxRecordBytes = MAX_RECORD_BYTES,
  ) {}

  /** The state machine over one chunk; a record still open at its end is carried over. */
  push(s: string): void {
    if (this.ended) throw new Error('CsvParser: push after end');
    const n = s.length;
    let st = this.st;
    let i = this.lfAfterCR(s) ? 1 : 0;
    // That LF is the second half of a CRLF that ended a record (or sits inside quotes: then it is
    // content and the line was already counted at the CR).
    let seg = st === QUOTED ? 0 : i; // start in s of field content not yet moved to acc
    let rawStart = seg; // start in s of the current record's raw
    this.quoteAt = this.crAt = this.nulAt = -1;

    while (i < n) {
      switch (st) {
        case FIELD_START:
          if (!this.inRecord) {
            const next = this.plainLine(s, i);
            if (next >= 0) {
              seg = rawStart = i = next;
              continue;
            }
            this.inRecord = true;
            this.recLine = this.line;
            rawStart = i;
          }
          if (s.charCodeAt(i) === QUOTE) {
            st = QUOTED;
            seg = ++i;
          } else {
            st = UNQUOTED; // the character belongs to an unquoted field
            seg = i;
          }
          continue;
        case UNQUOTED: {
          const j = unquotedEnd(s, i);
          const k = s.charCodeAt(j); // NaN at the end of the chunk
          if (k === COMMA) {
            this.endField(s.slice(seg, j));
            st = FIELD_START;
            i = j + 1;
          } else if (k === LF || k === CR) {
            this.endField(s.slice(seg, j));
            st = LINE_BREAK;
            i = j;
          } else if (k === NUL) {
            this.nul = true;
            i = j + 1;
          } else if (k === QUOTE) {
            this.bad = REASONS.quoteInUnquoted;
            st = SKIP_LINE;
            i = j + 1;
          } else i = n;
          continue;
        }
        case QUOTED: {
          const j = this.quotedEnd(s, i);
          if (j === n) {
            i = n;
            continue;
          }
          this.acc += s.slice(seg, j);
          st = QUOTE_IN_QUOTED;
          seg = i = j + 1;
          continue;
        }
        case QUOTE_IN_QUOTED:
          st = this.afterQuote(s.charCodeAt(i));
          if (st !== LINE_BREAK && st !== SKIP_LINE) seg = ++i;
          continue;
        case SKIP_LINE:
          i = lineEnd(s, i);
          if (i < n) st = LINE_BREAK;
          continue;
        case LINE_BREAK:
          seg = rawStart = i = this.endRecord(s, rawStart, i);
          st = FIELD_START;
          continue;
      }
    }
    this.carryOver(s, st, seg, rawStart);
    this.st = st;
  }

  /**
   * The fast path, for a whole line from `i` with no quote, NUL or lone CR in it (most records):
   * its fields are what split(',') gives, found by the engine's own scans instead of character by
   * character. Returns the index after the line, or -1 when the state machine must read it.
   */
  private plainLine(s: string, i: number): number {
    const lf = s.indexOf('\n', i);
    if (lf < 0 || (lf - i) * 3 > this.maxRecordBytes) return -1;
    if (this.quoteAt < i) this.quoteAt = indexOrEnd(s, '"', i);
    if (this.nulAt < i) this.nulAt = indexOrEnd(s, '\u0000', i);
    if (this.quoteAt < lf || this.nulAt < lf) return -1;
    if (this.crAt < i) this.crAt = indexOrEnd(s, '\r', i);
    let end = lf;
    if (this.crAt < lf) {
      if (this.crAt !== lf - 1) return -1; // a lone CR ends a line of its own
      end = lf - 1; // CRLF
    }
    const raw = s.slice(i, end);
    this.inRecord = true;
    this.recLine = this.line++;
    this.recChars = end - i;
    this.fields = raw.split(',');
    this.emit(raw);
    return lf + 1;
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

  /** The chunk starts with the LF of a CRLF whose CR ended the previous chunk. */
  private lfAfterCR(s: string): boolean {
    if (!this.afterCR || s.length === 0) return false;
    this.afterCR = false;
    return s.charCodeAt(0) === LF;
  }

  /**
   * The index of the quote that ends (or doubles) a quoted field's run of content from `i`, or
   * s.length; counts the line breaks and notes the NULs it passes.
   */
  private quotedEnd(s: string, i: number): number {
    const n = s.length;
    let j = i;
    let k = s.charCodeAt(j);
    while (k !== QUOTE) {
      if (k === LF) {
        if (j > 0 ? s.charCodeAt(j - 1) !== CR : true) this.line++;
      } else if (k === CR) this.line++;
      else if (k === NUL) this.nul = true;
      if (++j === n) {
        if (k === CR) this.afterCR = true;
        break;
      }
      k = s.charCodeAt(j);
    }
    return j;
  }

  /** After a quote inside a quoted field, the character `c` decides: the state that follows. */
  private afterQuote(c: number): number {
    if (c === QUOTE) {
      // doubled quote: one literal quote, still inside
      this.acc += '"';
      return QUOTED;
    }
    if (c === COMMA || c === LF || c === CR) {
      this.endField('');
      return c === COMMA ? FIELD_START : LINE_BREAK;
    }
    this.bad = REASONS.afterClosingQuote;
    return SKIP_LINE;
  }

  /** The current field ends with `tail` (after what acc holds). */
  private endField(tail: string) {
    this.fields.push(this.acc + tail);
    this.acc = '';
  }

  /** Carry the unfinished record over to the next chunk. */
  private carryOver(s: string, st: number, seg: number, rawStart: number) {
    if (!this.inRecord) return;
    if (st === UNQUOTED || st === QUOTED) this.acc += s.slice(seg);
    this.carryRaw(s, rawStart, s.length);
    // An oversize record is only followed to its end, not kept.
    if (this.oversize) {
      this.acc = '';
      this.fields = [];
    }
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

/**
 * The hot loop (plain characters): the index of the first character from `i` that ends an unquoted
 * run (a comma, a line break, a quote, a NUL), or s.length.
 */
function unquotedEnd(s: string, i: number): number {
  const n = s.length;
  let j = i;
  let k = s.charCodeAt(j);
  while (k !== COMMA && k !== LF && k !== CR && k !== QUOTE && k !== NUL) {
    if (++j === n) break;
    k = s.charCodeAt(j);
  }
  return j;
}

/** The index of `c` from `i`, or s.length when there is none. */
function indexOrEnd(s: string, c: string, i: number): number {
  const at = s.indexOf(c, i);
  return at < 0 ? s.length : at;
}

/** The index of the first line break (LF or CR) from `i`, or s.length. */
function lineEnd(s: string, i: number): number {
  const n = s.length;
  let j = i;
  let k = s.charCodeAt(j);
  while (k !== LF && k !== CR) {
    if (++j === n) break;
    k = s.charCodeAt(j);
  }
  return j;
}

function isBlank(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}
