import * as fs from 'fs';
import * as path from 'path';
import { BY_NAME_SQL, BY_PREFIX_SQL } from '../../apps/api/catalog';
import { KEY_MAX_BYTES } from '../../libs/db/key-limit';
import { ApiProcess, call, startApi } from './api-client';
import { createTestEnv, rows, runCli, TestEnv } from './harness';

/**
 * The catalogue api over real HTTP, on products ingested through the real pipeline, in a database
 * whose default collation is ICU en-US (where "A" sorts between "a" and "b"): a sku prefix must
 * still be exactly the skus that start with it, in code point order.
 */

let t: TestEnv;
let api: ApiProcess;

type Product = { sku: string; name: string; description: string };

const BIG = 'Big Owner';
/** skus whose order differs between code points and a linguistic collation, and the edges of prefixes */
const TRICKY = [
  'a',
  'A',
  'a b',
  'a-b',
  'a.b',
  'ab',
  'aB',
  'Ab',
  'b',
  'a\u{10FFFF}',
  'a\u{10FFFF}x',
  'a\u{10FFFF}\u{10FFFF}',
  'b\u{10FFFF}',
  '\u{10FFFF}',
  '\u{10FFFF}z',
  'x\uD7FF',
  'x\uD7FFy',
  'x\uE000',
  'e',
  'é',
  'ea',
  'éa',
  'E',
  '😀',
  '😀1',
  '\uFFFF',
  'a/b',
  'a%2Fb',
  'a?b#c',
  'red apple',
  'red-apple',
];
const products: Product[] = [
  ...Array.from({ length: 1234 }, (_, i) => ({ sku: `big-${String(i).padStart(4, '0')}`, name: BIG, description: `big ${i}` })),
  ...TRICKY.map((sku, i) => ({ sku, name: i % 2 ? 'Odd / Name' : 'Even % Name', description: `tricky ${i}, "quoted"` })),
  { sku: 'solo', name: 'Solo', description: 'one\nof a kind' },
];
/** the longest keys the ingest stores (libs/db/key-limit.ts): the catalogue serves them */
const LONGEST = { sku: 'k'.repeat(KEY_MAX_BYTES), name: 'n'.repeat(KEY_MAX_BYTES - 2) + 'é', description: 'the longest keys' };
products.push(LONGEST);

/** Code point order: UTF-8 bytes compared, as the "C" collation of products.sku does. */
const byCodePoint = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const sorted = (ps: Product[]) => [...ps].sort((a, b) => byCodePoint(a.sku, b.sku));

const get = (p: string) => call('GET', `${api.url}${p}`);
const enc = encodeURIComponent;

/** Every page of a listing, following `next` until null; checks each page's shape on the way. */
async function allPages(query: string, limit?: number): Promise<{ products: Product[]; pages: number }> {
  const out: Product[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const url: string = `/api/catalog/products?${query}${limit ? `&limit=${limit}` : ''}${after === null ? '' : `&after=${enc(after)}`}`;
    const r = await get(url);
    expect([url, r.status]).toEqual([url, 200]);
    pages++;
    expect(Object.keys(r.body).sort()).toEqual(['filter', 'next', 'products', 'value']);
    out.push(...r.body.products);
    if (r.body.next === null) break;
    // a page with a next page is full, and its cursor is its last sku
    expect(r.body.products.length).toBe(limit ?? 100);
    expect(r.body.next).toBe(r.body.products[r.body.products.length - 1].sku);
    after = r.body.next;
    if (pages > 5000) throw new Error('runaway pagination');
  }
  return { products: out, pages };
}

