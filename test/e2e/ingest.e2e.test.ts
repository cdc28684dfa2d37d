import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'csv-parse/sync';
import { createKafka } from '../../libs/kafka/client';
import { topicName } from '../../libs/kafka/topics';
import { createLogger } from '../../libs/log';
import { childProcesses, createTestEnv, ROOT, rows, runCli, startCli, TestEnv, waitFor, writeTmp } from './harness';

/** The products-ingest rules (DESIGN.md §5), through the real `dasy ingest` against Kafka and PostgreSQL. */

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv('ingest');
});
afterAll(async () => t?.cleanup());

async function ingest(file: string, extra: string[] = []) {
  const rejects = path.join(t.tmp, `${path.basename(file)}.rejects.csv`);
  const r = await runCli(t, ['ingest', '--file', file, '--rejects', rejects, '--consumers', '2', ...extra]);
  if (r.code !== 0) throw new Error(`ingest exited ${r.code}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  const summary = JSON.parse(lines[lines.length - 1]);
  return { summary, rejects: parse(fs.readFileSync(rejects), { columns: true }) as { line: string; reason: string; raw: string }[], stderr: r.stderr };
}

const products = () => rows(t.pool, 'SELECT sku, name, description FROM products ORDER BY sku');
const counts = () => rows(t.pool, 'SELECT name, no_of_products FROM product_count ORDER BY name');
const groupBy = () => rows(t.pool, 'SELECT name, count(*)::int AS no_of_products FROM products GROUP BY name ORDER BY name');

const DIRTY = [
  'name,sku,description', //                         1
  'Ann Lee,a-one,"commas, inside"', //               2
  'Bo Li,b-two,"say ""hi"" twice"', //               3
  'Cy Ma,c-three,"first line', //                    4
  'second line"', //                                 5
  '', //                                             6 blank
  'Di Ng,d-four', //                                 7 too few fields
  'Ed Ox,e-five,x,extra', //                         8 too many
  'Fi Po,   ,no sku', //                             9 empty sku
  '   ,g-seven,no name', //                          10 empty name
  'Gu Qi,h-eight,nul\u0000here', //                  11 NUL
  'Ha Ra,i"nine,quote in unquoted', //               12 malformed
  'Io Sa,"j-ten"x,after closing quote', //           13 malformed
  '  Ann Lee  ,  k-eleven  ,  kept exactly  ', //    14 padded
  'Bo Li,a-one,later wins', //                       15 repeat of a-one
].join('\n');

test('a dirty file: every accepted record stored, every reject reported with its line and reason', async () => {
  const file = writeTmp(t, 'dirty.csv', DIRTY + '\n');
  const { summary, rejects } = await ingest(file);
  expect({ ...summary, seconds: typeof summary.seconds }).toEqual({
    file,
    records: 12,
    accepted: 5,
    rejected: 7,
    products: 4,
    names: 3,
    seconds: 'number',
  });
  expect(await products()).toEqual([
    { sku: 'a-one', name: 'Bo Li', description: 'later wins' },
    { sku: 'b-two', name: 'Bo Li', description: 'say "hi" twice' },
    { sku: 'c-three', name: 'Cy Ma', description: 'first line\nsecond line' },
    { sku: 'k-eleven', name: 'Ann Lee', description: '  kept exactly  ' },
  ]);
  expect(await counts()).toEqual([
    { name: 'Ann Lee', no_of_products: 1 },
    { name: 'Bo Li', no_of_products: 2 },
    { name: 'Cy Ma', no_of_products: 1 },
  ]);
  const expectedRejects = [
    { line: '7', reason: 'wrong number of fields: expected 3, got 2', raw: 'Di Ng,d-four' },
    { line: '8', reason: 'wrong number of fields: expected 3, got 4', raw: 'Ed Ox,e-five,x,extra' },
    { line: '9', reason: 'sku is empty', raw: 'Fi Po,   ,no sku' },
    { line: '10', reason: 'name is empty', raw: '   ,g-seven,no name' },
    { line: '11', reason: 'a field holds a NUL character', raw: 'Gu Qi,h-eight,nul\u0000here' },
    { line: '12', reason: 'malformed: quote inside an unquoted field', raw: 'Ha Ra,i"nine,quote in unquoted' },
    { line: '13', reason: 'malformed: character after a closing quote', raw: 'Io Sa,"j-ten"x,after closing quote' },
  ];
  expect(rejects).toEqual(expectedRejects);

  // The same reports reach <ns>.products.rejects.
  const kafka = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'ingest-test', logger: createLogger('test') });
  const consumer = kafka.consumer({ groupId: `${t.namespace}.rejects-reader`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: topicName(t.namespace, 'productsRejects'), fromBeginning: true });
  const seen: { line: number; reason: string; raw: string; file: string }[] = [];
  await new Promise<void>((resolve) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          seen.push(JSON.parse(message.value!.toString()));
          if (seen.length === expectedRejects.length) resolve();
        },
      })
      .catch((err: unknown) => process.stderr.write(`consumer.run failed: ${String(err)}\n`));
  });
  await consumer.disconnect();
  expect(seen).toEqual(expectedRejects.map((r) => ({ file: 'dirty.csv', line: Number(r.line), reason: r.reason, raw: r.raw })));
});

test('ingesting the same file again changes nothing', async () => {
  const before = { p: await products(), c: await counts() };
  const { summary } = await ingest(path.join(t.tmp, 'dirty.csv'));
  expect([summary.records, summary.accepted, summary.rejected, summary.products, summary.names]).toEqual([12, 5, 7, 4, 3]);
  expect(await products()).toEqual(before.p);
  expect(await counts()).toEqual(before.c);
});

test('a second file applies on top: a sku moves names, a name drops to zero and is gone', async () => {
  const file = writeTmp(t, 'second.csv', ['sku,description,name', 'c-three,moved,Ann Lee', 'z-new,fresh,Zed Zu', 'b-two,same name new text,Bo Li'].join('\n'));
  const { summary } = await ingest(file);
  expect([summary.records, summary.accepted, summary.rejected, summary.products, summary.names]).toEqual([3, 3, 0, 5, 3]);
  expect(await products()).toEqual([
    { sku: 'a-one', name: 'Bo Li', description: 'later wins' },
    { sku: 'b-two', name: 'Bo Li', description: 'same name new text' },
    { sku: 'c-three', name: 'Ann Lee', description: 'moved' },
    { sku: 'k-eleven', name: 'Ann Lee', description: '  kept exactly  ' },
    { sku: 'z-new', name: 'Zed Zu', description: 'fresh' },
  ]);
  // Cy Ma had one product, which moved: the name is gone.
  expect(await counts()).toEqual([
    { name: 'Ann Lee', no_of_products: 2 },
    { name: 'Bo Li', no_of_products: 2 },
    { name: 'Zed Zu', no_of_products: 1 },
  ]);
  expect(await counts()).toEqual(await groupBy());
});

test('BOM, CRLF, reordered and extra columns, blank lines, quoted multi-line fields with CRLF inside', async () => {
  const text = '\uFEFFDescription,Extra,SKU,Name\r\n\r\n"two\r\nlines, one comma",x, bom-1 ,Ann Lee\r\nplain,y,bom-2,Ann Lee\r\n';
  const file = writeTmp(t, 'bom.csv', text);
  const { summary, rejects } = await ingest(file);
  expect([summary.records, summary.accepted, summary.rejected]).toEqual([2, 2, 0]);
  expect(rejects).toEqual([]);
  expect(await rows(t.pool, `SELECT sku, name, description FROM products WHERE sku LIKE 'bom-%' ORDER BY sku`)).toEqual([
    { sku: 'bom-1', name: 'Ann Lee', description: 'two\r\nlines, one comma' },
    { sku: 'bom-2', name: 'Ann Lee', description: 'plain' },
  ]);
  expect(await counts()).toEqual(await groupBy());
  expect((await counts()).find((c) => c.name === 'Ann Lee')).toEqual({ name: 'Ann Lee', no_of_products: 4 });
});

test('a sku repeated inside one batch and across batches: the record later in the file wins, wholly', async () => {
  // ~25,000 filler rows (several MiB) put the last repeat in another batch than the first.
  const lines = ['name,sku,description', 'First Owner,rep-sku,first', 'Second Owner,rep-sku,second (same batch)'];
  for (let i = 0; i < 25000; i++) lines.push(`Filler ${i % 500},fill-${i},${'padding '.repeat(20)}`);
  lines.push('Final Owner,rep-sku,"final, across batches"');
  const file = writeTmp(t, 'repeats.csv', lines.join('\n') + '\n');
  const { summary } = await ingest(file);
  expect([summary.records, summary.accepted, summary.rejected]).toEqual([25003, 25003, 0]);
  expect(await rows(t.pool, `SELECT sku, name, description FROM products WHERE sku = 'rep-sku'`)).toEqual([
    { sku: 'rep-sku', name: 'Final Owner', description: 'final, across batches' },
  ]);
  const c = await rows<{ name: string; no_of_products: number }>(
    t.pool,
    `SELECT name, no_of_products FROM product_count WHERE name LIKE '% Owner' ORDER BY name`,
  );
  expect(c).toEqual([{ name: 'Final Owner', no_of_products: 1 }]);
  expect(await rows(t.pool, `SELECT count(*)::int AS n FROM product_count WHERE name LIKE 'Filler %'`)).toEqual([{ n: 500 }]);
  expect(await counts()).toEqual(await groupBy());
});

test('a file without the required columns is refused at once with one clear line', async () => {
  const file = writeTmp(t, 'noheader.csv', 'title,code\nx,y\n');
  const r = await runCli(t, ['ingest', '--file', file]);
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe(
    'dasy: the header (line 1) must name the columns name, sku and description; missing: name, sku, description (found: "title","code")',
  );
});

test('a missing file is one clear line, not a stack trace', async () => {
  const r = await runCli(t, ['products-producer', '--file', path.join(t.tmp, 'nope.csv')]);
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe(`dasy: cannot read ${path.join(t.tmp, 'nope.csv')}: no such file`);
});

test('`bin/dasy ingest` runs its own process with 16 MB semi-spaces, as the forked parts (README: Memory)', async () => {
  const file = writeTmp(t, 'semi.csv', 'sku,name,description\nsemi-1,Semi Space,x\nsemi-2,Semi Space,y\n');
  const child = spawn(path.join(ROOT, 'bin', 'dasy'), ['ingest', '--file', file], { env: t.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // bin/dasy execs node, which execs itself again with the caps (apps/cli/own-caps.ts): the same pid
  const argv = await waitFor(
    'bin/dasy to exec node with the caps',
    async () => {
      const a = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
      return a.some((x) => x.endsWith('main.js')) && a.some((x) => x.startsWith('--max-semi-space-size')) ? a : undefined;
    },
    10000,
    5,
  );
  expect(argv.filter((a) => a.startsWith('--max-semi-space-size'))).toEqual(['--max-semi-space-size=16']);
  expect(await exited).toBe(0);
  expect(JSON.parse(out.trim().split('\n').pop()!)).toMatchObject({ records: 2, accepted: 2, rejected: 0 });
});

test('ingest forks its products consumers and one process for the relay and the product-count consumer (product-count)', async () => {
  const file = writeTmp(t, 'forks.csv', 'sku,name,description\nfork-1,Forked,x\nfork-2,Forked,y\nfork-3,Other,z\n');
  const running = startCli(t, ['ingest', '--file', file, '--consumers', '2']);
  // every part process seen while the run lasts, by pid: the command it runs
  const parts = new Map<number, string>();
  const watching = (async () => {
    while (running.child.exitCode === null) {
      for (const { pid, argv } of childProcesses(running.child.pid!)) {
        const at = argv.findIndex((a) => a.endsWith('main.js'));
        if (at >= 0) parts.set(pid, argv[at + 1]);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  expect((await running.exited).code).toBe(0);
  await watching;
  expect([...parts.values()].sort()).toEqual(['product-count', 'products-consumer', 'products-consumer']);
  expect(await rows(t.pool, `SELECT name, no_of_products FROM product_count WHERE name IN ('Forked', 'Other') ORDER BY name`)).toEqual([
    { name: 'Forked', no_of_products: 2 },
    { name: 'Other', no_of_products: 1 },
  ]);
});
