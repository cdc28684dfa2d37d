import * as path from 'path';
import { Admin } from '../../libs/kafka/port';
import { kafkaOf, messagesIn } from './faults-kit';
import { createTestEnv, runCli, TestEnv, writeTmp } from './harness';
import { linesFile, refused, rejectsOf, succeed, timeless, tuples } from './datasets-kit';

/**
 * DESIGN.md §8, through the real CLI against Kafka and PostgreSQL: a dataset of every column type
 * with two aggregates (one grouped by two columns), ingested, re-ingested, updated, deleted from,
 * synced, rebuilt and evolved; every table compared exactly, every aggregate also with the same
 * GROUP BY computed here over the table; bad and hostile specs and headers refused with one line,
 * changing nothing. The tests run in order, each on the state the one before left.
 */

let t: TestEnv;
let admin: Admin;
beforeAll(async () => {
  t = await createTestEnv('datasets');
  admin = kafkaOf(t).admin();
  await admin.connect();
});
afterAll(async () => {
  await admin?.disconnect();
  await t?.cleanup();
});

const SALES_COLUMNS = `
name: sales
key: id
columns:
  id: text
  region: text
  units: integer
  price: numeric
  paid: boolean
  day: date
  at: timestamp
  note: text?
  discount: numeric?`;
const SALES_AGGREGATES = `
aggregates:
  by_region:
    group_by: region
    measures: {sales: count, revenue: sum(price), total_units: sum(units), first_at: min(at), last_day: max(day)}
  by_region_paid:
    group_by: [region, paid]
    measures: {sales: count, discount_sum: sum(discount), discount_min: min(discount), discount_max: max(discount), min_note: min(note), max_units: max(units)}`;

let sales = '';
const rejectsFile = (name: string) => path.join(t.tmp, `${name}.rejects.csv`);

/** The table, each value as PostgreSQL's text (timestamps in UTC), by id. */
const salesTable = () =>
  tuples(t, `SELECT id, region, units::text, price::text, paid, day::text, (at AT TIME ZONE 'UTC')::text, note, discount::text FROM sales ORDER BY id`);

/** Each aggregate's table, and the same GROUP BY over the dataset's table: they must be equal. */
const AGGREGATE_CHECKS: Record<string, [table: string, groupBy: string]> = {
  by_region: [
    `SELECT region, sales::text, revenue::text, total_units::text, (first_at AT TIME ZONE 'UTC')::text, last_day::text FROM by_region ORDER BY region`,
    `SELECT region, count(*)::text, sum(price)::text, sum(units)::text, (min(at) AT TIME ZONE 'UTC')::text, max(day)::text FROM sales GROUP BY region ORDER BY region`,
  ],
  by_region_paid: [
    `SELECT region, paid, sales::text, discount_sum::text, discount_min::text, discount_max::text, min_note, max_units::text FROM by_region_paid ORDER BY region, paid`,
    `SELECT region, paid, count(*)::text, sum(discount)::text, min(discount)::text, max(discount)::text, min(note), max(units)::text FROM sales GROUP BY region, paid ORDER BY region, paid`,
  ],
};

/** Every aggregate equals its GROUP BY over the table; the aggregates' rows, returned. */
async function aggregatesExact(checks = AGGREGATE_CHECKS): Promise<Record<string, unknown[][]>> {
  const out: Record<string, unknown[][]> = {};
  for (const [name, [table, groupBy]] of Object.entries(checks)) {
    out[name] = await tuples(t, table);
    expect({ [name]: out[name] }).toEqual({ [name]: await tuples(t, groupBy) });
  }
  return out;
}

/** What must not change when nothing changes: each row's version, each group's, marks made, recounts sent. */
async function versions() {
  const seq = await tuples(t, `SELECT pg_sequence_last_value(pg_get_serial_sequence('dasy_dataset_outbox', 'id')::regclass)::text`);
  return {
    rows: await tuples(t, 'SELECT id, xmin::text FROM sales ORDER BY id'),
    byRegion: await tuples(t, 'SELECT region, xmin::text FROM by_region ORDER BY region'),
    byRegionPaid: await tuples(t, 'SELECT region, paid, xmin::text FROM by_region_paid ORDER BY region, paid'),
    outboxMarks: seq[0][0],
    outboxWaiting: (await tuples(t, 'SELECT count(*)::int FROM dasy_dataset_outbox'))[0][0],
    recounts: [await messagesIn(admin, `${t.namespace}.sales.by_region`), await messagesIn(admin, `${t.namespace}.sales.by_region_paid`)],
  };
}