beforeAll(async () => {
  t = await createTestEnv('catalog', { icuLocale: 'en-US' });
  const file = path.join(t.tmp, 'catalog.csv');
  const csv = (s: string) => '"' + s.replace(/"/g, '""') + '"';
  fs.writeFileSync(file, ['name,sku,description', ...products.map((p) => [p.name, p.sku, p.description].map(csv).join(','))].join('\n') + '\n');
  const r = await runCli(t, ['ingest', '--file', file]);
  if (r.code !== 0) throw new Error(`ingest exited ${r.code}: ${r.stderr}`);
  api = await startApi(t);
}, 180000);

afterAll(async () => {
  await api?.stop();
  await t?.cleanup();
});

test('the database collates linguistically, and the ingest stored every product', async () => {
  expect(await rows(t.pool, `SELECT 'A' < 'b' AS a_before_b, 'a' < 'A' AS a_before_cap`)).toEqual([{ a_before_b: true, a_before_cap: true }]);
  expect(await rows(t.pool, 'SELECT count(*)::int AS n FROM products')).toEqual([{ n: products.length }]);
});

test('names compare byte by byte too (migration NameOrder): products and product_count order by name in code point order', async () => {
  // in this database's en-US collation the longest name ("nn…é") sorts before "Odd / Name"; in code point order, after "Solo"
  const names = [...new Set(products.map((p) => p.name))].sort(byCodePoint);
  expect(names[names.length - 1]).toBe(LONGEST.name);
  expect((await rows<{ name: string }>(t.pool, 'SELECT name FROM product_count ORDER BY name')).map((r) => r.name)).toEqual(names);
  expect((await rows<{ name: string }>(t.pool, 'SELECT DISTINCT name FROM products ORDER BY name')).map((r) => r.name)).toEqual(names);
});

describe('GET /api/catalog/products/:sku', () => {
  test.each(TRICKY.concat(['big-0007', 'solo']))('%j → its row', async (sku) => {
    const r = await get(`/api/catalog/products/${enc(sku)}`);
    expect([r.status, r.body]).toEqual([200, products.find((p) => p.sku === sku)]);
  });

  test('the sku is trimmed (skus are stored trimmed); an unknown one is a 404 naming the sku', async () => {
    expect((await get(`/api/catalog/products/${enc('  solo ')}`)).body).toEqual({ sku: 'solo', name: 'Solo', description: 'one\nof a kind' });
    const r = await get('/api/catalog/products/nope');
    expect([r.status, r.body]).toEqual([404, { error: { code: 'not_found', message: 'no product with sku "nope"', field: 'sku' } }]);
  });
});

describe('GET /api/catalog/names/:name', () => {
  test('the count of a name, as product_count has it; 404 for a name without products', async () => {
    expect((await get(`/api/catalog/names/${enc(BIG)}`)).body).toEqual({ name: BIG, no_of_products: 1234 });
    expect((await get(`/api/catalog/names/${enc('Odd / Name')}`)).body).toEqual({ name: 'Odd / Name', no_of_products: 15 });
    expect((await get(`/api/catalog/names/${enc('Even % Name')}`)).body).toEqual({ name: 'Even % Name', no_of_products: 16 });
    const r = await get('/api/catalog/names/Nobody');
    expect([r.status, r.body]).toEqual([404, { error: { code: 'not_found', message: 'no product is named "Nobody"', field: 'name' } }]);
  });
});

describe('GET /api/catalog/products?name=', () => {
  const ofName = (name: string) => sorted(products.filter((p) => p.name === name));

  test.each([undefined, 7, 100, 500])('pages of %s: together, exactly the products of the name in sku order', async (limit) => {
    const { products: got, pages } = await allPages(`name=${enc(BIG)}`, limit);
    expect(got).toEqual(ofName(BIG));
    expect(pages).toBe(Math.ceil(1234 / (limit ?? 100)));
  });

  test('names with reserved URL characters; a name without products is one empty page', async () => {
    expect((await allPages(`name=${enc('Odd / Name')}`, 4)).products).toEqual(ofName('Odd / Name'));
    expect((await allPages(`name=${enc(' Even % Name ')}`)).products).toEqual(ofName('Even % Name'));
    const r = await get('/api/catalog/products?name=Nobody');
    expect(r.body).toEqual({ filter: 'name', value: 'Nobody', products: [], next: null });
  });

  test('a page that ends exactly at the last product says there is no next page', async () => {
    const r = await get(`/api/catalog/products?name=Solo&limit=1`);
    expect(r.body).toEqual({ filter: 'name', value: 'Solo', products: [{ sku: 'solo', name: 'Solo', description: 'one\nof a kind' }], next: null });
  });
});

describe('GET /api/catalog/products?q=', () => {
  const withPrefix = (q: string) => sorted(products.filter((p) => p.sku.startsWith(q)));

  test('pages of every size: together, exactly the skus with the prefix, in code point order', async () => {
    for (const limit of [1, 99, 100, 500]) {
      const { products: got, pages } = await allPages('q=big-', limit);
      expect(got).toEqual(withPrefix('big-'));
      expect(pages).toBe(Math.ceil(1234 / limit));
    }
  });

  test.each([
    'a',
    'A',
    'a-',
    'ab',
    'aB',
    'a\u{10FFFF}',
    '\u{10FFFF}',
    'x\uD7FF',
    'x',
    'e',
    'é',
    'E',
    '😀',
    '\uFFFF',
    'red ',
    'a/',
    'a%',
    'b',
    'big-12',
    'nothing',
  ])('prefix %j: exactly the skus starting with it, in code point order', async (q) => {
    const expected = withPrefix(q);
    expect((await allPages(`q=${enc(q)}`, 2)).products).toEqual(expected);
    expect((await allPages(`q=${enc(q)}`)).products).toEqual(expected);
  });

  test('after any string (not only a sku): the skus above it', async () => {
    const r = await get(`/api/catalog/products?q=big-&after=${enc('big-1229x')}`);
    expect(r.body.products.map((p: Product) => p.sku)).toEqual(['big-1230', 'big-1231', 'big-1232', 'big-1233']);
    expect(r.body.next).toBeNull();
    const all = await get(`/api/catalog/products?q=a&after=`);
    expect(all.body.products).toEqual(withPrefix('a'));
  });
});

test('the longest sku and name the ingest stores are served; one byte more is refused (below)', async () => {
  expect((await get(`/api/catalog/products/${LONGEST.sku}`)).body).toEqual(LONGEST);
  expect((await get(`/api/catalog/names/${enc(LONGEST.name)}`)).body).toEqual({ name: LONGEST.name, no_of_products: 1 });
  expect((await get(`/api/catalog/products?name=${enc(LONGEST.name)}`)).body.products).toEqual([LONGEST]);
});

describe('bad requests: 400 naming the field, in the api error format', () => {
  // one byte over the key limit in UTF-8 (1,001 characters)
  const long = enc('é'.repeat(KEY_MAX_BYTES / 2) + 'x');
  const tooLong = (field: string) => `${field} must be at most ${KEY_MAX_BYTES} bytes in UTF-8`;
  test.each([
    ['/api/catalog/products', 'missing', 'name', 'give exactly one filter: name (products of that name) or q (skus starting with it)'],
    ['/api/catalog/products?name=a&q=b', 'ambiguous', 'q', 'give exactly one filter, not name and q'],
    ['/api/catalog/products?q=', 'empty', 'q', 'q must not be empty'],
    ['/api/catalog/products?name=%20%20', 'empty', 'name', 'name must not be empty'],
    ['/api/catalog/products?q=a&q=b', 'invalid_type', 'q', 'q must be given once'],
    ['/api/catalog/products?q=a%00b', 'invalid_value', 'q', 'q must not contain NUL or unpaired surrogate characters'],
    ['/api/catalog/products?name=%00', 'invalid_value', 'name', 'name must not contain NUL or unpaired surrogate characters'],
    [`/api/catalog/products?q=${long}`, 'too_long', 'q', tooLong('q')],
    ['/api/catalog/products?q=a&limit=0', 'out_of_range', 'limit', 'limit must be from 1 to 500'],
    ['/api/catalog/products?q=a&limit=501', 'out_of_range', 'limit', 'limit must be from 1 to 500'],
    ['/api/catalog/products?q=a&limit=ten', 'invalid_value', 'limit', 'limit must be a whole number from 1 to 500'],
    ['/api/catalog/products?q=a&limit=1e2', 'invalid_value', 'limit', 'limit must be a whole number from 1 to 500'],
    ['/api/catalog/products?q=a&after=%00', 'invalid_value', 'after', 'after must not contain NUL or unpaired surrogate characters'],
    [`/api/catalog/products?q=a&after=${long}`, 'too_long', 'after', tooLong('after')],
    ['/api/catalog/products/%00', 'invalid_value', 'sku', 'sku must not contain NUL or unpaired surrogate characters'],
    ['/api/catalog/products/%20', 'empty', 'sku', 'sku must not be empty'],
    [`/api/catalog/products/${long}`, 'too_long', 'sku', tooLong('sku')],
    ['/api/catalog/names/a%00', 'invalid_value', 'name', 'name must not contain NUL or unpaired surrogate characters'],
    [`/api/catalog/names/${long}`, 'too_long', 'name', tooLong('name')],
  ])('%s → %s (%s)', async (url, code, field, message) => {
    const r = await get(url);
    expect([r.status, r.headers.get('content-type'), r.body]).toEqual([400, 'application/json; charset=utf-8', { error: { code, message, field } }]);
  });
});

describe('the queries use the indexes', () => {
  /**
   * The plan of the api's own statement, with the request's values. The test's table is small
   * enough for a sequential (or bitmap) scan to win: ruled out here, this shows what the index can
   * do for the statement (a condition it cannot use would still need the scan).
   */
  async function plan(sql: string, params: unknown[]): Promise<string> {
    const client = await t.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off');
      const { rows: r } = await client.query(`EXPLAIN (COSTS OFF) ${sql}`, params);
      return r.map((x: { 'QUERY PLAN': string }) => x['QUERY PLAN']).join('\n');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  test('a prefix is one range of the primary key, read in its order (no sort)', async () => {
    const p = await plan(BY_PREFIX_SQL, ['big-1', 'big-2', 'big-10', 101]);
    expect(p).toBe(
      [
        'Limit',
        '  ->  Index Scan using products_pkey on products',
        "        Index Cond: ((sku >= 'big-1'::text) AND (sku < 'big-2'::text) AND (sku > 'big-10'::text))",
      ].join('\n'),
    );
  });

  test("a name's products come from products_name_idx (a page sorts the products of its name)", async () => {
    // With the table's statistics, as a running system has them: a name of a few products (the
    // usual case: two on average) is read through its index. (For a name that holds most of this
    // small table, walking the primary key in sku order is cheaper, and the planner knows it.)
    await t.pool.query('ANALYZE products');
    const p = await plan(BY_NAME_SQL, ['Solo', '', 101]);
    expect(p).toBe(
      [
        'Limit',
        '  ->  Sort',
        '        Sort Key: sku COLLATE "C"',
        '        ->  Index Scan using products_name_idx on products',
        "              Index Cond: (name = 'Solo'::text)",
        "              Filter: (sku > ''::text)",
      ].join('\n'),
    );
  });
});
