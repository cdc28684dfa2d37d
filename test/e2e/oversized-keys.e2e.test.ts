import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'csv-parse/sync';
import { KEY_MAX_BYTES } from '../../libs/db/key-limit';
import { topicName } from '../../libs/kafka/topics';
import { kafkaOf, readMessages } from './faults-kit';
import { createTestEnv, rows, runCli, TestEnv, writeTmp } from './harness';

/**
 * DESIGN.md §5: a sku or a name over the key limit in UTF-8 bytes (one that always fits the btree)
 * is rejected at its line like any other rule, through the real `dasy ingest`, `dasy delete` and
 * `dasy ingest --sync`: each ends (a 3,200-byte key used to stall the products consumer for ever),
 * and the limit itself is stored and counted.
 */

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv('oversizedkeys');
});
afterAll(async () => t?.cleanup());

/** Random letters and digits, what PostgreSQL cannot compress into the index row (a hash, a URL). */
const incompressible = (n: number) => randomBytes(n).toString('hex').slice(0, n);
const LONG_SKU = incompressible(3200);
const LONG_NAME = incompressible(3200);
const AT_LIMIT = 'é'.repeat(KEY_MAX_BYTES / 2); // exactly the limit: 2 bytes a character
const OVER = (reason: string) => `${reason} is longer than ${KEY_MAX_BYTES} bytes in UTF-8`;

async function summaryOf(args: string[]) {
  const rejects = path.join(t.tmp, `${args.join('-').replace(/\W/g, '')}.rejects.csv`);
  const r = await runCli(t, [...args, '--rejects', rejects]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const lines = r.stdout.trim().split('\n');
  const reported = parse(fs.readFileSync(rejects), { columns: true }) as { line: string; reason: string }[];
  return { summary: JSON.parse(lines[lines.length - 1]), rejects: reported.map((x) => [Number(x.line), x.reason]) };
}

const products = () => rows(t.pool, 'SELECT sku, name FROM products ORDER BY sku');

test('ingest: keys over the limit are rejected at their lines, the rest stored, keys at the limit too', async () => {
  const file = writeTmp(
    t,
    'keys.csv',
    [
      'name,sku,description', // 1
      'Ann,a-1,ok', // 2
      `Bob,${LONG_SKU},a sku over the btree's limit`, // 3
      `${LONG_NAME},c-3,a name over it`, // 4
      `${AT_LIMIT},${AT_LIMIT},both at the limit`, // 5
      `Dee,${AT_LIMIT}x,one byte over`, // 6
      'Eve,e-5,after them', // 7
    ].join('\n') + '\n',
  );
  const { summary, rejects } = await summaryOf(['ingest', '--file', file]);
  expect([summary.records, summary.accepted, summary.rejected, summary.products, summary.names]).toEqual([6, 3, 3, 3, 3]);
  expect(rejects).toEqual([
    [3, OVER('sku')],
    [4, OVER('name')],
    [6, OVER('sku')],
  ]);
  expect(await products()).toEqual([
    { sku: 'a-1', name: 'Ann' },
    { sku: 'e-5', name: 'Eve' },
    { sku: AT_LIMIT, name: AT_LIMIT },
  ]);
  expect(await rows(t.pool, 'SELECT name, no_of_products FROM product_count ORDER BY name')).toEqual([
    { name: 'Ann', no_of_products: 1 },
    { name: 'Eve', no_of_products: 1 },
    { name: AT_LIMIT, no_of_products: 1 },
  ]);
  // the same reports reach <ns>.products.rejects, with their lines
  const reported = await readMessages(kafkaOf(t), topicName(t.namespace, 'productsRejects'), 3);
  expect(reported.map((m) => JSON.parse(m.value!)).map((v: { line: number; reason: string }) => [v.line, v.reason])).toEqual(rejects);
});

test('delete and ingest --sync: a sku over the limit is rejected at its line, the rest of the file goes on', async () => {
  const skus = writeTmp(t, 'skus.csv', ['sku', LONG_SKU, 'a-1', `${AT_LIMIT}x`].join('\n') + '\n');
  const deleted = await summaryOf(['delete', '--file', skus]);
  expect([deleted.summary.records, deleted.summary.accepted, deleted.summary.rejected, deleted.summary.deleted]).toEqual([3, 1, 2, 1]);
  expect(deleted.rejects).toEqual([
    [2, OVER('sku')],
    [4, OVER('sku')],
  ]);
  expect(await products()).toEqual([
    { sku: 'e-5', name: 'Eve' },
    { sku: AT_LIMIT, name: AT_LIMIT },
  ]);

  // the whole catalogue: e-5 and a new one; the long sku protects nothing and stops nothing
  const catalogue = writeTmp(t, 'catalogue.csv', ['name,sku,description', 'Eve,e-5,kept', `Bob,${LONG_SKU},over`, 'Fay,f-6,new'].join('\n') + '\n');
  const synced = await summaryOf(['ingest', '--sync', '--file', catalogue]);
  expect([synced.summary.accepted, synced.summary.rejected, synced.summary.deleted, synced.summary.products]).toEqual([2, 1, 1, 2]);
  expect(synced.rejects).toEqual([[3, OVER('sku')]]);
  expect(await products()).toEqual([
    { sku: 'e-5', name: 'Eve' },
    { sku: 'f-6', name: 'Fay' },
  ]);
});
