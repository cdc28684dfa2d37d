import * as fc from 'fast-check';
import { fuzzParams, fuzzTimeout } from '../../test/fuzz';
import { InputError } from '../errors';
import { MAX_RECORD_BYTES, REASONS } from './parser';
import { Product, ProductsCsv, Reject } from './products';
import { CsvBytes } from './reader';

/**
 * Properties of the products CSV reader over arbitrary bytes: it never throws except to refuse a
 * file without a usable header (InputError); every record comes out once, accepted or rejected
 * with the physical line it starts on; and the outcome is the same however the bytes are cut into
 * chunks (inside a UTF-8 character, between CR and LF, inside quotes...).
 */
type Outcome = { products: Omit<Product, 'record'>[]; rejects: Omit<Reject, 'raw'>[]; refused?: string };

function read(bytes: Buffer, cuts: number[], maxRecordBytes = MAX_RECORD_BYTES): Outcome {
  const out: Outcome = { products: [], rejects: [] };
  const csv = new ProductsCsv(
    {
      product: ({ record: _r, ...p }) => out.products.push(p),
      reject: ({ raw: _raw, ...r }) => out.rejects.push(r),
    },
    maxRecordBytes,
  );
  const input = new CsvBytes(csv);
  try {
    let at = 0;
    for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
      input.push(bytes.subarray(at, cut));
      at = cut;
    }
    input.push(bytes.subarray(at));
    input.end();
  } catch (err) {
    if (!(err instanceof InputError)) throw err; // anything else is a defect
    out.refused = err.message;
  }
  return out;
}

/** The same outcome for the whole buffer, for `cuts`, and for one byte at a time. */
function readEveryWay(bytes: Buffer, cuts: number[], maxRecordBytes?: number): Outcome {
  const whole = read(bytes, [], maxRecordBytes);
  expect(read(bytes, cuts, maxRecordBytes)).toEqual(whole);
  expect(
    read(
      bytes,
      Array.from({ length: bytes.length }, (_, i) => i),
      maxRecordBytes,
    ),
  ).toEqual(whole);
  return whole;
}

/** Physical line (1-based) of each offset of `text`: LF, CRLF and a lone CR each end a line. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) starts.push(i + 1);
  }
  return starts;
}

const CHARS = ['a', 'Z', ' ', '\t', '"', ',', '\n', '\r', '\u0000', 'é', '€', '🎉', '\ufeff', '\u00a0'];
const field = fc.oneof(fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 6 }));
const eol = fc.constantFrom('\n', '\r\n', '\r');
const RUNS = 150;

/** A well-formed file from records we choose: the expected outcome follows from the rules alone. */
const wellFormed = fc.record({
  order: fc.shuffledSubarray([0, 1, 2] as const, { minLength: 3, maxLength: 3 }),
  upper: fc.boolean(),
  bom: fc.boolean(),
  records: fc.array(
    fc.record({
      fields: fc.array(field, { minLength: 2, maxLength: 4 }),
      quote: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      eol,
      blankBefore: fc.constantFrom('', '', '', ' ', '\t \t'),
    }),
    { maxLength: 8 },
  ),
  finalEol: fc.boolean(),
  limit: fc.constantFrom(MAX_RECORD_BYTES, 40, 64),
});

const quoted = (f: string) => `"${f.replace(/"/g, '""')}"`;
const needsQuotes = (f: string) => /[",\r\n]/.test(f);

test(
  'well-formed files: every record accepted or rejected by the rules, on the line it starts, whatever the chunks',
  () => {
    fc.assert(
      fc.property(wellFormed, fc.array(fc.nat(), { maxLength: 6 }), (file, cuts) => {
        const COLUMNS = ['name', 'sku', 'description'];
        let text = file.order.map((c) => (file.upper ? COLUMNS[c].toUpperCase() : COLUMNS[c])).join(',') + '\n';
        const expected: Outcome = { products: [], rejects: [] };
        for (const [k, r] of file.records.entries()) {
          // the text as the reader will see it: invalid UTF-16 becomes U+FFFD on the way through UTF-8
          const fields = r.fields.map((f) => Buffer.from(f).toString());
          if (r.blankBefore) text += r.blankBefore + r.eol;
          const raw = fields.map((f, i) => (r.quote[i] || needsQuotes(f) ? quoted(f) : f)).join(',');
          const line = lineStarts(text).length;
          text += raw + (k < file.records.length - 1 || file.finalEol ? r.eol : '');
          const reject = (reason: string) => expected.rejects.push({ line, reason });
          if (Buffer.byteLength(raw) > file.limit) reject(REASONS.oversize(file.limit));
          else if (fields.length !== 3) reject(`wrong number of fields: expected 3, got ${fields.length}`);
          else if (fields.some((f) => f.includes('\u0000'))) reject('a field holds a NUL character');
          else {
            const byColumn = (c: number) => fields[file.order.indexOf(c as 0 | 1 | 2)];
            const [name, sku, description] = [byColumn(0).trim(), byColumn(1).trim(), byColumn(2)];
            if (!sku) reject('sku is empty');
            else if (!name) reject('name is empty');
            else expected.products.push({ line, sku, name, description });
          }
        }
        const bytes = Buffer.concat([file.bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text)]);
        expect(readEveryWay(bytes, cuts, file.limit)).toEqual(expected);
      }),
      fuzzParams(RUNS),
    );
  },
  fuzzTimeout(RUNS, 20000),
);

const header = Buffer.from('name,sku,description\r\n');
/** Any bytes, with a bias to the ones CSV cares about. */
const anyBytes = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x22, 0x2c, 0x0a, 0x0d, 0x20, 0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac)), {
  maxLength: 300,
});

test(
  'any bytes after a valid header: never throws, lines strictly increase within the file, same outcome however chunked',
  () => {
    fc.assert(
      fc.property(anyBytes, fc.array(fc.nat(), { maxLength: 6 }), fc.constantFrom(MAX_RECORD_BYTES, 24), (body, cuts, limit) => {
        const bytes = Buffer.concat([header, Buffer.from(body)]);
        const out = readEveryWay(bytes, cuts, limit);
        expect(out.refused).toBeUndefined();
        const lines = [...out.products.map((p) => p.line), ...out.rejects.map((r) => r.line)].sort((a, b) => a - b);
        expect(new Set(lines).size).toBe(lines.length); // one outcome per record
        const text = bytes.toString();
        const physical = lineStarts(text);
        for (const l of lines) expect(l >= 2 && l <= physical.length).toBe(true);
        if (!text.includes('"')) {
          // without quotes a record is a physical line: every line that is not blank comes out
          const nonBlank = physical
            .map((start, i) => ({ line: i + 1, content: text.slice(start, physical[i + 1] ?? text.length).replace(/\r?\n?$|\r$/, '') }))
            .filter((l) => l.line >= 2 && !/^[ \t]*$/.test(l.content))
            .map((l) => l.line);
          expect(lines).toEqual(nonBlank);
        }
      }),
      fuzzParams(RUNS * 2),
    );
  },
  fuzzTimeout(RUNS * 2, 20000),
);

test(
  'any bytes at all: the file is read or refused (InputError) the same way however chunked',
  () => {
    fc.assert(
      fc.property(anyBytes, fc.array(fc.nat(), { maxLength: 6 }), (body, cuts) => {
        readEveryWay(Buffer.from(body), cuts);
      }),
      fuzzParams(RUNS * 2),
    );
  },
  fuzzTimeout(RUNS * 2, 20000),
);
