import * as fs from 'fs';
import * as path from 'path';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { withDatabase } from '../../libs/config';
import { dropDatabase, ensureDatabase, withSchema } from '../../libs/db';
import { LEGACY_TABLES } from '../../libs/db/schema';
import { MIGRATIONS } from '../../migrations';
import { createTestEnv, rows, runCli, TestEnv } from './harness';

/**
 * Namespaces isolate data (DESIGN.md §3): each has its own PostgreSQL schema, named as the
 * namespace. Two namespaces run side by side in ONE database: each sees only its own rows, and
 * `dasy reset` of one leaves the other's intact.
 */

let t: TestEnv;
/** the second namespace: a dot, a dash, capitals (quoted identifiers everywhere) */
let other: string;
let otherPool: Pool;

/** A pool working in one schema; an idle connection dropped by the server does not crash the test file. */
function schemaPool(databaseUrl: string, schema: string): Pool {
  const pool = new Pool({ connectionString: withSchema(databaseUrl, schema), max: 2 });
  pool.on('error', () => undefined);
  return pool;
}

beforeAll(async () => {
  t = await createTestEnv('namespaces');
  other = `${t.namespace}.Other-NS`; // under the harness's namespace: its cleanup deletes these topics too
  otherPool = schemaPool(t.databaseUrl, other);
});
afterAll(async () => {
  await otherPool?.end();
  await t?.cleanup();
});

type Product = { sku: string; name: string; description: string };

/** The migrations of an install from before namespaces had schemas. */
const BEFORE_SCHEMAS = MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => new m().name === 'DeadLetters1732300002000') + 1);

function write(name: string, products: Product[]): string {
  const file = path.join(t.tmp, name);
  fs.writeFileSync(file, ['name,sku,description', ...products.map((p) => `${p.name},${p.sku},${p.description}`)].join('\n') + '\n');
  return file;
}

/** The tables a file must give, computed here (skus sorted by code point, as the C collation does). */
function expected(products: Product[]) {
  const bySku = new Map(products.map((p) => [p.sku, p]));
  const sorted = [...bySku.values()].sort((a, b) => (a.sku < b.sku ? -1 : 1));
  const counts = new Map<string, number>();
  for (const p of sorted) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
  return {
    products: sorted,
    counts: [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([name, no_of_products]) => ({ name, no_of_products })),
  };
}

const tables = async (pool: Pool) => ({
  products: await rows<Product>(pool, 'SELECT sku, name, description FROM products ORDER BY sku'),
  counts: await rows(pool, 'SELECT name, no_of_products FROM product_count ORDER BY name'),
});

