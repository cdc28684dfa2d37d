import * as fs from 'fs';
import * as path from 'path';
import { Browser, chromium, Page } from 'playwright-core';
import type { DashboardSnapshot } from '../../apps/dashboard/source';
import { verdict } from '../../apps/status';
import { createKafka } from '../../libs/kafka/client';
import { createLogger } from '../../libs/log';
import { ApiProcess, call, startApi } from './api-client';
import { createTestEnv, ROOT, runCli, TestEnv, waitFor, writeTmp } from './harness';

/**
 * The dashboard with a declared dataset, in a real browser: on a fresh namespace it says no
 * dataset is declared; once one is ingested its section shows the rows and each aggregate's top
 * groups (exactly as the snapshot has them), and the flow chart draws applied rows/s and lag.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = path.join(ROOT, 'test-output', 'dashboard');

const SPEC = `name: sales
key: id
columns:
  id: integer
  store: text
  amount: numeric
  qty: integer
  day: date
  at: timestamp
  paid: boolean
aggregates:
  by_store:
    group_by: store
    measures: {revenue: sum(amount), sales: count, most: max(qty)}
  by_day:
    group_by: [day, paid]
    measures: {sales: count, first: min(at)}
`;

// 13 rows (id 4 twice: the later wins; one line refused), 12 stores: the top 10 by revenue leave out
// s04 and s12; s01 and s02 tie at 12.50 and come by store. s11's qty is past 2^53: a string.
const CSV = [
  'id,store,amount,qty,day,at,paid,ignored',
  '1,s01,10.00,1,2024-05-01,2024-05-01T09:00:00Z,true,x',
  '2,s01,2.5,3,2024-05-01,2024-05-01T10:00:00.25Z,false,x',
  '3,s02,12.50,2,2024-05-02,2024-05-02T08:00:00+02:00,yes,x',
  '4,s03,1,7,2024-05-02,2024-05-02T12:00:00Z,1,x',
  '5,s04,1,1,2024-05-03,2024-05-03 01:02:03.000001,false,x',
  '6,s05,2.0,1,2024-05-03,2024-05-03T02:00:00Z,no,x',
  '7,s06,3,1,2024-05-03,2024-05-03T03:00:00Z,0,x',
  '8,s07,4,1,2024-05-03,2024-05-03T04:00:00Z,false,x',
  '9,s08,5,1,2024-05-03,2024-05-03T05:00:00Z,false,x',
  '10,s09,6,1,2024-05-03,2024-05-03T06:00:00Z,false,x',
  '11,s10,7,1,2024-05-03,2024-05-03T07:00:00Z,false,x',
  '12,s11,8,9007199254740993,2024-05-03,2024-05-03T08:00:00Z,false,x',
  '13,s12,0.5,1,2024-05-03,2024-05-03T09:00:00Z,false,x',
  '14,s13,abc,1,2024-05-03,2024-05-03T09:00:00Z,false,x',
  '4,s03,100,7,2024-05-02,2024-05-02T12:00:00Z,true,x',
];

const BY_STORE = [
  { store: 's03', revenue: '100', sales: 1, most: 7 },
  { store: 's01', revenue: '12.50', sales: 2, most: 3 },
  { store: 's02', revenue: '12.50', sales: 1, most: 2 },
  { store: 's11', revenue: '8', sales: 1, most: '9007199254740993' },
  { store: 's10', revenue: '7', sales: 1, most: 1 },
  { store: 's09', revenue: '6', sales: 1, most: 1 },
  { store: 's08', revenue: '5', sales: 1, most: 1 },
  { store: 's07', revenue: '4', sales: 1, most: 1 },
  { store: 's06', revenue: '3', sales: 1, most: 1 },
  { store: 's05', revenue: '2.0', sales: 1, most: 1 },
];
const BY_DAY = [
  { day: '2024-05-03', paid: false, sales: 9, first: '2024-05-03T01:02:03.000001Z' },
  { day: '2024-05-02', paid: true, sales: 2, first: '2024-05-02T06:00:00.000000Z' },
  { day: '2024-05-01', paid: false, sales: 1, first: '2024-05-01T10:00:00.250000Z' },
  { day: '2024-05-01', paid: true, sales: 1, first: '2024-05-01T09:00:00.000000Z' },
];

/** Marks sent to by_store's topic with its consumer not running: that group's lag, and the dataset's. */
const MARKS = 5;

