import { KEY_MAX_BYTES } from '../db/key-limit';
import type { DatasetSpec } from '../dataset/spec';
import { InputError } from '../errors';
import { DatasetCsv, DatasetRow, Reject } from './dataset';
import { ORDERS_SPEC as ORDERS } from '../dataset/test-specs';

const LINES: DatasetSpec = {
  name: 'lines',
  key: ['order_id', 'line_no'],
  columns: [
    { name: 'order_id', type: 'text', optional: false },
    { name: 'line_no', type: 'integer', optional: false },
    { name: 'region', type: 'text', optional: false },
    { name: 'shop', type: 'text', optional: false },
    { name: 'qty', type: 'integer', optional: true },
  ],
  aggregates: [{ name: 'by_shop', groupBy: ['region', 'shop'], measures: [{ name: 'n', fn: 'count' }] }],
};

type Out = { rows: DatasetRow[]; rejects: Reject[] };

/** Parse text split into chunks at the given offsets. */
function ingest(spec: DatasetSpec, text: string, cuts: number[] = []): Out {
  const out: Out = { rows: [], rejects: [] };
  const csv = new DatasetCsv(spec, { row: (r) => out.rows.push(r), reject: (r) => out.rejects.push(r) });
  let at = 0;
  for (const cut of [...cuts, text.length]) {
    csv.push(text.slice(at, cut));
    at = cut;
  }
  csv.end();
  return out;
}

/** Same result cut at every offset. */
function ingestEverywhere(spec: DatasetSpec, text: string): Out {
  const whole = ingest(spec, text);
  for (let cut = 1; cut < text.length; cut++) expect(ingest(spec, text, [cut])).toEqual(whole);
  return whole;
}

const row = (line: number, record: number, values: (string | null)[]) => ({ line, record, values });

describe('header', () => {
  test('any order and case, trimmed; other columns ignored; values in the spec order', () => {
    const text = ' NOTE ,Placed_At,extra,Amount,CUSTOMER,order_id\nhi,2024-01-05,x,1.5,ann,o-1\n';
    expect(ingestEverywhere(ORDERS, text)).toEqual({ rows: [row(2, 1, ['o-1', 'ann', '1.5', '2024-01-05T00:00:00+00:00', 'hi'])], rejects: [] });
  });

  test('missing columns are named', () => {
    expect(() => ingest(ORDERS, 'order_id,Amount,note\n')).toThrow(
      new InputError(
        'the header (line 1) must name the columns order_id, customer, amount, placed_at and note; missing: customer, placed_at (found: "order_id","Amount","note")',
      ),
    );
  });

  test('a column named twice is refused', () => {
    expect(() => ingest(LINES, 'order_id,line_no,region,shop,qty,Shop\n')).toThrow(new InputError('the header (line 1) names column "shop" twice'));
  });

  test('an empty file', () => {
    expect(() => ingest(ORDERS, '\n  \n')).toThrow(
      new InputError('the file is empty: expected a header naming order_id, customer, amount, placed_at and note'),
    );
  });
});

