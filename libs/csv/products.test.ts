import { parse } from 'csv-parse/sync';
import { KEY_MAX_BYTES } from '../db/key-limit';
import { InputError } from '../errors';
import { CsvParser, ParsedRecord, ParserReject } from './parser';
import { Product, ProductsCsv, Reject } from './products';

type Out = { products: Omit<Product, 'record'>[]; rejects: Reject[] };

/** Parse text split into chunks at the given offsets. */
function ingest(text: string, cuts: number[] = []): Out {
  const out: Out = { products: [], rejects: [] };
  const csv = new ProductsCsv({
    product: ({ record: _r, ...p }) => out.products.push(p),
    reject: (r) => out.rejects.push(r),
  });
  let at = 0;
  for (const cut of [...cuts, text.length]) {
    csv.push(text.slice(at, cut));
    at = cut;
  }
  csv.end();
  return out;
}

/** Same result whatever the chunking: every single cut, and one-character chunks. */
function ingestEverywhere(text: string): Out {
  const whole = ingest(text);
  for (let cut = 1; cut < text.length; cut++) expect(ingest(text, [cut])).toEqual(whole);
  expect(
    ingest(
      text,
      Array.from({ length: text.length - 1 }, (_, i) => i + 1),
    ),
  ).toEqual(whole);
  return whole;
}

const P = (line: number, sku: string, name: string, description: string) => ({ line, sku, name, description });

describe('accepted records', () => {
  test('quoted commas, doubled quotes, multi-line descriptions', () => {
    const text =
      'name,sku,description\n' + 'Ann Lee,a-b,"one, two"\n' + 'Bo Li,c-d,"say ""hi"""\n' + 'Cy Ma,e-f,"first line\nsecond line"\n' + 'Di Ng,g-h,plain\n';
    expect(ingestEverywhere(text)).toEqual({
      products: [
        P(2, 'a-b', 'Ann Lee', 'one, two'),
        P(3, 'c-d', 'Bo Li', 'say "hi"'),
        P(4, 'e-f', 'Cy Ma', 'first line\nsecond line'),
        P(6, 'g-h', 'Di Ng', 'plain'),
      ],
      rejects: [],
    });
  });

  test('CRLF line ends, CRLF inside quotes kept exactly, lone CR counted as a line', () => {
    const text = 'name,sku,description\r\nAnn,a,"x\r\ny"\r\nBo,b,z\rCy,c,w\r\n';
    expect(ingestEverywhere(text)).toEqual({
      products: [P(2, 'a', 'Ann', 'x\r\ny'), P(4, 'b', 'Bo', 'z'), P(5, 'c', 'Cy', 'w')],
      rejects: [],
    });
  });

  test('blank and whitespace-only lines are ignored but counted', () => {
    const text = '\nname,sku,description\n\n  \nAnn,a,x\n\n\nBo,b,y';
    expect(ingestEverywhere(text)).toEqual({ products: [P(5, 'a', 'Ann', 'x'), P(8, 'b', 'Bo', 'y')], rejects: [] });
  });

  test('columns in any order and case; extra columns ignored; sku and name trimmed, description exact', () => {
    const text = 'Description, SKU ,extra,NAME\n  spaced desc ,  a-b  ,zzz,  Ann Lee \n';
    expect(ingestEverywhere(text)).toEqual({ products: [P(2, 'a-b', 'Ann Lee', '  spaced desc ')], rejects: [] });
  });

  test('a last record without a line break', () => {
    expect(ingest('name,sku,description\nAnn,a,"x"').products).toEqual([P(2, 'a', 'Ann', 'x')]);
  });

  test('empty description is allowed', () => {
    expect(ingest('name,sku,description\nAnn,a,\nBo,b,""\n').products).toEqual([P(2, 'a', 'Ann', ''), P(3, 'b', 'Bo', '')]);
  });

  test('non-ASCII text survives', () => {
    expect(ingest('name,sku,description\nZoë Ñúñez,sku-é,"日本語, 🙂"\n').products).toEqual([P(2, 'sku-é', 'Zoë Ñúñez', '日本語, 🙂')]);
  });
});

