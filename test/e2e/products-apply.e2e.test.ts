import { Pool, PoolClient } from 'pg';
import { BatchInfo } from '../../libs/consumer';
import { withSchema } from '../../libs/db';
import { ProductChange, productsUpsert } from '../../apps/products-consumer';
import { createTestEnv, rows, TestEnv } from './harness';

/**
 * ProductsUpsert's two statements against the real PostgreSQL: after a batch that left most of its
 * rows unchanged (a re-ingest), a partition's next batch leaves unchanged rows out before the
 * upsert (no row lock); it must reach exactly the end state and outbox marks of the plain upsert.
 */

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv('products-apply');
});
afterAll(async () => t?.cleanup());

const info = (partition: number): BatchInfo => ({ topic: 'products', partition, firstOffset: 0n, nextOffset: 1n, highWatermark: 1n });
const record = (sku: string, name: string, description = `${sku} text`): ProductChange => ({ sku, name, description });

/** One batch in its transaction, as the consumer base runs it: the statement it used and the names it marked. */
async function applyBatch(app: ReturnType<typeof productsUpsert>, client: PoolClient, partition: number, items: ProductChange[]) {
  await client.query('BEGIN');
  await app.apply(client, items, info(partition));
  const { rows: marked } = await client.query<{ names: string[] }>('DELETE FROM product_count_outbox RETURNING names');
  await client.query('COMMIT');
  return marked.flatMap((m) => m.names).sort();
}

const products = () => rows(t.pool, 'SELECT sku, name, description FROM products ORDER BY sku');
const prepared = async (client: PoolClient) =>
  (await client.query<{ name: string }>(`SELECT name FROM pg_prepared_statements WHERE name LIKE 'dasy-products-apply%' ORDER BY name`)).rows.map(
    (r) => r.name,
  );

test('a batch after a mostly unchanged one leaves those rows out, and applies every change and mark as the plain upsert does', async () => {
  const app = productsUpsert(t.namespace);
  const client = await t.pool.connect();
  try {
    const first = Array.from({ length: 20 }, (_, i) => record(`s-${String(i).padStart(2, '0')}`, `Name ${i % 4}`));
    // all new: the plain upsert; every name marked
    expect(await applyBatch(app, client, 0, first)).toEqual(first.map((r) => (r as { name: string }).name).sort());
    expect(await prepared(client)).toEqual(['dasy-products-apply']);
    // the same records again: nothing written, nothing marked (still the plain upsert)
    expect(await applyBatch(app, client, 0, first)).toEqual([]);
    expect(await prepared(client)).toEqual(['dasy-products-apply']);
    // mostly unchanged: the other statement, with every kind of change among unchanged rows
    const mixed: ProductChange[] = [
      ...first.slice(5),
      record('s-00', 'Name 0', 'a new description only'),
      record('s-01', 'Moved Name'),
      { sku: 's-02', deleted: true },
      { sku: 'never-was', deleted: true },
      record('s-new', 'Name 0'),
      record('s-03', 'Twice, first'),
      record('s-03', 'Name 3'), // the later message wins: unchanged in the end
      { sku: 's-04', deleted: true },
      record('s-04', 'Back Again', 'recreated'),
    ];
    // a new sku: its name; a sku that moved: both names (s-04 was Name 0); a deleted one: its name
    expect(await applyBatch(app, client, 0, mixed)).toEqual(['Back Again', 'Moved Name', 'Name 0', 'Name 0', 'Name 1', 'Name 2']);
    expect(await prepared(client)).toEqual(['dasy-products-apply', 'dasy-products-apply-changed']);
    const expected = new Map(first.map((r) => [(r as { sku: string }).sku, r as { sku: string; name: string; description: string }]));
    expected.set('s-00', { sku: 's-00', name: 'Name 0', description: 'a new description only' });
    expected.set('s-01', { sku: 's-01', name: 'Moved Name', description: 's-01 text' });
    expected.delete('s-02');
    expected.set('s-new', { sku: 's-new', name: 'Name 0', description: 's-new text' });
    expected.set('s-04', { sku: 's-04', name: 'Back Again', description: 'recreated' });
    expect(await products()).toEqual([...expected.values()].sort((a, b) => (a.sku < b.sku ? -1 : 1)));
  } finally {
    client.release();
  }
});

test('the choice is per partition: a partition whose batches all change goes on with the plain upsert', async () => {
  const app = productsUpsert(t.namespace);
  // a connection of its own: nothing prepared on it yet
  const pool = new Pool({ connectionString: withSchema(t.databaseUrl, t.namespace), max: 1 });
  const client = await pool.connect();
  try {
    const batch = (round: number) => Array.from({ length: 10 }, (_, i) => record(`p1-${i}`, `Round ${round}`));
    expect(await applyBatch(app, client, 1, batch(1))).toEqual(Array(10).fill('Round 1'));
    expect(await applyBatch(app, client, 1, batch(2))).toEqual([...Array(10).fill('Round 1'), ...Array(10).fill('Round 2')]);
    expect(await applyBatch(app, client, 1, batch(3))).toEqual([...Array(10).fill('Round 2'), ...Array(10).fill('Round 3')]);
    expect(await prepared(client)).toEqual(['dasy-products-apply']);
  } finally {
    client.release();
    await pool.end();
  }
});

test('the item-by-item path (one message per call, many calls in one transaction): each call alone, the later message of a sku winning', async () => {
  const app = productsUpsert(t.namespace);
  const client = await t.pool.connect();
  try {
    // a sku changed 60 times among 60 other skus, a tombstone then a record, a record then a tombstone
    const batch: ProductChange[] = [];
    for (let i = 0; i < 60; i++) batch.push(record('it-a', `Step ${i}`), record(`it-${String(i).padStart(2, '0')}`, 'Other'));
    batch.push({ sku: 'it-b', deleted: true }, record('it-b', 'Reborn'), record('it-c', 'Gone'), { sku: 'it-c', deleted: true });
    await client.query('BEGIN');
    for (const item of batch) await app.apply(client, [item], info(2));
    const { rows: marked } = await client.query<{ names: string[] }>('DELETE FROM product_count_outbox RETURNING names');
    await client.query('COMMIT');
    const itemRows = await rows(t.pool, `SELECT sku, name FROM products WHERE sku LIKE 'it-%' ORDER BY sku`);
    expect(itemRows).toEqual([
      ...Array.from({ length: 60 }, (_, i) => ({ sku: `it-${String(i).padStart(2, '0')}`, name: 'Other' })),
      { sku: 'it-a', name: 'Step 59' },
      { sku: 'it-b', name: 'Reborn' },
    ]);
    // every name whose count changed on the way is marked (each step moved it-a: both names)
    const names = new Set(marked.flatMap((m) => m.names));
    expect([...names].sort()).toEqual([...Array.from({ length: 60 }, (_, i) => `Step ${i}`), 'Gone', 'Other', 'Reborn'].sort());
  } finally {
    client.release();
  }
});
