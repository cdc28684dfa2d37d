import { KEY_MAX_BYTES } from '../db/key-limit';
import { InputError } from '../errors';
import { Reject } from './products';
import { SkuRecord, SkusCsv } from './skus';

function read(text: string, options: { readable?: boolean } = {}, cuts: number[] = []) {
  const out: { skus: SkuRecord[]; rejects: Reject[] } = { skus: [], rejects: [] };
  const csv = new SkusCsv({ sku: (s) => out.skus.push(s), reject: (r) => out.rejects.push(r) }, options);
  let at = 0;
  for (const cut of [...cuts, text.length]) {
    csv.push(text.slice(at, cut));
    at = cut;
  }
  csv.end();
  return out;
}

const S = (line: number, sku: string, record: number) => ({ line, sku, record });

test('a sku column alone, trimmed; blank lines skipped; the same whatever the chunking', () => {
  const text = 'SKU\r\n a-1 \r\n\r\n"b,2"\r\nc-3\r\n';
  const whole = read(text);
  expect(whole).toEqual({ skus: [S(2, 'a-1', 1), S(4, 'b,2', 2), S(5, 'c-3', 3)], rejects: [] });
  for (let cut = 1; cut < text.length; cut++) expect(read(text, {}, [cut])).toEqual(whole);
});

test('a products file is a file of skus: its other columns are ignored', () => {
  expect(read('name,sku,description\nAnn,a-1,"x, y"\n   ,b-2,no name\n').skus).toEqual([S(2, 'a-1', 1), S(3, 'b-2', 2)]);
});

test("rejects by the ingest's rules, each with its line and reason; the rest goes on", () => {
  const text = ['sku,note', 'a-1,ok', 'b-2', '   ,empty', 'c-3,nul\u0000here', 'd"4,x', 'e-5,fine'].join('\n');
  expect(read(text)).toEqual({
    skus: [S(2, 'a-1', 1), S(7, 'e-5', 6)],
    rejects: [
      { line: 3, reason: 'wrong number of fields: expected 2, got 1', raw: 'b-2' },
      { line: 4, reason: 'sku is empty', raw: '   ,empty' },
      { line: 5, reason: 'a field holds a NUL character', raw: 'c-3,nul\u0000here' },
      { line: 6, reason: 'malformed: quote inside an unquoted field', raw: 'd"4,x' },
    ],
  });
});

test('readable: every record whose sku can be read counts, whatever its other fields hold', () => {
  const text = ['name,sku,description', '   ,a-1,empty name', 'Bo,b-2,nul\u0000in description', 'Cy,c\u00003,nul in sku', 'Di,d-4', 'Ed,e-5,ok'].join('\n');
  expect(read(text, { readable: true })).toEqual({
    skus: [S(2, 'a-1', 1), S(3, 'b-2', 2), S(6, 'e-5', 5)],
    rejects: [
      { line: 4, reason: 'a field holds a NUL character', raw: 'Cy,c\u00003,nul in sku' },
      { line: 5, reason: 'wrong number of fields: expected 3, got 2', raw: 'Di,d-4' },
    ],
  });
});

test('a sku over KEY_MAX_BYTES in UTF-8 is rejected at its line, in readable mode too', () => {
  const over = 'é'.repeat(KEY_MAX_BYTES / 2) + 'x';
  const text = ['sku', 'é'.repeat(KEY_MAX_BYTES / 2), over, 'b-2'].join('\n');
  const reject = { line: 3, reason: `sku is longer than ${KEY_MAX_BYTES} bytes in UTF-8`, raw: over };
  expect(read(text)).toEqual({ skus: [S(2, 'é'.repeat(KEY_MAX_BYTES / 2), 1), S(4, 'b-2', 3)], rejects: [reject] });
  expect(read(text, { readable: true }).rejects).toEqual([reject]);
});

test('a header without sku, or naming it twice, or no header at all, is refused', () => {
  expect(() => read('name,code\nx,y\n')).toThrow(new InputError('the header (line 1) must name the column sku (found: "name","code")'));
  expect(() => read('sku,SKU\nx,y\n')).toThrow(new InputError('the header (line 1) names column "sku" twice'));
  expect(() => read('')).toThrow(new InputError('the file is empty: expected a header naming sku'));
});