describe('rejected records, each with its line and reason; the rest goes on', () => {
  test('every reason', () => {
    const text = [
      'name,sku,description', // 1
      'Ann,a,ok', // 2
      'Bo,b', // 3 too few
      'Cy,c,x,y', // 4 too many
      'Di,   ,x', // 5 empty sku
      '  ,e,x', // 6 empty name
      'Ed,f,has\u0000nul', // 7 NUL
      'Fi,g"h,x', // 8 quote in unquoted
      'Gu,"h"x,y', // 9 after closing quote
      'Ha,i,"multi', // 10 quoted field spanning lines 10-11
      'line ok"', // 11
      'Io,j,fine', // 12
    ].join('\n');
    expect(ingestEverywhere(text)).toEqual({
      products: [P(2, 'a', 'Ann', 'ok'), P(10, 'i', 'Ha', 'multi\nline ok'), P(12, 'j', 'Io', 'fine')],
      rejects: [
        { line: 3, reason: 'wrong number of fields: expected 3, got 2', raw: 'Bo,b' },
        { line: 4, reason: 'wrong number of fields: expected 3, got 4', raw: 'Cy,c,x,y' },
        { line: 5, reason: 'sku is empty', raw: 'Di,   ,x' },
        { line: 6, reason: 'name is empty', raw: '  ,e,x' },
        { line: 7, reason: 'a field holds a NUL character', raw: 'Ed,f,has\u0000nul' },
        { line: 8, reason: 'malformed: quote inside an unquoted field', raw: 'Fi,g"h,x' },
        { line: 9, reason: 'malformed: character after a closing quote', raw: 'Gu,"h"x,y' },
      ],
    });
  });

  test('a NUL inside a quoted field', () => {
    expect(ingest('name,sku,description\nAnn,a,"x\u0000"\n').rejects).toEqual([{ line: 2, reason: 'a field holds a NUL character', raw: 'Ann,a,"x\u0000"' }]);
  });

  test('an unterminated quote swallows the rest of the file into one rejected record', () => {
    const text = 'name,sku,description\nAnn,a,x\nBo,b,"open\nCy,c,z\n';
    expect(ingestEverywhere(text)).toEqual({
      products: [P(2, 'a', 'Ann', 'x')],
      rejects: [{ line: 3, reason: 'malformed: quoted field not closed before the end of the file', raw: 'Bo,b,"open\nCy,c,z\n' }],
    });
  });

  test('a record over the size limit is rejected, the next one accepted, memory bounded', () => {
    const out: { p: Product[]; r: Reject[] } = { p: [], r: [] };
    const csv = new ProductsCsv({ product: (p) => out.p.push(p), reject: (r) => out.r.push(r) }, 1000);
    csv.push('name,sku,description\nAnn,a,"');
    for (let i = 0; i < 50; i++) csv.push('x'.repeat(100) + '\n');
    csv.push('"\nBo,b,fine\n');
    csv.end();
    expect(out.p.map((p) => [p.line, p.sku])).toEqual([[53, 'b']]);
    expect(out.r.map((r) => [r.line, r.reason, r.raw.length])).toEqual([[2, 'record larger than 1000 bytes', 1000]]);
  });

  test('the size limit counts UTF-8 bytes, not characters', () => {
    const rejects: Reject[] = [];
    const csv = new ProductsCsv({ product: () => undefined, reject: (r) => rejects.push(r) }, 100);
    csv.push('name,sku,description\nAnn,a,' + 'é'.repeat(46) + '\nBo,b,' + 'é'.repeat(47) + '\n'); // 6+92=98 bytes; 5+94=99 ok... then
    csv.push('Cy,c,' + 'é'.repeat(48) + '\n'); // 5 + 96 = 101 bytes
    csv.end();
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([[4, 'record larger than 100 bytes']]);
  });
});