const FILE_1 = [
  'id,Region,units,price,paid,day,at,note,discount,extra', // 1
  's1,north,3,10.50,true,2024-01-05,2024-01-05T10:00:00Z,first,1.5,x', // 2
  's2,north,1,5,no,2024-01-06,2024-01-06 11:00,,,y', // 3
  's3,south,2,7.25,YES,2024-02-01,2024-02-01T00:00:00+02:00,hi,,z', // 4
  's4,south,x,1,true,2024-01-01,2024-01-01,bad,,', // 5
  's5,"east",10,100.000,0,2024-03-01,"2024-03-01T12:30:45.123456-05:00","multi', // 6
  'line",0.25,q', // 7
  's6,east,1,2,maybe,2024-03-02,2024-03-02,,,', // 8
  's7,west,1,2,true,2024-02-30,2024-03-02,,,', // 9
  's8,west,1,2,true,2024-02-29,2024-13-02,,,', // 10
  's1,north,4,11.50,1,2024-01-05,2024-01-05T10:00:00Z,first again,2,x', // 11
  ' ,north,1,1,true,2024-01-01,2024-01-01,,,', // 12
  's9,north,1,1,true,2024-01-01,2024-01-01,,abc,', // 13
  's10,west,-7,0.001,false,2024-02-29,2024-02-29T23:59:59.5Z,,,w', // 14
  's11, south ,5,3,false,2024-02-02,2024-02-02T05:00:00+0000,  ,,', // 15
  's12,north', // 16
];
const FILE_1_REJECTS: [number, string][] = [
  [5, 'units: is not an integer'],
  [8, 'paid: is not a boolean (true/false/1/0/yes/no)'],
  [9, 'day: is not a date (YYYY-MM-DD)'],
  [10, 'at: is not an ISO 8601 timestamp'],
  [12, 'id: is empty'],
  [13, 'discount: is not a number'],
  [16, 'wrong number of fields: expected 10, got 2'],
];
let file1 = '';
let file1Summary: Record<string, unknown> = {};

test('ingest: every type stored exactly, rejects at their lines, aggregates equal to GROUP BY, NULL-only groups', async () => {
  sales = writeTmp(t, 'sales.yaml', SALES_COLUMNS + SALES_AGGREGATES + '\n');
  file1 = linesFile(t, 'sales-1.csv', FILE_1);
  const { summary } = await succeed(t, ['ingest', '--file', file1, '--dataset', sales, '--rejects', rejectsFile('sales-1')]);
  file1Summary = timeless(summary);
  expect(file1Summary).toEqual({
    file: file1,
    dataset: sales,
    records: 14,
    accepted: 7,
    rejected: 7,
    rows: 6,
    aggregates: { by_region: 4, by_region_paid: 6 },
  });
  expect(rejectsOf(rejectsFile('sales-1'))).toEqual(FILE_1_REJECTS);
  // s1's later record won; s11's region trimmed (a group_by column), its note kept as written
  expect(await salesTable()).toEqual([
    ['s1', 'north', '4', '11.50', true, '2024-01-05', '2024-01-05 10:00:00', 'first again', '2'],
    ['s10', 'west', '-7', '0.001', false, '2024-02-29', '2024-02-29 23:59:59.5', null, null],
    ['s11', 'south', '5', '3', false, '2024-02-02', '2024-02-02 05:00:00', '  ', null],
    ['s2', 'north', '1', '5', false, '2024-01-06', '2024-01-06 11:00:00', null, null],
    ['s3', 'south', '2', '7.25', true, '2024-02-01', '2024-01-31 22:00:00', 'hi', null],
    ['s5', 'east', '10', '100.000', false, '2024-03-01', '2024-03-01 17:30:45.123456', 'multi\nline', '0.25'],
  ]);
  expect(await aggregatesExact()).toEqual({
    by_region: [
      ['east', '1', '100.000', '10', '2024-03-01 17:30:45.123456', '2024-03-01'],
      ['north', '2', '16.50', '5', '2024-01-05 10:00:00', '2024-01-06'],
      ['south', '2', '10.25', '7', '2024-01-31 22:00:00', '2024-02-02'],
      ['west', '1', '0.001', '-7', '2024-02-29 23:59:59.5', '2024-02-29'],
    ],
    // the groups whose discounts (or notes) are all NULL have NULL measures, their count is exact
    by_region_paid: [
      ['east', false, '1', '0.25', '0.25', '0.25', 'multi\nline', '10'],
      ['north', false, '1', null, null, null, null, '1'],
      ['north', true, '1', '2', '2', '2', 'first again', '4'],
      ['south', false, '1', null, null, null, '  ', '5'],
      ['south', true, '1', null, null, null, 'hi', '2'],
      ['west', false, '1', null, null, null, null, '-7'],
    ],
  });
});

