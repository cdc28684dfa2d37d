import { encodeCursor } from '../../apps/api/dataset-cursor';
import { ApiProcess, call, startApi } from './api-client';
import { createTestEnv, runCli, TestEnv, writeTmp } from './harness';

/**
 * The dataset api over real HTTP, on datasets ingested through the real pipeline (`ingest
 * --dataset`): a one-column key (orders) and a composite one (visits), each with an aggregate.
 * Every route's exact JSON, every page followed to the end, groups ordered by a measure with NULLs.
 */

let t: TestEnv;
let api: ApiProcess;

type Json = Record<string, unknown>;
const get = (p: string) => call('GET', `${api.url}${p}`);
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const csv = (s: string) => (/[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s);
/** The api's integer rule: a JSON number when safe, else its decimal string. */
const int = (n: bigint) => (n >= -(2n ** 53n - 1n) && n <= 2n ** 53n - 1n ? Number(n) : n.toString());
const money = (cents: number) => `${Math.floor(cents / 100)}.${pad(cents % 100, 2)}`;

const ORDERS_SPEC = `name: orders
key: order_id
columns:
  order_id: text
  customer: text
  amount: numeric?
  placed_at: timestamp
  qty: integer
  paid: boolean
  day: date
  note: text?
aggregates:
  customer_totals:
    group_by: customer
    measures: {orders: count, total_amount: sum(amount), first_order: min(placed_at), last_order: max(placed_at), max_qty: max(qty)}
`;

/** An order as its CSV fields, with its row as the api shows it. */
interface Order {
  fields: string[];
  row: Json;
  /** total_amount in millionths (null: no amount) */
  micros: number | null;
}

function generatedOrder(i: number): Order {
  const customer = `c${pad(i % 24, 2)}`;
  const cents = (i % 24) % 6 === 5 ? null : (i * 3737) % 100000;
  const at = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString().slice(0, 19) + `.${pad((i * 7919) % 1_000_000, 6)}Z`;
  const qty = i * 1000 - 50000;
  const day = `2024-02-${pad(1 + (i % 28), 2)}`;
  const note = i % 3 === 0 ? '' : `note ${i}, "q"`;
  const fields = [`o${pad(i, 3)}`, ` ${customer} `, cents === null ? '' : money(cents), at, String(qty), i % 2 ? 'yes' : '0', day, note];
  const row = {
    order_id: `o${pad(i, 3)}`,
    customer,
    amount: cents === null ? null : money(cents),
    placed_at: at,
    qty,
    paid: i % 2 === 1,
    day,
    note: note || null,
  };
  return { fields, row, micros: cents === null ? null : cents * 10_000 };
}

const ZED: Order = {
  fields: ['o_big', 'zed', '0.000001', '2024-06-30T23:59:59.999999-05:00', '9223372036854775807', 'TRUE', '2024-12-31', 'say "hi", ok\nbye'],
  row: {
    order_id: 'o_big',
    customer: 'zed',
    amount: '0.000001',
    placed_at: '2024-07-01T04:59:59.999999Z',
    qty: '9223372036854775807',
    paid: true,
    day: '2024-12-31',
    note: 'say "hi", ok\nbye',
  },
  micros: 1,
};
const ORDERS = [...Array.from({ length: 240 }, (_, i) => generatedOrder(i)), ZED];
const orderRows = ORDERS.map((o) => o.row).sort((a, b) => ((a.order_id as string) < (b.order_id as string) ? -1 : 1));

interface Group {
  row: Json;
  micros: number | null;
}

/** customer_totals, computed here from the orders. */
function customerTotals(): Group[] {
  const by = new Map<string, Order[]>();
  for (const o of ORDERS) by.set(o.row.customer as string, [...(by.get(o.row.customer as string) ?? []), o]);
  return [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([customer, os]) => {
      const amounts = os.filter((o) => o.micros !== null);
      const micros = amounts.length ? amounts.reduce((s, o) => s + o.micros!, 0) : null;
      const times = os.map((o) => o.row.placed_at as string).sort();
      const qtys = os.map((o) => BigInt(o.row.qty as number | string));
      const total = micros === null ? null : customer === 'zed' ? '0.000001' : money(micros / 10_000);
      const max = qtys.reduce((m, q) => (q > m ? q : m));
      const row = { customer, orders: os.length, total_amount: total, first_order: times[0], last_order: times[times.length - 1], max_qty: int(max) };
      return { row, micros };
    });
}
const GROUPS = customerTotals();

/** Groups by a measure, NULLs last, ties by the customer ascending. */
function byMeasure(value: (g: Group) => number | string | null, descending: boolean): Json[] {
  return [...GROUPS]
    .sort((a, b) => {
      const x = value(a);
      const y = value(b);
      if (x === null || y === null) return x === y ? cmp(a, b) : x === null ? 1 : -1;
      if (x !== y) return (x < y ? -1 : 1) * (descending ? -1 : 1);
      return cmp(a, b);
    })
    .map((g) => g.row);
}
const cmp = (a: Group, b: Group) => ((a.row.customer as string) < (b.row.customer as string) ? -1 : 1);

const VISITS_SPEC = `name: visits
key: [site, day]
columns:
  site: text
  day: date
  hits: integer?
  ok: boolean
aggregates:
  per_site_ok:
    group_by: [site, ok]
    measures: {visits: count, total_hits: sum(hits), top: max(hits), first_day: min(day)}
`;

const SPECIAL_HITS: Record<string, string> = { 's1/1': '9007199254740993', 's1/2': '-9007199254740991', 's2/3': '' };
const VISITS = ['s1', 's2', 's3'].flatMap((site, si) =>
  [1, 2, 3, 4, 5].map((d) => {
    const hits = SPECIAL_HITS[`${site}/${d}`] ?? String((si + 1) * 100 + d);
    return { site, day: `2024-03-${pad(d, 2)}`, hits: hits === '' ? null : BigInt(hits), ok: d % 2 === 0 };
  }),
);
const visitRow = (v: (typeof VISITS)[number]) => ({ site: v.site, day: v.day, hits: v.hits === null ? null : int(v.hits), ok: v.ok });
const visitGroups = () => {
  const keys = [...new Set(VISITS.map((v) => `${v.site}/${v.ok}`))].sort();
  return keys.map((k) => {
    const vs = VISITS.filter((v) => `${v.site}/${v.ok}` === k);
    const hits = vs.map((v) => v.hits).filter((h): h is bigint => h !== null);
    return {
      site: vs[0].site,
      ok: vs[0].ok,
      visits: vs.length,
      total_hits: hits.reduce((s, h) => s + h, 0n).toString(),
      top: int(hits.reduce((m, h) => (h > m ? h : m))),
      first_day: vs.map((v) => v.day).sort()[0],
    };
  });
};

async function ingest(name: string, spec: string, header: string[], records: string[][]) {
  const specFile = writeTmp(t, `${name}.yaml`, spec);
  const file = writeTmp(t, `${name}.csv`, [header.join(','), ...records.map((r) => r.map(csv).join(','))].join('\n') + '\n');
  const r = await runCli(t, ['ingest', '--file', file, '--dataset', specFile]);
  if (r.code !== 0) throw new Error(`ingest exited ${r.code}: ${r.stderr}`);
}

/** Every page of a listing, following `next` until null; each full page but the last. */
async function allPages(path: string, field: 'rows' | 'groups', limit: number): Promise<{ items: Json[]; pages: number }> {
  const items: Json[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const url: string = `${path}${path.includes('?') ? '&' : '?'}limit=${limit}${after === null ? '' : `&after=${after}`}`;
    const r = await get(url);
    expect([url, r.status, Object.keys(r.body)]).toEqual([url, 200, [field, 'next']]);
    pages++;
    items.push(...r.body[field]);
    if (r.body.next === null) break;
    expect(r.body[field].length).toBe(limit);
    after = r.body.next;
    if (pages > 1000) throw new Error('runaway pagination');
  }
  return { items, pages };
}

const refusal = async (path: string) => {
  const r = await get(path);
  return [r.status, r.body?.error?.code, r.body?.error?.field];
};

beforeAll(async () => {
  t = await createTestEnv('datasetsapi');
  await ingest(
    'orders',
    ORDERS_SPEC,
    ['order_id', 'customer', 'amount', 'placed_at', 'qty', 'paid', 'day', 'note'],
    ORDERS.map((o) => o.fields),
  );
  api = await startApi(t);
  // made once the api runs: a new dataset is served at once
  await ingest(
    'visits',
    VISITS_SPEC,
    ['ok', 'hits', 'day', 'site'],
    VISITS.map((v) => [v.ok ? 'yes' : 'no', v.hits?.toString() ?? '', v.day, v.site]),
  );
}, 180000);

afterAll(async () => {
  await api?.stop();
  await t?.cleanup();
});

test('GET /api/datasets: products first, then each dataset by name, with exact counts', async () => {
  const r = await get('/api/datasets');
  expect([r.status, r.body]).toEqual([
    200,
    {
      datasets: [
        {
          name: 'products',
          key: ['sku'],
          columns: [
            { name: 'sku', type: 'text', optional: false },
            { name: 'name', type: 'text', optional: false },
            { name: 'description', type: 'text', optional: false },
          ],
          rows: 0,
          aggregates: [{ name: 'product_count', group_by: ['name'], measures: [{ name: 'no_of_products', fn: 'count' }], groups: 0 }],
        },
        {
          name: 'orders',
          key: ['order_id'],
          columns: [
            { name: 'order_id', type: 'text', optional: false },
            { name: 'customer', type: 'text', optional: false },
            { name: 'amount', type: 'numeric', optional: true },
            { name: 'placed_at', type: 'timestamp', optional: false },
            { name: 'qty', type: 'integer', optional: false },
            { name: 'paid', type: 'boolean', optional: false },
            { name: 'day', type: 'date', optional: false },
            { name: 'note', type: 'text', optional: true },
          ],
          rows: 241,
          aggregates: [
            {
              name: 'customer_totals',
              group_by: ['customer'],
              measures: [
                { name: 'orders', fn: 'count' },
                { name: 'total_amount', fn: 'sum', column: 'amount' },
                { name: 'first_order', fn: 'min', column: 'placed_at' },
                { name: 'last_order', fn: 'max', column: 'placed_at' },
                { name: 'max_qty', fn: 'max', column: 'qty' },
              ],
              groups: 25,
            },
          ],
        },
        {
          name: 'visits',
          key: ['site', 'day'],
          columns: [
            { name: 'site', type: 'text', optional: false },
            { name: 'day', type: 'date', optional: false },
            { name: 'hits', type: 'integer', optional: true },
            { name: 'ok', type: 'boolean', optional: false },
          ],
          rows: 15,
          aggregates: [
            {
              name: 'per_site_ok',
              group_by: ['site', 'ok'],
              measures: [
                { name: 'visits', fn: 'count' },
                { name: 'total_hits', fn: 'sum', column: 'hits' },
                { name: 'top', fn: 'max', column: 'hits' },
                { name: 'first_day', fn: 'min', column: 'day' },
              ],
              groups: 6,
            },
          ],
        },
      ],
    },
  ]);
});

describe('one row', () => {
  test('/rows/:key: typed values (numeric a string, timestamps UTC with microseconds, a big integer a string)', async () => {
    expect((await get('/api/datasets/orders/rows/o_big')).body).toEqual(ZED.row);
    expect((await get('/api/datasets/orders/rows/o_big')).text).toBe(
      '{"order_id":"o_big","customer":"zed","amount":"0.000001","placed_at":"2024-07-01T04:59:59.999999Z","qty":"9223372036854775807","paid":true,"day":"2024-12-31","note":"say \\"hi\\", ok\\nbye"}',
    );
    const r = await get('/api/datasets/orders/rows/%20o007%20');
    expect([r.status, r.body]).toEqual([200, generatedOrder(7).row]);
    expect((await get('/api/datasets/orders/row?order_id=o010')).body).toEqual(generatedOrder(10).row);
  });

  test('a composite key: /row with every key column; /rows/:key is refused', async () => {
    expect((await get('/api/datasets/visits/row?day=2024-03-01&site=s1')).body).toEqual({ site: 's1', day: '2024-03-01', hits: '9007199254740993', ok: false });
    expect((await get('/api/datasets/visits/row?site=s1&day=2024-03-02')).body).toEqual({ site: 's1', day: '2024-03-02', hits: -9007199254740991, ok: true });
    expect((await get('/api/datasets/visits/row?site=s2&day=2024-03-03')).body).toEqual({ site: 's2', day: '2024-03-03', hits: null, ok: false });
    expect(await refusal('/api/datasets/visits/rows/s1')).toEqual([400, 'composite_key', 'key']);
    expect(await refusal('/api/datasets/visits/row?site=s1')).toEqual([400, 'missing', 'day']);
    expect(await refusal('/api/datasets/visits/row?day=2024-03-01')).toEqual([400, 'missing', 'site']);
    expect(await refusal('/api/datasets/visits/row?site=s1&day=2024-02-30')).toEqual([400, 'invalid_value', 'day']);
    expect(await refusal('/api/datasets/visits/row?site=s1&day=soon')).toEqual([400, 'invalid_value', 'day']);
  });

  test('no such row, dataset or name: 404 naming it', async () => {
    const r = await get('/api/datasets/orders/rows/nope');
    expect([r.status, r.body]).toEqual([404, { error: { code: 'not_found', message: 'dataset orders has no row with order_id "nope"', field: 'key' } }]);
    expect(await refusal('/api/datasets/visits/row?site=s1&day=2024-03-09')).toEqual([404, 'not_found', 'key']);
    const unknown = await get('/api/datasets/nope/rows/x');
    expect([unknown.status, unknown.body]).toEqual([404, { error: { code: 'not_found', message: 'no dataset named "nope"', field: 'name' } }]);
    for (const name of ['Orders', 'or%22ders', 'dasy_datasets%3B', '1x'])
      for (const path of [`/api/datasets/${name}/rows/x`, `/api/datasets/${name}/rows`, `/api/datasets/${name}/aggregates/customer_totals`])
        expect(await refusal(path)).toEqual([404, 'not_found', 'name']);
    expect(await refusal('/api/datasets/products/rows/nope')).toEqual([404, 'not_found', 'key']);
  });
});

describe('rows in pages', () => {
  test('every row once, in key order, at any page size; the cursor is the last key', async () => {
    for (const limit of [1, 7, 100, 241, 1000]) {
      const { items, pages } = await allPages('/api/datasets/orders/rows', 'rows', limit);
      expect([limit, pages, items]).toEqual([limit, Math.ceil(241 / limit), orderRows]);
    }
    const first = await get('/api/datasets/orders/rows?limit=2');
    expect(first.body).toEqual({ rows: orderRows.slice(0, 2), next: encodeCursor(['o001']) });
    expect((await get('/api/datasets/orders/rows')).body.rows).toEqual(orderRows.slice(0, 100));
  });

  test('a composite key pages in (site, day) order', async () => {
    const { items } = await allPages('/api/datasets/visits/rows', 'rows', 4);
    expect(items).toEqual(VISITS.map(visitRow));
    expect((await get(`/api/datasets/visits/rows?limit=2&after=${encodeCursor(['s2', '2024-03-05'])}`)).body).toEqual({
      rows: VISITS.slice(10, 12).map(visitRow),
      next: encodeCursor(['s3', '2024-03-02']),
    });
    expect((await get('/api/datasets/products/rows')).body).toEqual({ rows: [], next: null });
  });

  test('a bad limit or cursor: 400 naming it', async () => {
    for (const limit of ['0', '1001', 'x', '-1', '2.5'])
      expect(await refusal(`/api/datasets/orders/rows?limit=${limit}`)).toEqual([400, expect.any(String), 'limit']);
    for (const after of [
      'zz',
      '%2B%2F',
      encodeCursor(['a', 'b']),
      Buffer.from('[1]').toString('base64url'),
      encodeCursor(['s1', 'not-a-date']),
      encodeCursor(['s1', '2024-02-30']),
    ])
      expect(await refusal(`/api/datasets/visits/rows?after=${after}`)).toEqual([400, 'invalid_value', 'after']);
    expect(await refusal('/api/datasets/orders/rows?after=a&after=b')).toEqual([400, 'invalid_type', 'after']);
  });
});

describe('aggregates', () => {
  test('a group by its group_by columns, or 404; some but not all: 400 naming the missing one', async () => {
    expect((await get('/api/datasets/orders/aggregates/customer_totals?customer=zed')).body).toEqual(GROUPS.find((g) => g.row.customer === 'zed')!.row);
    expect((await get('/api/datasets/orders/aggregates/customer_totals?customer=%20c05%20')).body).toEqual({
      customer: 'c05',
      orders: 10,
      total_amount: null,
      first_order: generatedOrder(5).row.placed_at,
      last_order: generatedOrder(5 + 9 * 24).row.placed_at,
      max_qty: (5 + 9 * 24) * 1000 - 50000,
    });
    expect((await get('/api/datasets/visits/aggregates/per_site_ok?site=s1&ok=true')).body).toEqual(visitGroups().find((g) => g.site === 's1' && g.ok)!);
    expect((await get('/api/datasets/visits/aggregates/per_site_ok?site=s1&ok=false')).body).toEqual({
      site: 's1',
      ok: false,
      visits: 3,
      total_hits: '9007199254741201',
      top: '9007199254740993',
      first_day: '2024-03-01',
    });
    const r = await get('/api/datasets/orders/aggregates/customer_totals?customer=nobody');
    expect([r.status, r.body]).toEqual([
      404,
      { error: { code: 'not_found', message: 'aggregate customer_totals has no group with customer "nobody"', field: 'group' } },
    ]);
    expect(await refusal('/api/datasets/visits/aggregates/per_site_ok?site=s9&ok=true')).toEqual([404, 'not_found', 'group']);
    expect(await refusal('/api/datasets/visits/aggregates/per_site_ok?site=s1')).toEqual([400, 'missing', 'ok']);
    expect(await refusal('/api/datasets/visits/aggregates/per_site_ok?ok=true')).toEqual([400, 'missing', 'site']);
    expect(await refusal('/api/datasets/visits/aggregates/per_site_ok?site=s1&ok=maybe')).toEqual([400, 'invalid_value', 'ok']);
    expect(await refusal('/api/datasets/orders/aggregates/nope')).toEqual([404, 'not_found', 'aggregate']);
    expect(await refusal('/api/datasets/orders/aggregates/Nope')).toEqual([404, 'not_found', 'aggregate']);
  });

  test('pages by the group key by default', async () => {
    expect((await allPages('/api/datasets/orders/aggregates/customer_totals', 'groups', 4)).items).toEqual(GROUPS.map((g) => g.row));
    expect((await allPages('/api/datasets/visits/aggregates/per_site_ok', 'groups', 5)).items).toEqual(visitGroups());
    expect((await get('/api/datasets/visits/aggregates/per_site_ok?limit=1')).body).toEqual({
      groups: visitGroups().slice(0, 1),
      next: encodeCursor(['s1', 'false']),
    });
    expect((await get('/api/datasets/products/aggregates/product_count')).body).toEqual({ groups: [], next: null });
  });

  test('ordered by a measure, either way, NULLs last and ties by the group key, across pages', async () => {
    const cases: [string, Json[]][] = [
      ['-total_amount', byMeasure((g) => g.micros, true)],
      ['total_amount', byMeasure((g) => g.micros, false)],
      ['orders', byMeasure((g) => g.row.orders as number, false)],
      ['-orders', byMeasure((g) => g.row.orders as number, true)],
      ['-first_order', byMeasure((g) => g.row.first_order as string, true)],
      ['last_order', byMeasure((g) => g.row.last_order as string, false)],
    ];
    for (const [order, expected] of cases)
      for (const limit of [1, 3, 25, 1000]) {
        const { items } = await allPages(`/api/datasets/orders/aggregates/customer_totals?order=${order}`, 'groups', limit);
        expect([order, limit, items]).toEqual([order, limit, expected]);
      }
    // the NULL groups come last, by customer, and a page can end inside them
    const desc = byMeasure((g) => g.micros, true);
    expect(desc.slice(-4).map((g) => [g.customer, g.total_amount])).toEqual([
      ['c05', null],
      ['c11', null],
      ['c17', null],
      ['c23', null],
    ]);
    const page = await get(`/api/datasets/orders/aggregates/customer_totals?order=-total_amount&limit=2&after=${encodeCursor([null, 'c05'])}`);
    expect(page.body).toEqual({ groups: desc.slice(-3, -1), next: encodeCursor([null, 'c17']) });
    const visits = await get('/api/datasets/visits/aggregates/per_site_ok?order=-top&limit=2');
    expect(visits.body).toEqual({
      groups: [visitGroups()[0], visitGroups()[4]],
      next: encodeCursor(['305', 's3', 'false']),
    });
  });

  test('a bad order, limit or cursor: 400 naming it', async () => {
    for (const order of ['nope', '-nope', 'customer', '--orders'])
      expect(await refusal(`/api/datasets/orders/aggregates/customer_totals?order=${order}`)).toEqual([400, 'invalid_value', 'order']);
    expect(await refusal('/api/datasets/orders/aggregates/customer_totals?limit=1001')).toEqual([400, 'out_of_range', 'limit']);
    for (const after of [encodeCursor(['c01']), encodeCursor([null]), encodeCursor(['x', 'c01']), 'WyJ'])
      expect(await refusal(`/api/datasets/orders/aggregates/customer_totals?order=-total_amount&after=${after}`)).toEqual([400, 'invalid_value', 'after']);
    expect(await refusal(`/api/datasets/orders/aggregates/customer_totals?order=-first_order&after=${encodeCursor(['soon', 'c01'])}`)).toEqual([
      400,
      'invalid_value',
      'after',
    ]);
  });
});