describe('keys PostgreSQL can index: a sku or a name over KEY_MAX_BYTES in UTF-8 is rejected at its line', () => {
  test('the limit counts UTF-8 bytes after trimming; one byte over is rejected, exactly at it accepted', () => {
    const at = 'k'.repeat(KEY_MAX_BYTES);
    const over = 'k'.repeat(KEY_MAX_BYTES + 1);
    const wide = 'é'.repeat(KEY_MAX_BYTES / 2); // 2 bytes each: exactly the limit
    const text = [
      'name,sku,description',
      `Ann,  ${at}  ,fits`, // 2: trimmed first
      `Bo,${over},sku over`, // 3
      `${over},c,name over`, // 4
      `${wide},d,wide name fits`, // 5
      `${wide}é,e,wide name over`, // 6
      `Cy,${'😀'.repeat(KEY_MAX_BYTES / 4)}x,four-byte sku over`, // 7: 501 characters, 2001 bytes
      'Di,f,after them', // 8
    ].join('\n');
    const out = ingest(text);
    expect(out.products.map((p) => [p.line, p.sku.length, p.name.length])).toEqual([
      [2, KEY_MAX_BYTES, 3],
      [5, 1, KEY_MAX_BYTES / 2],
      [8, 1, 2],
    ]);
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, `sku is longer than ${KEY_MAX_BYTES} bytes in UTF-8`],
      [4, `name is longer than ${KEY_MAX_BYTES} bytes in UTF-8`],
      [6, `name is longer than ${KEY_MAX_BYTES} bytes in UTF-8`],
      [7, `sku is longer than ${KEY_MAX_BYTES} bytes in UTF-8`],
    ]);
  });

  test('a description is not a key: any length up to the record limit', () => {
    expect(ingest(`name,sku,description\nAnn,a,${'d'.repeat(10 * KEY_MAX_BYTES)}\n`).products.map((p) => p.description.length)).toEqual([10 * KEY_MAX_BYTES]);
  });
});

describe('the header', () => {
  test.each([
    ['name,sku\nAnn,a\n', 'the header (line 1) must name the columns name, sku and description; missing: description (found: "name","sku")'],
    ['\n\nfoo,bar,baz\n', 'the header (line 3) must name the columns name, sku and description; missing: name, sku, description (found: "foo","bar","baz")'],
    ['', 'the file is empty: expected a header naming name, sku and description'],
    ['name,sku,sku,description\n', 'the header (line 1) names column "sku" twice'],
    ['name,"sku"x,description\n', 'the header (line 1) is unreadable: malformed: character after a closing quote'],
  ])('%j is refused at once', (text, message) => {
    expect(() => ingest(text)).toThrow(new InputError(message));
  });
});

test('the parser agrees with csv-parse on well-formed input (independent oracle)', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pick = (s: string) => s[Math.floor(rnd() * s.length)];
  const field = () => {
    const len = Math.floor(rnd() * 12);
    let f = '';
    for (let i = 0; i < len; i++) f += pick('abc XYZ,"\n\r\t-é');
    return /[,"\n\r]/.test(f) || rnd() < 0.2 ? '"' + f.replace(/"/g, '""') + '"' : f;
  };
  const lines: string[] = [];
  for (let i = 0; i < 2000; i++) lines.push([field(), field(), field()].join(','));
  const eol = rnd() < 0.5 ? '\r\n' : '\n';
  const text = lines.join(eol) + eol;
  const ours: string[][] = [];
  const sink = { record: (r: ParsedRecord) => ours.push(r.fields), reject: (r: ParserReject) => ours.push(['REJECT', r.reason]) };
  const p = new CsvParser(sink);
  for (let at = 0; at < text.length; at += 97) p.push(text.slice(at, at + 97));
  p.end();
  const theirs: string[][] = parse(text, { relax_column_count: true, skip_empty_lines: false });
  // csv-parse keeps whitespace-only single-field lines; we skip them (blank lines).
  expect(ours).toEqual(theirs.filter((r) => !(r.length === 1 && /^[ \t]*$/.test(r[0]))));
});

test('line numbers match a text editor on a file of multi-line records', () => {
  const recs: ParsedRecord[] = [];
  const p = new CsvParser({ record: (r) => recs.push(r), reject: () => undefined });
  p.push('h\n"a\nb\r\nc"\n\r\n"d"\rx\n');
  p.end();
  expect(recs.map((r) => [r.line, r.fields])).toEqual([
    [1, ['h']],
    [2, ['a\nb\r\nc']],
    [6, ['d']],
    [7, ['x']],
  ]);
});