test('re-ingest of the same file: no row or group written, no outbox mark, no recount sent', async () => {
  const before = await versions();
  const tables = [await salesTable(), await aggregatesExact()];
  const { summary } = await succeed(t, ['ingest', '--file', file1, '--dataset', sales, '--rejects', rejectsFile('sales-1-again')]);
  expect(timeless(summary)).toEqual(file1Summary);
  expect(rejectsOf(rejectsFile('sales-1-again'))).toEqual(FILE_1_REJECTS);
  expect([await salesTable(), await aggregatesExact()]).toEqual(tables);
  expect(await versions()).toEqual(before);
  expect(before.outboxWaiting).toBe(0);
});

test('a second file: rows updated, moved between groups; groups left empty deleted', async () => {
  const file2 = linesFile(t, 'sales-2.csv', [
    'ID,paid,REGION,units,price,day,at,note,discount',
    // west to north: the groups (west) and (west, false) are left empty
    's10,false,north,-7,0.001,2024-02-29,2024-02-29T23:59:59.5Z,,',
    // paid false to true: (south, false) is left empty
    's11,true,south,5,3,2024-02-02,2024-02-02T05:00:00+0000,  ,',
    // changed in place
    's5,0,east,10,50,2024-03-01,2024-03-01T12:30:45.123456-05:00,one line,0.25',
    's12,1,east,2,9.99,2024-03-03,2024-03-03,new,0.5',
  ]);
  const { summary } = await succeed(t, ['ingest', '--file', file2, '--dataset', sales, '--rejects', rejectsFile('sales-2')]);
  expect(timeless(summary)).toEqual({
    file: file2,
    dataset: sales,
    records: 4,
    accepted: 4,
    rejected: 0,
    rows: 7,
    aggregates: { by_region: 3, by_region_paid: 5 },
  });
  expect(await salesTable()).toEqual([
    ['s1', 'north', '4', '11.50', true, '2024-01-05', '2024-01-05 10:00:00', 'first again', '2'],
    ['s10', 'north', '-7', '0.001', false, '2024-02-29', '2024-02-29 23:59:59.5', null, null],
    ['s11', 'south', '5', '3', true, '2024-02-02', '2024-02-02 05:00:00', '  ', null],
    ['s12', 'east', '2', '9.99', true, '2024-03-03', '2024-03-03 00:00:00', 'new', '0.5'],
    ['s2', 'north', '1', '5', false, '2024-01-06', '2024-01-06 11:00:00', null, null],
    ['s3', 'south', '2', '7.25', true, '2024-02-01', '2024-01-31 22:00:00', 'hi', null],
    ['s5', 'east', '10', '50', false, '2024-03-01', '2024-03-01 17:30:45.123456', 'one line', '0.25'],
  ]);
  expect(await aggregatesExact()).toEqual({
    by_region: [
      ['east', '2', '59.99', '12', '2024-03-01 17:30:45.123456', '2024-03-03'],
      ['north', '3', '16.501', '-2', '2024-01-05 10:00:00', '2024-02-29'],
      ['south', '2', '10.25', '7', '2024-01-31 22:00:00', '2024-02-02'],
    ],
    by_region_paid: [
      ['east', false, '1', '0.25', '0.25', '0.25', 'one line', '10'],
      ['east', true, '1', '0.5', '0.5', '0.5', 'new', '2'],
      ['north', false, '2', null, null, null, null, '1'],
      ['north', true, '1', '2', '2', '2', 'first again', '4'],
      ['south', true, '2', null, null, null, '  ', '5'],
    ],
  });
});

