import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseDatasetSpec } from '../libs/dataset/spec';
import {
  addDecimals,
  aggregateRows,
  applyRecords,
  compareValues,
  decimalText,
  deleteKeys,
  ExpectedRows,
  instantMicros,
  parseDecimal,
  readCsvObjects,
} from './dataset-expect';
import { CHAOS_DATASET_YAML } from './dataset-files';

const spec = parseDatasetSpec(CHAOS_DATASET_YAML, 'chaos_events.yaml');
const [regionTotals, regionKinds] = spec.aggregates;

/** A record of the spec's columns (event_id, region, kind, amount, happened_at, tip, note), as csv-parse gives them. */
const rec = (event_id: string, region: string, kind: string, amount: string, happened_at: string, tip = '', note = '') => ({
  event_id,
  region,
  kind,
  amount,
  happened_at,
  tip,
  note,
});

describe('decimals, exactly', () => {
  test('every text of a value reads as that value; sums never go through a float', () => {
    for (const text of ['12.50', '12.5', '1250e-2', '12500E-3', '+12.50', '1.25e1']) expect(decimalText(parseDecimal(text))).toMatch(/^12\.50*$/);
    expect(decimalText(parseDecimal('-.5'))).toBe('-0.5');
    expect(decimalText(parseDecimal('1e3'))).toBe('1000');
    expect(decimalText(addDecimals(parseDecimal('0.1'), parseDecimal('0.2')))).toBe('0.3');
    expect(decimalText(addDecimals(parseDecimal('-12.50'), parseDecimal('2.5e0')))).toBe('-10.00');
    expect(() => parseDecimal('.')).toThrow('not a decimal');
  });

  test('numerics compare by value, not by text', () => {
    expect(compareValues('numeric', '1.50', '1.5')).toBe(0);
    expect(compareValues('numeric', '-2', '-.5')).toBe(-1);
    expect(compareValues('numeric', '1e2', '99.999')).toBe(1);
  });
});

describe('instants', () => {
  test('one instant in several offsets and forms is one value; no offset is UTC', () => {
    const utc = instantMicros('2024-05-01T07:15:00Z');
    expect(instantMicros('2024-05-01T09:15:00+02:00')).toBe(utc);
    expect(instantMicros('2024-05-01 09:15+02')).toBe(utc);
    expect(instantMicros('2024-05-01T00:15:00-0700')).toBe(utc);
    expect(instantMicros('2024-05-01T07:15')).toBe(utc);
    expect(instantMicros('2024-05-01')).toBe(BigInt(Date.UTC(2024, 4, 1)) * 1000n);
    expect(instantMicros('2024-05-01T07:15:00.000001Z') - utc).toBe(1n);
    expect(instantMicros('2024-05-01 07:15:00.25Z') - utc).toBe(250_000n);
  });

  test('timestamps compare by instant', () => {
    expect(compareValues('timestamp', '2024-05-01T09:15:00+02:00', '2024-05-01T07:15:00Z')).toBe(0);
    expect(compareValues('timestamp', '2024-05-01T09:00:00+05:30', '2024-05-01T04:00:00Z')).toBe(-1);
  });
});

describe('the rows', () => {
  test('the later record of a key wins; keys and groups trimmed; other text kept exactly; an empty optional field NULL', () => {
    const rows = applyRecords(spec, new Map(), [
      rec('ev-1', 'north', 'web', '1', '2024-01-01', '2', 'first'),
      rec('ev-2', ' south ', ' store', '2.50', '2024-01-02', '', '  spaced  '),
      rec('  ev-1 ', 'east', 'web', '3.0', '2024-01-03T10:00Z', ' ', ' '),
    ]);
    expect([...rows]).toEqual([
      ['ev-1', ['ev-1', 'east', 'web', '3.0', '2024-01-03T10:00Z', null, ' ']],
      ['ev-2', ['ev-2', 'south', 'store', '2.50', '2024-01-02', null, '  spaced  ']],
    ]);
  });

  test('a delete file removes its keys (trimmed); keys never there change nothing; the rows given are not changed', () => {
    const rows = applyRecords(spec, new Map(), [rec('ev-1', 'n', 'web', '1', '2024-01-01'), rec('ev-2', 'n', 'web', '1', '2024-01-01')]);
    const left = deleteKeys(spec, rows, [{ event_id: ' ev-1 ' }, { event_id: 'ev-never' }, { event_id: 'ev-1' }]);
    expect([...left.keys()]).toEqual(['ev-2']);
    expect(rows.size).toBe(2);
  });

  test("a file's header in any order and case, other columns ignored, quoted fields over lines", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dasy-chaos-expect-'));
    try {
      const file = path.join(dir, 'events.csv');
      fs.writeFileSync(file, 'Note,KIND,happened_at,ignored,event_id,Amount,region,tip\n"two\nlines",web,2024-01-01,x,ev-1,1.5,north,\n');
      const rows = applyRecords(spec, new Map(), readCsvObjects(file));
      expect(rows.get('ev-1')).toEqual(['ev-1', 'north', 'web', '1.5', '2024-01-01', null, 'two\nlines']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the aggregates', () => {
  const rows: ExpectedRows = applyRecords(spec, new Map(), [
    rec('a', 'north', 'web', '1.10', '2024-03-01T12:00:00+02:00', '1'),
    rec('b', 'north', 'web', '2.2e0', '2024-03-01T11:00:00Z', ''),
    rec('c', 'north', 'gift', '-5', '2024-01-01', ''),
    rec('d', 'south', 'gift', '7', '2024-06-01', ''),
  ]);

  test('count, an exact sum, min and max by value (an instant in any offset), NULLs ignored', () => {
    const groups = aggregateRows(spec, regionTotals, rows);
    // events, total_amount, first_at, largest_tip
    expect(groups.get('["north"]')).toEqual({ group: ['north'], measures: ['3', '-1.70', '2024-01-01', '1'] });
    expect(groups.get('["south"]')).toEqual({ group: ['south'], measures: ['1', '7', '2024-06-01', null] });
  });

  test('a composite group_by; a sum over NULLs alone is NULL; max over offsets picks the later instant', () => {
    const groups = aggregateRows(spec, regionKinds, rows);
    // events, total_tip, smallest_amount, last_at
    expect(groups.get('["north","web"]')).toEqual({ group: ['north', 'web'], measures: ['2', '1', '1.10', '2024-03-01T11:00:00Z'] });
    expect(groups.get('["north","gift"]')).toEqual({ group: ['north', 'gift'], measures: ['1', null, '-5', '2024-01-01'] });
    expect(groups.size).toBe(3);
  });

  test('a group whose rows all moved away or were deleted is gone', () => {
    const moved = applyRecords(spec, rows, [rec('d', 'north', 'web', '7', '2024-06-01')]);
    expect([...aggregateRows(spec, regionTotals, moved).keys()]).toEqual(['["north"]']);
    expect([...aggregateRows(spec, regionKinds, deleteKeys(spec, rows, [{ event_id: 'c' }])).keys()]).toEqual(['["north","web"]', '["south","gift"]']);
  });
});