async function cli(namespace: string, args: string[]) {
  const r = await runCli(t, args, { DASY_NAMESPACE: namespace });
  if (r.code !== 0) throw new Error(`dasy ${args.join(' ')} (namespace ${namespace}) exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const status = async (namespace: string) => JSON.parse(await cli(namespace, ['status', '--json']));

test('two namespaces in one database: each sees only its own rows, and a reset of one leaves the other intact', async () => {
  // The same skus in both files, with other names and descriptions: a shared table would mix them.
  const mine = Array.from({ length: 30 }, (_, i) => ({ sku: `sku-${i}`, name: `Mine ${i % 4}`, description: `mine ${i}` }));
  const theirs = Array.from({ length: 45 }, (_, i) => ({ sku: `sku-${i}`, name: `Theirs ${i % 6}`, description: `theirs ${i}` }));
  await cli(t.namespace, ['ingest', '--file', write('mine.csv', mine)]);
  await cli(other, ['ingest', '--file', write('theirs.csv', theirs)]);

  expect(await tables(t.pool)).toEqual(expected(mine));
  expect(await tables(otherPool)).toEqual(expected(theirs));
  const schemas = await rows<{ s: string }>(t.pool, `SELECT nspname AS s FROM pg_namespace WHERE nspname IN ($1, $2, 'public') ORDER BY 1`, [
    t.namespace,
    other,
  ]);
  expect(schemas.map((r) => r.s)).toEqual(['public', t.namespace, other].sort());
  // Nothing of dasy's in public.
  expect(await rows(t.pool, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).toEqual([]);

  const mineStatus = await status(t.namespace);
  const theirStatus = await status(other);
  expect([mineStatus.namespace, mineStatus.tables, mineStatus.outbox]).toEqual([t.namespace, { products: 30, product_count: 4 }, 0]);
  expect([theirStatus.namespace, theirStatus.tables, theirStatus.outbox]).toEqual([other, { products: 45, product_count: 6 }, 0]);
  expect(theirStatus.groups.map((g: { group: string; lag: string }) => [g.group, g.lag])).toEqual([
    [`${other}.products-consumer`, '0'],
    [`${other}.product-count-consumer`, '0'],
    [`${other}.scores-consumer`, '0'],
    [`${other}.events-consumer`, '0'],
  ]);
  const theirOffsets = await rows<{ group_id: string }>(
    otherPool,
    'SELECT group_id, topic, partition, next_offset FROM dasy_consumer_offsets ORDER BY 1, 2, 3',
  );
  expect([...new Set(theirOffsets.map((r) => r.group_id))]).toEqual([`${other}.product-count-consumer`, `${other}.products-consumer`]);

  // Reset one: its rows and stored offsets go; the other's stay exactly as they were.
  const said = await cli(t.namespace, ['reset']);
  expect(said).toContain(`reset namespace ${t.namespace}:`);
  expect(await tables(t.pool)).toEqual({ products: [], counts: [] });
  expect(await rows(t.pool, 'SELECT * FROM dasy_consumer_offsets')).toEqual([]);
  expect(await tables(otherPool)).toEqual(expected(theirs));
  expect(await rows(otherPool, 'SELECT group_id, topic, partition, next_offset FROM dasy_consumer_offsets ORDER BY 1, 2, 3')).toEqual(theirOffsets);
  expect((await status(other)).tables).toEqual({ products: 45, product_count: 6 });
  expect((await status(t.namespace)).tables).toEqual({ products: 0, product_count: 0 });

  // And the other way round: the first namespace ingests again, the second resets.
  await cli(t.namespace, ['ingest', '--file', write('mine2.csv', mine.slice(0, 10))]);
  await cli(other, ['reset']);
  expect(await tables(otherPool)).toEqual({ products: [], counts: [] });
  expect(await tables(t.pool)).toEqual(expected(mine.slice(0, 10)));
}, 240000);

test("an install from before namespaces had schemas: namespace dasy's first migration run moves public's tables into schema dasy", async () => {
  const url = withDatabase(t.databaseUrl, `${new URL(t.databaseUrl).pathname.slice(1)}_legacy`);
  await dropDatabase(url);
  await ensureDatabase(url);
  try {
    // The old layout: the migrations released before schemas (up to DeadLetters) applied in public, with rows.
    const legacy = new DataSource({ type: 'postgres', url, migrations: BEFORE_SCHEMAS, migrationsTableName: 'dasy_migrations', logging: false });
    await legacy.initialize();
    await legacy.runMigrations({ transaction: 'each' });
    await legacy.query(`INSERT INTO products (sku, name, description) VALUES ('b-2', 'Bo', 'two'), ('a-1', 'Al', 'one')`);
    await legacy.query(`INSERT INTO product_count (name, no_of_products) VALUES ('Al', 1), ('Bo', 1)`);
    await legacy.query(`INSERT INTO dasy_consumer_offsets (group_id, topic, partition, next_offset) VALUES ('dasy.products-consumer', 'dasy.products', 0, 2)`);
    await legacy.query(`INSERT INTO product_count_outbox (namespace, names) VALUES ('dasy', '{Al}')`);
    await legacy.destroy();

    const r = await runCli(t, ['migrate', 'up'], { DATABASE_URL: url, DASY_NAMESPACE: 'dasy' });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout.trim()).toBe(
      `applied ${MIGRATIONS.length - BEFORE_SCHEMAS.length} migration(s): ${MIGRATIONS.slice(BEFORE_SCHEMAS.length)
        .map((m) => new m().name)
        .join(', ')}`,
    );

    const admin = schemaPool(url, 'public');
    const dasy = schemaPool(url, 'dasy');
    try {
      const where = await rows<{ schema: string; t: string }>(
        admin,
        `SELECT schemaname AS schema, tablename AS t FROM pg_tables WHERE schemaname IN ('public', 'dasy') ORDER BY 1, 2`,
      );
      // the moved tables, and those of the migrations after them (ScoreDeadLetters, CsvFiles, ScoreRequests, Datasets)
      expect(where).toEqual(
        [...LEGACY_TABLES, 'score_dead_letters', 'dasy_csv_files', 'score_requests', 'dasy_datasets', 'dasy_dataset_outbox']
          .sort()
          .map((t) => ({ schema: 'dasy', t })),
      );
      expect(await rows(dasy, 'SELECT sku, name, description FROM products ORDER BY sku')).toEqual([
        { sku: 'a-1', name: 'Al', description: 'one' },
        { sku: 'b-2', name: 'Bo', description: 'two' },
      ]);
      expect(await rows(dasy, 'SELECT name, no_of_products FROM product_count ORDER BY name')).toEqual([
        { name: 'Al', no_of_products: 1 },
        { name: 'Bo', no_of_products: 1 },
      ]);
      expect(await rows(dasy, 'SELECT group_id, next_offset FROM dasy_consumer_offsets')).toEqual([{ group_id: 'dasy.products-consumer', next_offset: '2' }]);
      // the identity sequence moved with its table: the next mark gets the next id
      expect(await rows(dasy, `INSERT INTO product_count_outbox (namespace, names) VALUES ('dasy', '{Bo}') RETURNING id`)).toEqual([{ id: '2' }]);
      expect((await rows<{ name: string }>(dasy, 'SELECT name FROM dasy_migrations ORDER BY id')).map((m) => m.name)).toEqual(
        MIGRATIONS.map((m) => new m().name),
      );

      // A second run changes nothing; another namespace gets a schema of its own, empty.
      const again = await runCli(t, ['migrate', 'up'], { DATABASE_URL: url, DASY_NAMESPACE: 'dasy' });
      expect(again.stdout.trim()).toBe('migrations: already up to date');
      const next = await runCli(t, ['migrate', 'up'], { DATABASE_URL: url, DASY_NAMESPACE: 'next' });
      expect(next.stdout.trim()).toBe(`applied ${MIGRATIONS.length} migration(s): ${MIGRATIONS.map((m) => new m().name).join(', ')}`);
      const nextPool = schemaPool(url, 'next');
      try {
        expect(await rows(nextPool, 'SELECT * FROM products')).toEqual([]);
      } finally {
        await nextPool.end();
      }
      expect(await rows(dasy, 'SELECT count(*)::int AS n FROM products')).toEqual([{ n: 2 }]);
    } finally {
      await admin.end();
      await dasy.end();
    }
  } finally {
    await dropDatabase(url);
  }
});