test('delete by a keys file, then ingest --sync: the keys gone, groups emptied deleted, aggregates exact', async () => {
  const keys = linesFile(t, 'sales-keys.csv', ['other,id', 'x,s3', 'y, ', 'z,s11', 'w,s99']);
  const deleted = await succeed(t, ['delete', '--file', keys, '--dataset', sales, '--rejects', rejectsFile('sales-keys')]);
  expect(timeless(deleted.summary)).toEqual({
    file: keys,
    dataset: sales,
    records: 4,
    accepted: 3,
    rejected: 1,
    rows: 5,
    aggregates: { by_region: 2, by_region_paid: 4 },
  });
  expect(rejectsOf(rejectsFile('sales-keys'))).toEqual([[3, 'id: is empty']]);
  expect((await salesTable()).map((r) => r[0])).toEqual(['s1', 's10', 's12', 's2', 's5']);
  expect((await aggregatesExact()).by_region_paid.map((g) => g.slice(0, 3))).toEqual([
    ['east', false, '1'],
    ['east', true, '1'],
    ['north', false, '2'],
    ['north', true, '1'],
  ]);

  // the whole dataset: s1 unchanged, s5 rejected (its key still protects it), s20 new; s10, s12, s2 absent
  const whole = linesFile(t, 'sales-3.csv', [
    'id,region,units,price,paid,day,at,note,discount',
    's1,north,4,11.50,1,2024-01-05,2024-01-05T10:00:00Z,first again,2',
    's5,east,zz,50,0,2024-03-01,2024-03-01T12:30:45.123456-05:00,one line,0.25',
    's20,west,1,1,false,2024-04-01,2024-04-01T08:00:00Z,,',
  ]);
  const synced = await succeed(t, ['ingest', '--sync', '--file', whole, '--dataset', sales, '--rejects', rejectsFile('sales-3')]);
  expect(timeless(synced.summary)).toEqual({
    file: whole,
    dataset: sales,
    records: 3,
    accepted: 2,
    rejected: 1,
    deleted: 3,
    rows: 3,
    aggregates: { by_region: 3, by_region_paid: 3 },
  });
  expect(rejectsOf(rejectsFile('sales-3'))).toEqual([[3, 'units: is not an integer']]);
  expect(await salesTable()).toEqual([
    ['s1', 'north', '4', '11.50', true, '2024-01-05', '2024-01-05 10:00:00', 'first again', '2'],
    ['s20', 'west', '1', '1', false, '2024-04-01', '2024-04-01 08:00:00', null, null],
    ['s5', 'east', '10', '50', false, '2024-03-01', '2024-03-01 17:30:45.123456', 'one line', '0.25'],
  ]);
  expect(await aggregatesExact()).toEqual({
    by_region: [
      ['east', '1', '50', '10', '2024-03-01 17:30:45.123456', '2024-03-01'],
      ['north', '1', '11.50', '4', '2024-01-05 10:00:00', '2024-01-05'],
      ['west', '1', '1', '1', '2024-04-01 08:00:00', '2024-04-01'],
    ],
    by_region_paid: [
      ['east', false, '1', '0.25', '0.25', '0.25', 'one line', '10'],
      ['north', true, '1', '2', '2', '2', 'first again', '4'],
      ['west', false, '1', null, null, null, null, '1'],
    ],
  });
});

test('a composite key: ingest, delete by a keys file naming the key columns in another order', async () => {
  const visits = writeTmp(
    t,
    'visits.yaml',
    [
      'name: visits',
      'key: [user, day]',
      'columns: {user: text, day: date, pages: integer, dur: numeric?}',
      'aggregates:',
      '  per_user:',
      '    group_by: user',
      '    measures: {visits: count, pages: sum(pages), longest: max(dur)}',
    ].join('\n') + '\n',
  );
  const file = linesFile(t, 'visits.csv', [
    'user,day,pages,dur',
    'ann,2024-01-01,3,1.5',
    'ann,2024-01-02,2,',
    'bob,2024-01-01,7,',
    'ann,2024-01-01,4,2.5',
    'cy,2024-01-01,1,9',
  ]);
  const ingested = await succeed(t, ['ingest', '--file', file, '--dataset', visits, '--rejects', rejectsFile('visits')]);
  expect(timeless(ingested.summary)).toEqual({
    file,
    dataset: visits,
    records: 5,
    accepted: 5,
    rejected: 0,
    rows: 4,
    aggregates: { per_user: 3 },
  });
  const table = () => tuples(t, 'SELECT "user", day::text, pages::text, dur::text FROM visits ORDER BY "user", day');
  const perUser = {
    per_user: [
      'SELECT "user", visits::text, pages::text, longest::text FROM per_user ORDER BY "user"',
      'SELECT "user", count(*)::text, sum(pages)::text, max(dur)::text FROM visits GROUP BY "user" ORDER BY "user"',
    ] as [string, string],
  };
  expect(await table()).toEqual([
    ['ann', '2024-01-01', '4', '2.5'],
    ['ann', '2024-01-02', '2', null],
    ['bob', '2024-01-01', '7', null],
    ['cy', '2024-01-01', '1', '9'],
  ]);
  expect(await aggregatesExact(perUser)).toEqual({
    per_user: [
      ['ann', '2', '6', '2.5'],
      ['bob', '1', '7', null],
      ['cy', '1', '1', '9'],
    ],
  });
  const keys = linesFile(t, 'visits-keys.csv', ['day,user', '2024-01-01,ann', '2024-01-01,bob', '2024-02-31,cy', '2024-01-01,nobody']);
  const deleted = await succeed(t, ['delete', '--file', keys, '--dataset', visits, '--rejects', rejectsFile('visits-keys')]);
  expect(timeless(deleted.summary)).toEqual({
    file: keys,
    dataset: visits,
    records: 4,
    accepted: 3,
    rejected: 1,
    rows: 2,
    aggregates: { per_user: 2 },
  });
  expect(rejectsOf(rejectsFile('visits-keys'))).toEqual([[4, 'day: is not a date (YYYY-MM-DD)']]);
  expect(await table()).toEqual([
    ['ann', '2024-01-02', '2', null],
    ['cy', '2024-01-01', '1', '9'],
  ]);
  expect(await aggregatesExact(perUser)).toEqual({
    per_user: [
      ['ann', '1', '2', null],
      ['cy', '1', '1', '9'],
    ],
  });

  // ingest --sync on a composite key with a date, the server writing dates its own way (not ISO)
  const db = (await tuples(t, 'SELECT current_database()'))[0][0] as string;
  await t.pool.query(`ALTER DATABASE "${db}" SET DateStyle = 'SQL, DMY'`);
  try {
    const whole = linesFile(t, 'visits-whole.csv', ['user,day,pages,dur', 'cy,2024-01-01,1,9', 'dee,2024-01-03,5,']);
    const synced = await succeed(t, ['ingest', '--sync', '--file', whole, '--dataset', visits, '--rejects', rejectsFile('visits-whole')]);
    expect(timeless(synced.summary)).toEqual({
      file: whole,
      dataset: visits,
      records: 2,
      accepted: 2,
      rejected: 0,
      deleted: 1,
      rows: 2,
      aggregates: { per_user: 2 },
    });
  } finally {
    await t.pool.query(`ALTER DATABASE "${db}" RESET DateStyle`);
  }
  expect(await tuples(t, `SELECT "user", to_char(day, 'YYYY-MM-DD'), pages::text, dur::text FROM visits ORDER BY "user", day`)).toEqual([
    ['cy', '2024-01-01', '1', '9'],
    ['dee', '2024-01-03', '5', null],
  ]);
  expect(await tuples(t, 'SELECT "user", visits::text, pages::text, longest::text FROM per_user ORDER BY "user"')).toEqual([
    ['cy', '1', '1', '9'],
    ['dee', '1', '5', null],
  ]);
  expect(await messagesIn(admin, `${t.namespace}.visits.dlq`)).toBe(0);
});

