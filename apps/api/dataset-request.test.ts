import { DatasetSpec } from '../../libs/dataset/spec';
import { encodeCursor } from './dataset-cursor';
import { aggregateOf, aggregateRead, DATASET_PAGE_DEFAULT, keyFromQuery, pageLimit, rowsPage, singleKey, urlName } from './dataset-request';
import { ApiError } from './validate';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { status: err.statusCode, code: err.code, field: err.field };
  }
  throw new Error('expected a refusal');
};

const spec: DatasetSpec = {
  name: 'visits',
  key: ['site', 'day'],
  columns: [
    { name: 'site', type: 'text', optional: false },
    { name: 'day', type: 'date', optional: false },
    { name: 'hits', type: 'integer', optional: true },
  ],
  aggregates: [
    {
      name: 'by_site',
      groupBy: ['site'],
      measures: [
        { name: 'n', fn: 'count' },
        { name: 'total', fn: 'sum', column: 'hits' },
      ],
    },
    { name: 'by_site_day', groupBy: ['site', 'day'], measures: [{ name: 'top', fn: 'max', column: 'hits' }] },
  ],
};
const [bySite, bySiteDay] = spec.aggregates;

test('names of the URL: the spec pattern, else a 404 naming them', () => {
  expect(urlName('orders_2', 'name')).toBe('orders_2');
  for (const bad of ['Orders', '2x', '', 'a-b', 'x'.repeat(41), 'a"b', 'a;drop'])
    expect(refusal(() => urlName(bad, 'name'))).toEqual({ status: 404, code: 'not_found', field: 'name' });
  expect(aggregateOf(spec, 'by_site')).toBe(bySite);
  expect(refusal(() => aggregateOf(spec, 'nope'))).toEqual({ status: 404, code: 'not_found', field: 'aggregate' });
  expect(refusal(() => aggregateOf(spec, 'No'))).toEqual({ status: 404, code: 'not_found', field: 'aggregate' });
});

test('keys: /rows/:key for a one-column key only; /row wants every key column, trimmed', () => {
  expect(refusal(() => singleKey(spec, 'a'))).toEqual({ status: 400, code: 'composite_key', field: 'key' });
  expect(singleKey({ ...spec, key: ['site'] }, ' a ')).toEqual(['a']);
  expect(refusal(() => singleKey({ ...spec, key: ['site'] }, ' '))).toEqual({ status: 400, code: 'empty', field: 'site' });
  expect(keyFromQuery(spec, { day: '2024-01-05', site: ' s1 ', other: 'x' })).toEqual(['s1', '2024-01-05']);
  expect(refusal(() => keyFromQuery(spec, { site: 's1' }))).toEqual({ status: 400, code: 'missing', field: 'day' });
  expect(refusal(() => keyFromQuery(spec, { site: ['a', 'b'], day: 'x' }))).toEqual({ status: 400, code: 'invalid_type', field: 'site' });
  expect(refusal(() => keyFromQuery(spec, { site: 'a\u0000', day: 'x' }))).toEqual({ status: 400, code: 'invalid_value', field: 'site' });
});

test('limit: default 100, 1 to 1000', () => {
  expect([pageLimit(undefined), pageLimit(''), pageLimit('1'), pageLimit('1000')]).toEqual([DATASET_PAGE_DEFAULT, DATASET_PAGE_DEFAULT, 1, 1000]);
  for (const [value, code] of [
    ['0', 'out_of_range'],
    ['1001', 'out_of_range'],
    ['-1', 'invalid_value'],
    ['1.5', 'invalid_value'],
    ['abc', 'invalid_value'],
    ['1'.repeat(12), 'invalid_value'],
  ])
    expect(refusal(() => pageLimit(value))).toEqual({ status: 400, code, field: 'limit' });
  expect(refusal(() => pageLimit(['1', '2']))).toEqual({ status: 400, code: 'invalid_type', field: 'limit' });
});

test('rows pages: a cursor of the key length', () => {
  expect(rowsPage(spec, {})).toEqual({ limit: 100, after: null });
  expect(rowsPage(spec, { limit: '5', after: encodeCursor(['s1', '2024-01-05']) })).toEqual({ limit: 5, after: ['s1', '2024-01-05'] });
  expect(refusal(() => rowsPage(spec, { after: encodeCursor(['s1']) }))).toEqual({ status: 400, code: 'invalid_value', field: 'after' });
  expect(refusal(() => rowsPage(spec, { after: encodeCursor([null, 'x']) }))).toEqual({ status: 400, code: 'invalid_value', field: 'after' });
  expect(refusal(() => rowsPage(spec, { after: ['a', 'b'] }))).toEqual({ status: 400, code: 'invalid_type', field: 'after' });
});

test('aggregates: every group column a group, none a page, some a 400 naming the first missing', () => {
  expect(aggregateRead(bySite, { site: ' s1 ', order: 'whatever' })).toEqual({ kind: 'group', values: ['s1'] });
  expect(aggregateRead(bySiteDay, { site: 's1', day: '2024-01-05' })).toEqual({ kind: 'group', values: ['s1', '2024-01-05'] });
  expect(refusal(() => aggregateRead(bySiteDay, { day: '2024-01-05' }))).toEqual({ status: 400, code: 'missing', field: 'site' });
  expect(refusal(() => aggregateRead(bySiteDay, { site: 's1' }))).toEqual({ status: 400, code: 'missing', field: 'day' });
  expect(aggregateRead(bySiteDay, {})).toEqual({ kind: 'page', order: null, limit: 100, after: null });
});

test('aggregate pages: order by a measure, -descending; the cursor holds the measure (maybe null) first', () => {
  expect(aggregateRead(bySite, { order: 'total', limit: '2' })).toEqual({
    kind: 'page',
    order: { measure: 'total', descending: false },
    limit: 2,
    after: null,
  });
  expect(aggregateRead(bySite, { order: '-total', after: encodeCursor([null, 's1']) })).toEqual({
    kind: 'page',
    order: { measure: 'total', descending: true },
    limit: 100,
    after: [null, 's1'],
  });
  expect(aggregateRead(bySite, { after: encodeCursor(['s1']) })).toEqual({ kind: 'page', order: null, limit: 100, after: ['s1'] });
  // a cursor of the other order does not fit
  expect(refusal(() => aggregateRead(bySite, { order: 'n', after: encodeCursor(['s1']) }))).toEqual({ status: 400, code: 'invalid_value', field: 'after' });
  expect(refusal(() => aggregateRead(bySite, { after: encodeCursor([null]) }))).toEqual({ status: 400, code: 'invalid_value', field: 'after' });
  for (const order of ['nope', '--total', '-', 'site', ' total'])
    expect(refusal(() => aggregateRead(bySite, { order }))).toEqual({ status: 400, code: 'invalid_value', field: 'order' });
  expect(refusal(() => aggregateRead(bySite, { order: ['n', 'total'] }))).toEqual({ status: 400, code: 'invalid_type', field: 'order' });
});