let t: TestEnv;
let api: ApiProcess;
let browser: Browser;
/** The page's document as the callbacks given to waitForFunction use it (the project's lib has no DOM). */
declare const document: { getElementById(id: string): { textContent: string | null; dataset: Record<string, string> } | null };

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (make test installs it: infra/need.sh)`);
  t = await createTestEnv('dashdatasets');
  api = await startApi(t, ['--no-consumers']);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  fs.mkdirSync(OUT, { recursive: true });
}, 150000);

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  await t?.cleanup();
});

const snapshot = async (): Promise<DashboardSnapshot> => (await call<DashboardSnapshot>('GET', api.url + '/api/dashboard')).body;
const cells = (page: Page, selector: string) =>
  page.$$eval(selector + ' tbody tr', (trs) => trs.map((tr) => Array.from({ length: tr.children.length }, (_, i) => tr.children[i].textContent)));

test('a fresh namespace: no dataset declared, the groups one line each, and the chart drawing', async () => {
  expect((await snapshot()).datasets).toEqual([]);
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(api.url + '/');
  await page.waitForSelector('#live.on', { timeout: 15000 });
  expect(await page.textContent('#no-datasets')).toBe('no datasets declared (dasy ingest --file F --dataset datasets/NAME.yaml)');
  await page.waitForFunction(() => Number(document.getElementById('flow-chart')!.dataset.samples) >= 2);
  expect((await cells(page, '#groups-table')).map((r) => [r[0], r[1], r[3]])).toEqual(
    ['products-consumer', 'product-count-consumer', 'scores-consumer', 'events-consumer'].map((g) => [g, '0', 'caught up']),
  );
  await page.close();
});

test("an ingested dataset: its rows and its aggregates' exact top groups, in the snapshot and on the page, live", async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(api.url + '/');
  await page.waitForSelector('#no-datasets', { timeout: 15000 });

  const ingest = await runCli(t, ['ingest', '--file', writeTmp(t, 'sales.csv', CSV.join('\n') + '\n'), '--dataset', writeTmp(t, 'sales.yaml', SPEC)]);
  expect([ingest.code, JSON.parse(ingest.stdout.trim().split('\n').pop()!)]).toMatchObject([0, { records: 15, accepted: 14, rejected: 1, rows: 13 }]);

  // a snapshot computed after the ingest ended (one may be cached for a second)
  const ended = Date.now();
  const after = await waitFor('a snapshot after the ingest', async () => {
    const s = await snapshot();
    return Date.parse(s.at) > ended ? s : undefined;
  });
  const [sales] = after.datasets;
  expect(sales).toEqual({
    name: 'sales',
    rows: 13,
    lag: '0',
    appliedPerSecond: expect.any(Number),
    aggregates: [
      { name: 'by_store', groupBy: ['store'], measures: ['revenue', 'sales', 'most'], top: BY_STORE },
      { name: 'by_day', groupBy: ['day', 'paid'], measures: ['sales', 'first'], top: BY_DAY },
    ],
  });

  // The page took it in without a reload (a snapshot as new as that one): the rows, and each
  // aggregate's table as the snapshot's.
  await page.waitForFunction((at) => Date.parse(document.getElementById('live')!.dataset.at) >= at, Date.parse(after.at));
  expect(await page.textContent('.dataset[data-dataset="sales"] .ds-rows')).toBe('13');
  expect(await page.textContent('.dataset[data-dataset="sales"] .ds-lag')).toBe('0');
  expect(await page.$$eval('table[data-aggregate="by_store"] th', (ths) => ths.map((th) => th.textContent))).toEqual(['store', 'revenue', 'sales', 'most']);
  expect(await cells(page, 'table[data-aggregate="by_store"]')).toEqual(BY_STORE.map((r) => [r.store, r.revenue, String(r.sales), String(r.most)]));
  expect(await cells(page, 'table[data-aggregate="by_day"]')).toEqual(BY_DAY.map((r) => [r.day, String(r.paid), String(r.sales), r.first]));
  expect(await page.isVisible('#no-datasets')).toBe(false);
  await page.screenshot({ path: path.join(OUT, 'datasets.png'), fullPage: true });
  await page.close();
});

test("lag on one of the dataset's groups: its line, the dataset's total, and the chart's lag drawn at the top", async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(api.url + '/');
  await page.waitForSelector('.dataset[data-dataset="sales"]', { timeout: 15000 });
  await page.waitForFunction(() => Number(document.getElementById('flow-chart')!.dataset.samples) >= 2);

  const producer = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'dasy-test', logger: createLogger('test') }).producer();
  await producer.connect();
  await producer.send({ topic: `${t.namespace}.sales.by_store`, messages: Array.from({ length: MARKS }, (_, i) => ({ key: `s${i}`, value: 'x' })) });
  await producer.disconnect();

  const group = `${t.namespace}.sales.by_store-consumer`;
  const lagging = await waitFor('the marks as lag', async () => {
    const s = await snapshot();
    return s.datasets[0].lag === String(MARKS) ? s : undefined;
  });
  const g = lagging.pipeline.groups.find((x) => x.group === group)!;
  expect([g.lag, g.verdict]).toEqual([String(MARKS), verdict(BigInt(MARKS), g.lastCommitAt ? new Date(g.lastCommitAt) : null, Date.parse(lagging.at))]);
  expect(lagging.pipeline.groups.filter((x) => x.group !== group).map((x) => x.lag)).toEqual(Array(6).fill('0'));

  await page.waitForFunction((n) => JSON.parse(document.getElementById('flow-chart')!.dataset.last).lag === n, MARKS);
  const line = (await cells(page, '#groups-table')).find((r) => r[0] === 'sales.by_store-consumer')!;
  expect(line.slice(0, 3)).toEqual(['sales.by_store-consumer', String(MARKS), '0']);
  // lagging while its last commit (the ingest's) is recent, stalled after: whichever the page's snapshot saw
  expect([`lagging ${MARKS}`, `stalled since ${g.lastCommitAt} (lag ${MARKS})`]).toContain(line[3]);
  expect(await page.textContent('.dataset[data-dataset="sales"] .ds-lag')).toBe(String(MARKS));

  // The chart: the lag panel's scale tops at 5, so its last point is on the panel's top edge and
  // its earlier points on the bottom; the applied panel has its line too.
  const drawn = await page.evaluate<Record<'applied' | 'lag', { top: number; bottom: number; all: number }>>(SERIES_PIXELS);
  expect(drawn.lag.top).toBeGreaterThan(0);
  expect(drawn.lag.bottom).toBeGreaterThan(0);
  expect(drawn.applied.all).toBeGreaterThan(0);
  await page.screenshot({ path: path.join(OUT, 'datasets-lag.png'), fullPage: true });
  await page.close();
});

/**
 * Runs in the page: per panel of the flow chart, how many pixels have the series' colour in all
 * of the panel's box, in its top rows and in its bottom rows (device pixels).
 */
const SERIES_PIXELS = `(() => {
  const c = document.getElementById("flow-chart");
  const plots = JSON.parse(c.dataset.plots), ratio = window.devicePixelRatio || 1, ctx = c.getContext("2d");
  const colours = { applied: [0x5f, 0xd3, 0x8d], lag: [0xff, 0xb4, 0x54] };
  const count = (box, rgb, y0, y1) => {
    const x = Math.floor(box.left * ratio), w = Math.ceil((box.right - box.left) * ratio) + 4;
    const y = Math.floor(y0 * ratio), h = Math.max(1, Math.ceil((y1 - y0) * ratio));
    const d = ctx.getImageData(x, y, w, h).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - rgb[0]) + Math.abs(d[i + 1] - rgb[1]) + Math.abs(d[i + 2] - rgb[2]) < 48) n++;
    return n;
  };
  const out = {};
  for (const key of ["applied", "lag"]) {
    const b = plots[key], rgb = colours[key];
    out[key] = { all: count(b, rgb, b.top - 4, b.bottom + 4), top: count(b, rgb, b.top - 2, b.top + 2), bottom: count(b, rgb, b.bottom - 2, b.bottom + 2) };
  }
  return out;
})()`;