test('rebuild --dataset: the same tables from the topic alone', async () => {
  const tables = [await salesTable(), await aggregatesExact()];
  const { summary } = await succeed(t, ['rebuild', '--dataset', sales]);
  expect(timeless(summary)).toEqual({
    dataset: sales,
    topic: `${t.namespace}.sales`,
    offsets: await messagesIn(admin, `${t.namespace}.sales`),
    rows: 3,
    aggregates: { by_region: 3, by_region_paid: 3 },
  });
  expect([await salesTable(), await aggregatesExact()]).toEqual(tables);
});

const SALES_V2 =
  SALES_COLUMNS +
  '\n  channel: text?' +
  SALES_AGGREGATES +
  `
  by_day:
    group_by: day
    measures: {sales: count, revenue: sum(price), top_channel: max(channel)}
`;
const BY_DAY: [string, string] = [
  `SELECT day::text, sales::text, revenue::text, top_channel FROM by_day ORDER BY day`,
  `SELECT day::text, count(*)::text, sum(price)::text, max(channel) FROM sales GROUP BY day ORDER BY day`,
];

/** What a refused spec must leave as it was: the tables, their columns, the spec applied. */
async function datasetState() {
  return {
    table: await salesTable(),
    aggregates: await tuples(t, 'SELECT * FROM by_region ORDER BY region'),
    columns: await tuples(
      t,
      `SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = $1 AND table_name IN ('sales', 'by_region', 'by_region_paid', 'by_day') ORDER BY 1, 2`,
      [t.namespace],
    ),
    spec: await tuples(t, `SELECT spec::text FROM dasy_datasets WHERE name = 'sales'`),
  };
}

