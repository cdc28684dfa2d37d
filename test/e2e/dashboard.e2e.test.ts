import * as fs from 'fs';
import * as path from 'path';
import { chromium, Browser } from 'playwright-core';
import { createTestEnv, freePort, ROOT, rows, startCli, TestEnv, waitFor, RunningCli } from './harness';

/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core), served by the
 * real `dasy demo` command: it ingests a small file, the page shows the database's numbers, and a
 * score pushed through the form changes the statistics and the chart without a reload.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = path.join(ROOT, 'test-output', 'dashboard');

let t: TestEnv;
let demo: RunningCli;
let url: string;
let browser: Browser;
/**
 * The page's document, as the callbacks given to page.waitForFunction use it: they run in the
 * browser, and the project's lib (tsconfig.base.json) has no DOM.
 */
declare const document: {
  getElementById(id: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (make test installs it: infra/need.sh)`);
  t = await createTestEnv('dashboard');
  const file = path.join(t.tmp, 'demo.csv');
  const lines = ['name,sku,description'];
  for (let i = 0; i < 300; i++) lines.push(`Owner ${i % 7},sku-${i},"item ${i}, fine"`);
  lines.push('Bad Line,"broken"x,oops'); // one reject for the rejects panel
  fs.writeFileSync(file, lines.join('\n') + '\n');
  demo = startCli(t, ['demo', '--file', file, '--host', '127.0.0.1'], { PORT: String(await freePort()) });
  const line = await waitFor('the dashboard URL', () => Promise.resolve(/dashboard: (http:\/\/\S+)/.exec(demo.stdout())?.[1]), 90000, 200);
  url = line.replace(/\/$/, '');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  fs.mkdirSync(OUT, { recursive: true });
}, 150000);

afterAll(async () => {
  await browser?.close();
  if (demo && demo.child.exitCode === null) {
    demo.child.kill('SIGTERM');
    await demo.exited;
  }
  await t?.cleanup();
});

test('the page shows the database numbers, and a pushed score updates stats and chart live', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url + '/');
  await page.waitForSelector('#live.on', { timeout: 15000 });

  // Ingest panel: the same numbers as the tables.
  const [{ n: products }] = await rows<{ n: number }>(t.pool, 'SELECT count(*)::int AS n FROM products');
  const [{ n: names }] = await rows<{ n: number }>(t.pool, 'SELECT count(*)::int AS n FROM product_count');
  expect([products, names]).toEqual([300, 7]);
  await page.waitForFunction(() => document.getElementById('products-count')!.textContent === '300');
  expect(await page.textContent('#names-count')).toBe('7');
  expect(await page.textContent('#outbox-count')).toBe('0');
  // Top names: as in product_count, biggest first.
  const top = await rows<{ name: string; no_of_products: number }>(t.pool, 'SELECT name, no_of_products FROM product_count ORDER BY no_of_products DESC, name');
  const shown = await page.$$eval('#top-table tbody tr', (trs) => trs.map((tr) => [tr.children[0].textContent, tr.children[1].textContent]));
  expect(shown).toEqual(top.map((r) => [r.name, String(r.no_of_products)]));
  // The reject is listed with its line.
  await page.waitForFunction(() => document.querySelectorAll('#rejects tbody tr').length === 1);
  expect(await page.$$eval('#rejects tbody td', (tds) => tds.map((td) => td.textContent))).toEqual([
    'demo.csv',
    '302',
    'malformed: character after a closing quote',
  ]);
  // Consumer groups, one line each (products, product-count, scores, events): no lag.
  const groups = await page.$$eval('#groups-table tbody tr', (trs) =>
    trs.map((tr) => [tr.children[0].textContent, tr.children[1].textContent, tr.children[3].textContent]),
  );
  expect(groups).toEqual(['products-consumer', 'product-count-consumer', 'scores-consumer', 'events-consumer'].map((g) => [g, '0', 'caught up']));
  // Products alone: no dataset declared, and the flow chart has its samples.
  expect(await page.textContent('#no-datasets')).toBe('no datasets declared (dasy ingest --file F --dataset datasets/NAME.yaml)');
  expect(Number(await page.getAttribute('#flow-chart', 'data-samples'))).toBeGreaterThan(0);

  // The demo seeded 12 scores for the top name; look at it, then push one through the form.
  const product = top[0].name;
  await page.fill('#product-name', product);
  await page.click('#product-form button');
  await page.waitForFunction(() => document.getElementById('stat-count')!.textContent === '12');
  const before = JSON.parse((await page.getAttribute('#chart', 'data-series'))!);
  const seeded = (await rows<{ score: number }>(t.pool, 'SELECT score FROM score_pushes WHERE name = $1 ORDER BY id', [product])).map((r) => r.score);
  expect(seeded.length).toBe(12);
  await page.screenshot({ path: path.join(OUT, 'before-push.png'), fullPage: true });

  await page.fill('#push-score', '5');
  await page.fill('#push-username', 'browser-test');
  await page.click('#push-submit');
  await page.waitForFunction(() => document.getElementById('stat-count')!.textContent === '13');
  const all = [...seeded, 5];
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const stddev = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
  expect(await page.textContent('#stat-mean')).toBe(mean.toFixed(3));
  expect(await page.textContent('#stat-stddev')).toBe(stddev.toFixed(3));
  expect(await page.textContent('#stat-max')).toBe('5');
  expect(await page.textContent('#push-result')).toBe(`pushed: count 13, mean ${mean.toFixed(3)}`);
  // The chart took the push in: its last point moved to the new mean, or (the push landed in a
  // minute of its own) a point was added.
  const after = JSON.parse((await page.getAttribute('#chart', 'data-series'))!);
  expect(after.reduce((a: number, p: { count: number }) => a + p.count, 0)).toBe(13);
  expect(after).not.toEqual(before);
  expect(after.length > before.length || after[after.length - 1].mean !== before[before.length - 1].mean).toBe(true);
  // Sessions: one, current, with the new count.
  expect(
    await page.$$eval('#sessions tbody tr', (trs) => trs.map((tr) => [tr.children[0].textContent, tr.children[1].textContent, tr.children[5].textContent])),
  ).toEqual([['1', '13', 'current']]);
  // Ads: the demo's seeded events, with fill rates.
  const users = await page.$$eval('#ads-users tbody tr', (trs) => trs.length);
  expect(users).toBe(4);
  await page.screenshot({ path: path.join(OUT, 'after-push.png'), fullPage: true });
  await page.close();
});

test('a top name opens the list of its products, a page at a time, in sku order', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url + '/');
  await page.waitForSelector('#live.on', { timeout: 15000 });
  const [top] = await rows<{ name: string; no_of_products: number }>(
    t.pool,
    'SELECT name, no_of_products FROM product_count ORDER BY no_of_products DESC, name LIMIT 1',
  );
  const expected = await rows<{ sku: string; description: string }>(t.pool, 'SELECT sku, description FROM products WHERE name = $1 ORDER BY sku', [top.name]);
  expect([top.no_of_products, expected.length]).toEqual([43, 43]);
  expect(await page.isHidden('#name-products')).toBe(true);

  await page.click(`#top-table a[data-name="${top.name}"]`);
  const pages = Math.ceil(43 / 20);
  const seen: { sku: string; description: string }[] = [];
  for (let n = 1; n <= pages; n++) {
    const label = `page ${n} of ${pages} (43 products)`;
    await page.waitForFunction((l) => document.getElementById('name-products-page')!.textContent === l, label);
    expect(await page.textContent('#name-products-title')).toBe(`Products of ${top.name}`);
    seen.push(
      ...(await page.$$eval('#name-products-table tbody tr', (trs) =>
        trs.map((tr) => ({ sku: tr.children[0].textContent!, description: tr.children[1].textContent! })),
      )),
    );
    expect([await page.isDisabled('#name-products-prev'), await page.isDisabled('#name-products-next')]).toEqual([n === 1, n === pages]);
    if (n < pages) await page.click('#name-products-next');
  }
  expect(seen).toEqual(expected);
  // and back
  await page.click('#name-products-prev');
  await page.waitForFunction(() => document.getElementById('name-products-page')!.textContent === 'page 2 of 3 (43 products)');
  expect(await page.$$eval('#name-products-table tbody tr', (trs) => trs.map((tr) => tr.children[0].textContent))).toEqual(
    expected.slice(20, 40).map((p) => p.sku),
  );
  await page.screenshot({ path: path.join(OUT, 'name-products.png'), fullPage: true });
  await page.close();
});