describe('rows', () => {
  test('CRLF input; text kept exactly, key and group_by trimmed; optional empty is null', () => {
    const text =
      'order_id,customer,amount,placed_at,note\r\n  o-1 ,  Ann Lee  , 7 ,2024-01-05 10:20Z,"  a, b \r\n c"\r\no-2,Bo,.5,2024-01-06T00:00:00+0100,\r\n';
    expect(ingestEverywhere(ORDERS, text)).toEqual({
      rows: [
        row(2, 1, ['o-1', 'Ann Lee', '7', '2024-01-05T10:20:00+00:00', '  a, b \r\n c']),
        row(4, 2, ['o-2', 'Bo', '.5', '2024-01-06T00:00:00+01:00', null]),
      ],
      rejects: [],
    });
  });

  test('a bad field rejects its record at its physical line with `column: reason`; the rest goes on', () => {
    const text =
      'order_id,customer,amount,placed_at,note\n' +
      'o-1,ann,"1\n",2024-01-05,"multi\nline"\n' + // amount: '1\n' trimmed to 1
      'o-2,ann,abc,2024-01-05,\n' +
      'o-3,ann,1,2024-01-05T24:00,\n' +
      ' ,ann,1,2024-01-05,\n' +
      'o-5,  ,1,2024-01-05,\n' +
      'o-6,ann,,2024-01-05,\n' +
      'o-7,ann,1,2024-01-05\n' +
      'o-8,ann,1,2024-02-29,"x\u0000"\n' +
      'o-9,ann,1,2023-02-29,\n';
    const out = ingestEverywhere(ORDERS, text);
    expect(out.rows).toEqual([row(2, 1, ['o-1', 'ann', '1', '2024-01-05T00:00:00+00:00', 'multi\nline'])]);
    expect(out.rejects).toEqual([
      { line: 5, reason: 'amount: is not a number', raw: 'o-2,ann,abc,2024-01-05,' },
      { line: 6, reason: 'placed_at: is not an ISO 8601 timestamp', raw: 'o-3,ann,1,2024-01-05T24:00,' },
      { line: 7, reason: 'order_id: is empty', raw: ' ,ann,1,2024-01-05,' },
      { line: 8, reason: 'customer: is empty', raw: 'o-5,  ,1,2024-01-05,' },
      { line: 9, reason: 'amount: is empty', raw: 'o-6,ann,,2024-01-05,' },
      { line: 10, reason: 'wrong number of fields: expected 5, got 4', raw: 'o-7,ann,1,2024-01-05' },
      { line: 11, reason: 'a field holds a NUL character', raw: 'o-8,ann,1,2024-02-29,"x\u0000"' },
      { line: 12, reason: 'placed_at: is not an ISO 8601 timestamp', raw: 'o-9,ann,1,2023-02-29,' },
    ]);
  });

  test('the first failing column in the spec order is the reason', () => {
    expect(ingest(ORDERS, 'note,placed_at,amount,customer,order_id\nx,bad,bad,ann,o-1\n').rejects).toEqual([
      { line: 2, reason: 'amount: is not a number', raw: 'x,bad,bad,ann,o-1' },
    ]);
  });

  test('integers canonical; an integer out of range rejected', () => {
    const text = 'order_id,line_no,region,shop,qty\na,+007,eu,s1,-9223372036854775808\na,8,eu,s1,9223372036854775808\na,9,eu,s1,\n';
    expect(ingest(LINES, text)).toEqual({
      rows: [row(2, 1, ['a', '7', 'eu', 's1', '-9223372036854775808']), row(4, 3, ['a', '9', 'eu', 's1', null])],
      rejects: [{ line: 3, reason: 'qty: is out of the 64-bit integer range', raw: 'a,8,eu,s1,9223372036854775808' }],
    });
  });
});

describe('key limits', () => {
  const half = KEY_MAX_BYTES / 2;

  test('a single key at the limit is accepted, one byte over rejected', () => {
    const at = 'k'.repeat(KEY_MAX_BYTES);
    const text = `order_id,customer,amount,placed_at,note\n${at},ann,1,2024-01-05,\n${at}é,ann,1,2024-01-05,\n`;
    const out = ingest(ORDERS, text);
    expect(out.rows.map((r) => r.line)).toEqual([2]);
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([[3, 'key (order_id): longer than 2000 bytes in UTF-8']]);
  });

  test("a composite key's and a group's values count together", () => {
    // line_no is canonical '1': order_id may take the rest of the key's bytes
    const fits = 'o'.repeat(KEY_MAX_BYTES - 1);
    const text =
      'order_id,line_no,region,shop,qty\n' +
      `${fits},1,r,s,\n` +
      `${fits},10,r,s,\n` +
      `a,1,${'r'.repeat(half)},${'s'.repeat(half)},\n` +
      `a,1,${'r'.repeat(half)},${'s'.repeat(half)}€,\n` +
      `a,1,  ${'r'.repeat(half)}  , ${'s'.repeat(half)} ,\n`;
    const out = ingest(LINES, text);
    expect(out.rows.map((r) => r.line)).toEqual([2, 4, 6]);
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, 'key (order_id, line_no): longer than 2000 bytes in UTF-8'],
      [5, 'by_shop.group_by (region, shop): longer than 2000 bytes in UTF-8'],
    ]);
  });
});