test('a changed spec: a new optional column and a new aggregate added and filled; a changed or removed column refused', async () => {
  const v2 = writeTmp(t, 'sales-v2.yaml', SALES_V2);
  const migrated = await succeed(t, ['migrate', 'up', '--dataset', v2]);
  expect(migrated.lines[migrated.lines.length - 1]).toBe('dataset sales: added column channel, aggregate by_day (filled from the table)');
  expect(await aggregatesExact({ ...AGGREGATE_CHECKS, by_day: BY_DAY })).toMatchObject({
    by_day: [
      ['2024-01-05', '1', '11.50', null],
      ['2024-03-01', '1', '50', null],
      ['2024-04-01', '1', '1', null],
    ],
  });
  const again = await succeed(t, ['migrate', 'up', '--dataset', v2]);
  expect(again.lines[again.lines.length - 1]).toBe('dataset sales: tables up to date');

  const file = linesFile(t, 'sales-v2.csv', [
    'id,region,units,price,paid,day,at,note,discount,channel',
    's1,north,4,11.50,1,2024-01-05,2024-01-05T10:00:00Z,first again,2,web',
    's21,west,2,4,0,2024-04-01,2024-04-01T09:00:00Z,,,shop',
  ]);
  const { summary } = await succeed(t, ['ingest', '--file', file, '--dataset', v2, '--rejects', rejectsFile('sales-v2')]);
  expect(timeless(summary)).toMatchObject({ records: 2, accepted: 2, rejected: 0, rows: 4, aggregates: { by_region: 3, by_region_paid: 3, by_day: 3 } });
  expect(await tuples(t, 'SELECT id, channel FROM sales ORDER BY id')).toEqual([
    ['s1', 'web'],
    ['s20', null],
    ['s21', 'shop'],
    ['s5', null],
  ]);
  expect(await aggregatesExact({ ...AGGREGATE_CHECKS, by_day: BY_DAY })).toMatchObject({
    by_day: [
      ['2024-01-05', '1', '11.50', 'web'],
      ['2024-03-01', '1', '50', null],
      ['2024-04-01', '2', '5', 'shop'],
    ],
  });

  // the messages from before the change have no channel: a rebuild reads it NULL, the same tables again
  const evolved = async () => [
    await salesTable(),
    await tuples(t, 'SELECT id, channel FROM sales ORDER BY id'),
    await aggregatesExact({ ...AGGREGATE_CHECKS, by_day: BY_DAY }),
  ];
  const beforeRebuild = await evolved();
  await succeed(t, ['rebuild', '--dataset', v2]);
  expect(await evolved()).toEqual(beforeRebuild);

  const before = await datasetState();
  const retyped = writeTmp(t, 'sales-retyped.yaml', SALES_V2.replace('units: integer', 'units: numeric'));
  expect(await refused(t, ['migrate', 'up', '--dataset', retyped])).toBe(
    `dasy: ${retyped}: column units changed from integer to numeric; dasy adds new optional columns and new aggregates only: restore the spec as it was, or declare a dataset of another name (make reset drops this one)`,
  );
  const removed = writeTmp(t, 'sales-removed.yaml', SALES_V2.replace('  note: text?\n', '').replace(', min_note: min(note)', ''));
  expect(await refused(t, ['ingest', '--file', file, '--dataset', removed])).toMatch(new RegExp(`^dasy: ${removed}: column note was removed; `));
  // a new aggregate named as another dataset's table
  const taken = writeTmp(t, 'sales-taken.yaml', SALES_V2 + '  visits:\n    group_by: region\n    measures: {n: count}\n');
  expect(await refused(t, ['migrate', 'up', '--dataset', taken])).toBe(
    `dasy: ${taken}: visits exists in the namespace (a table or an index) and is not this dataset's; choose other names, or drop it`,
  );
  expect(await datasetState()).toEqual(before);
});

test('a new aggregate grouping by a column stored as written: refused while a stored value could not be a group', async () => {
  const columns = 'name: staff\nkey: id\ncolumns: {id: text, seller: text, n: integer}\n';
  const v1 = writeTmp(t, 'staff.yaml', columns);
  const v2 = writeTmp(t, 'staff-v2.yaml', columns + 'aggregates:\n  by_seller:\n    group_by: seller\n    measures: {sales: count, units: sum(n)}\n');
  // seller is no key nor group_by yet: kept as written, spaces and empty alike
  await succeed(t, ['ingest', '--file', linesFile(t, 'staff.csv', ['id,seller,n', 'a, bob ,1', 'b,,2', 'c,bob,3']), '--dataset', v1]);
  const table = () => tuples(t, 'SELECT id, seller, n::text FROM staff ORDER BY id');
  expect(await table()).toEqual([
    ['a', ' bob ', '1'],
    ['b', '', '2'],
    ['c', 'bob', '3'],
  ]);
  const state = async () => [
    await table(),
    await tuples(t, `SELECT to_regclass('by_seller')::text, (SELECT spec::text FROM dasy_datasets WHERE name = 'staff')`),
  ];
  const before = await state();
  expect(await refused(t, ['migrate', 'up', '--dataset', v2])).toBe(
    `dasy: ${v2}: new aggregate by_seller: the row of key ["a"] has a group_by value (seller) that is empty, not trimmed, or longer than 2000 bytes, as stored before the column was grouped by; correct such rows first, or declare a dataset of another name`,
  );
  expect(await state()).toEqual(before);
  expect(before[1]).toEqual([[null, expect.any(String)]]);

  await succeed(t, ['ingest', '--file', linesFile(t, 'staff-fixed.csv', ['id,seller,n', 'a,bob,1', 'b,carol,2']), '--dataset', v1]);
  const migrated = await succeed(t, ['migrate', 'up', '--dataset', v2]);
  expect(migrated.lines[migrated.lines.length - 1]).toBe('dataset staff: added aggregate by_seller (filled from the table)');
  const bySeller: Record<string, [string, string]> = {
    by_seller: [
      'SELECT seller, sales::text, units::text FROM by_seller ORDER BY seller',
      'SELECT seller, count(*)::text, sum(n)::text FROM staff GROUP BY seller ORDER BY seller',
    ],
  };
  const after = [await table(), await aggregatesExact(bySeller)];
  expect(after[1]).toEqual({
    by_seller: [
      ['bob', '2', '4'],
      ['carol', '1', '2'],
    ],
  });
  // the topic's last message of each key is what the table says: a rebuild gives the same tables
  // (b's first message, whose seller was empty, is dead-lettered on the way, its next one applied)
  const rebuilt = await runCli(t, ['rebuild', '--dataset', v2]);
  expect({ code: rebuilt.code, stderr: rebuilt.stderr.replace(/^\S+ /, '').replace(/ \{.*\n$/, '') }).toEqual({
    code: 0,
    stderr: `WARN dasy:consumer:${t.namespace}.staff: dead-lettered 1 message(s) to ${t.namespace}.staff.dlq`,
  });
  expect([await table(), await aggregatesExact(bySeller)]).toEqual(after);
});

test("names of dasy's own statements (a dataset keys or latest, columns ord and alive): tables and aggregates exact", async () => {
  const specs = {
    keys: 'name: keys\nkey: id\ncolumns: {id: text, ord: integer, g: text}\naggregates:\n  keys_by_g:\n    group_by: g\n    measures: {c: count, top: max(ord)}\n',
    latest:
      'name: latest\nkey: id\ncolumns: {id: text, alive: boolean, g: text}\naggregates:\n  latest_by_g:\n    group_by: [g, alive]\n    measures: {c: count}\n',
  };
  const files = {
    keys: [
      ['id,ord,g', 'a,1,x', 'b,2,x'],
      ['id,ord,g', 'a,3,y', 'c,4,y', 'd,5,y'],
    ],
    latest: [
      ['id,alive,g', 'a,true,x', 'b,false,x'],
      ['id,alive,g', 'a,true,y', 'c,true,y', 'd,false,y'],
    ],
  };
  const checks = {
    keys: {
      keys_by_g: ['SELECT g, c::text, top::text FROM keys_by_g ORDER BY g', 'SELECT g, count(*)::text, max(ord)::text FROM keys GROUP BY g ORDER BY g'] as [
        string,
        string,
      ],
    },
    latest: {
      latest_by_g: [
        'SELECT g, alive, c::text FROM latest_by_g ORDER BY g, alive',
        'SELECT g, alive, count(*)::text FROM latest GROUP BY g, alive ORDER BY g, alive',
      ] as [string, string],
    },
  };
  const found: Record<string, unknown>[] = [];
  for (const name of ['keys', 'latest'] as const) {
    const spec = writeTmp(t, `${name}.yaml`, specs[name]);
    for (const [i, lines] of files[name].entries()) await succeed(t, ['ingest', '--file', linesFile(t, `${name}-${i}.csv`, lines), '--dataset', spec]);
    found.push(await aggregatesExact(checks[name]));
  }
  // a moved from group x to y, b stays in x
  expect(found).toEqual([
    {
      keys_by_g: [
        ['x', '1', '2'],
        ['y', '3', '5'],
      ],
    },
    {
      latest_by_g: [
        ['x', false, '1'],
        ['y', false, '1'],
        ['y', true, '2'],
      ],
    },
  ]);
});

test('hostile names: a spec naming SQL is refused by the check, a header holding SQL is only text', async () => {
  await t.pool.query('CREATE TABLE canary (x int)');
  const file = linesFile(t, 'plain.csv', ['id', 'a']);
  const hostile = [
    ["name: sales\nkey: id\ncolumns:\n  id: text\n  'a\"; drop table canary; --': text\n", 'columns: "a\\"; drop table canary; --" is not a name'],
    ["name: 'x\"; drop table canary; --'\nkey: id\ncolumns: {id: text}\n", 'name: "x\\"; drop table canary; --" is not a name'],
    [
      'name: h\nkey: id\ncolumns: {id: text, n: integer}\naggregates:\n  "t; drop table canary":\n    group_by: id\n    measures: {c: count}\n',
      'aggregates: "t; drop table canary" is not a name',
    ],
    [
      "name: h\nkey: id\ncolumns: {id: text, n: integer}\naggregates:\n  t:\n    group_by: id\n    measures: {c: 'sum(n); drop table canary'}\n",
      'aggregates.t.measures.c: unknown measure "sum(n); drop table canary"',
    ],
    ["name: h\nkey: 'id\" --'\ncolumns: {id: text}\n", 'key: unknown column "id\\" --"'],
  ];
  for (const [i, [yaml, named]] of hostile.entries()) {
    const spec = writeTmp(t, `hostile-${i}.yaml`, yaml);
    expect(await refused(t, ['ingest', '--file', file, '--dataset', spec])).toContain(`dasy: ${spec}: ${named}`);
  }
  // a header holding SQL: an extra column is ignored, a required column misnamed refuses the file
  const v2 = path.join(t.tmp, 'sales-v2.yaml');
  const before = await datasetState();
  const extra = linesFile(t, 'sales-hostile-header.csv', [
    'id,region,units,price,paid,day,at,note,discount,channel,"a""; drop table canary; --"',
    's1,north,4,11.50,1,2024-01-05,2024-01-05T10:00:00Z,first again,2,web,"x"',
  ]);
  const { summary } = await succeed(t, ['ingest', '--file', extra, '--dataset', v2, '--rejects', rejectsFile('hostile-header')]);
  expect(timeless(summary)).toMatchObject({ records: 1, accepted: 1, rejected: 0, rows: 4 });
  const misnamed = linesFile(t, 'sales-misnamed.csv', [
    'id,"region""; drop table sales; --",units,price,paid,day,at,note,discount,channel',
    's1,north,4,11.50,1,2024-01-05,2024-01-05T10:00:00Z,first again,2,web',
  ]);
  expect(await refused(t, ['ingest', '--file', misnamed, '--dataset', v2])).toMatch(
    /^dasy: .*the header \(line 1\) must name the columns id, region, .*; missing: region \(found: /,
  );
  expect(await datasetState()).toEqual(before);
  expect(
    await tuples(
      t,
      `SELECT to_regclass('canary')::text, (SELECT count(*)::int FROM dasy_datasets WHERE name NOT IN ('sales', 'visits', 'staff', 'keys', 'latest'))`,
    ),
  ).toEqual([['canary', 0]]);
});

test('a spec with an unknown key, type, column or measure: one line each, naming it', async () => {
  const file = linesFile(t, 'any.csv', ['id,n', 'a,1']);
  const base = 'name: h\nkey: id\ncolumns: {id: text, n: integer}\n';
  const bad: [string, string][] = [
    [base + 'indexes: [n]\n', 'unknown key "indexes" in the spec (known: name, key, columns, aggregates)'],
    [
      'name: h\nkey: id\ncolumns: {id: text, n: money}\n',
      'columns.n: unknown type "money" (known: text, integer, numeric, boolean, date, timestamp, each with an optional trailing ?)',
    ],
    [
      base + 'aggregates:\n  t:\n    group_by: id\n    having: x\n    measures: {c: count}\n',
      'unknown key "having" in aggregates.t (known: group_by, measures)',
    ],
    [
      base + 'aggregates:\n  t:\n    group_by: id\n    measures: {c: avg(n)}\n',
      'aggregates.t.measures.c: unknown measure "avg(n)" (known: count, sum(column), min(column), max(column))',
    ],
    [base + 'aggregates:\n  t:\n    group_by: id\n    measures: {c: sum(m)}\n', 'aggregates.t.measures.c: unknown column "m"'],
    [base + 'aggregates:\n  t:\n    group_by: m\n    measures: {c: count}\n', 'aggregates.t.group_by: unknown column "m"'],
    ['name: h\nkey: m\ncolumns: {id: text}\n', 'key: unknown column "m"'],
    [
      base + 'aggregates:\n  t:\n    group_by: id\n    measures: &m {c: count}\n  u:\n    group_by: id\n    measures: *m\n',
      'an alias (*name) is not taken; write the value out (Alias resolution is disabled)',
    ],
  ];
  for (const [i, [yaml, line]] of bad.entries()) {
    const spec = writeTmp(t, `bad-${i}.yaml`, yaml);
    expect(await refused(t, ['ingest', '--file', file, '--dataset', spec])).toBe(`dasy: ${spec}: ${line}`);
  }
  expect(await tuples(t, `SELECT name FROM dasy_datasets ORDER BY name`)).toEqual([['keys'], ['latest'], ['sales'], ['staff'], ['visits']]);
});
