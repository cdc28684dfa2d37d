import * as path from 'path';
import { Context, dataFile, namespace, processTable, say } from './context';
import { FloorRun } from './floor';
import { floor, reportCpu, verify } from './ingest';
import { dropNamespace, IngestRun, migrateNamespace, runIngest } from './pipeline';
import { figure, round } from './stats';

/** The products file declared as a dataset of its own: the same tables' shape, through the generic path. */
export const CATALOG_SPEC = path.join(__dirname, '..', '..', 'bench', 'specs', 'catalog.yaml');
const CATALOG = { spec: CATALOG_SPEC, tables: { rows: 'catalog', counts: 'catalog_count' } };

interface Measured {
  floors: FloorRun[];
  products: IngestRun[];
  datasets: IngestRun[];
  reingests: IngestRun[];
}

/**
 * A declared dataset against products (DESIGN.md §8: within 1.2x of products' ratio to its own
 * strict floor). The products file is declared as `catalog` (bench/specs/catalog.yaml): its
 * strict floor is products' own (`\copy` into a staging table, the DISTINCT ON upsert by sku, the
 * GROUP BY name), so each run measures the floor, products' ingest and the dataset's ingest (and
 * its re-ingest) back to back, and the ratios of the same run are compared.
 */
export async function datasetWorkload(ctx: Context, rows: number): Promise<void> {
  const file = dataFile(rows);
  const m: Measured = { floors: [], products: [], datasets: [], reingests: [] };
  const label = `dataset ${rows.toLocaleString('en-US')}`;
  for (let i = 0; i < ctx.options.runs + ctx.options.warmups; i++) {
    const tag = i < ctx.options.warmups ? 'warm-up' : `run ${i - ctx.options.warmups + 1}/${ctx.options.runs}`;
    say(`${label}: strict floor, ${tag}`);
    const strict = await floor(ctx, file, 'strict');
    const products = await inNamespace(ctx, (ns) => runIngest(ctx.bench, ctx.pool, ctx.pipelineDb, ns, file));
    verify(products[0], strict, `products ${label} ${tag}`);
    const [dataset, again] = await inNamespace(ctx, async (ns) => [
      await runIngest(ctx.bench, ctx.pool, ctx.pipelineDb, ns, file, 2, CATALOG),
      await runIngest(ctx.bench, ctx.pool, ctx.pipelineDb, ns, file, 2, CATALOG),
    ]);
    verify(dataset, strict, `${label} ${tag}`);
    verify(again, strict, `re-${label} ${tag}`);
    say(
      `${label} ${tag}: strict floor ${strict.seconds.toFixed(2)} s (CPU ${strict.cpuSeconds.toFixed(2)}), products ${products[0].seconds.toFixed(2)} s, ` +
        `dataset ${dataset.seconds.toFixed(2)} s, re-ingest ${again.seconds.toFixed(2)} s`,
    );
    if (i < ctx.options.warmups) continue;
    m.floors.push(strict);
    m.products.push(products[0]);
    m.datasets.push(dataset);
    m.reingests.push(again);
  }
  report(ctx, rows, m);
}

async function inNamespace<T>(ctx: Context, run: (ns: string) => Promise<T | T[]>): Promise<T[]> {
  const ns = namespace(ctx);
  await migrateNamespace(ctx.bench, ns);
  try {
    const r = await run(ns);
    return Array.isArray(r) ? r : [r];
  } finally {
    await dropNamespace(ctx.bench, ctx.pool, ns).catch((err) => say(`could not delete namespace ${ns}: ${(err as Error).message}`));
  }
}

function report(ctx: Context, rows: number, m: Measured) {
  const seconds = (xs: number[]) => figure('s', xs);
  const floorFig = seconds(m.floors.map((f) => f.seconds));
  const floorCpu = seconds(m.floors.map((f) => f.cpuSeconds));
  const products = seconds(m.products.map((r) => r.seconds));
  const dataset = seconds(m.datasets.map((r) => r.seconds));
  const reingest = seconds(m.reingests.map((r) => r.seconds));
  const cpu = (runs: IngestRun[]) => Object.values(processTable(runs.map((r) => r.processes))).reduce((a, p) => a + p.cpuSeconds, 0);
  const productsRatio = products.median / floorFig.median;
  const datasetRatio = dataset.median / floorFig.median;
  const workload = `dataset ${rows.toLocaleString('en-US')} rows`;
  ctx.rows.push({ workload, metric: 'products, end to end', value: products, floor: floorFig, ratio: round(productsRatio, 2), note: 'the same run' });
  ctx.rows.push({
    workload: '',
    metric: 'declared dataset, end to end',
    value: dataset,
    floor: floorFig,
    ratio: round(datasetRatio, 2),
    note: 'bench/specs/catalog.yaml',
  });
  ctx.rows.push({ workload: '', metric: "dataset's ratio / products'", value: figure('x', [datasetRatio / productsRatio]), note: 'target <= 1.2' });
  ctx.rows.push({
    workload: '',
    metric: 'dataset re-ingest',
    value: reingest,
    floor: floorFig,
    ratio: round(reingest.median / floorFig.median, 2),
    note: 'nothing changes',
  });
  reportCpu(ctx, 'CPU s by process, products (median)', processTable(m.products.map((r) => r.processes)), floorCpu);
  reportCpu(ctx, 'CPU s by process, dataset (median)', processTable(m.datasets.map((r) => r.processes)), floorCpu);
  ctx.results['dataset'] = {
    rows,
    spec: path.relative(process.cwd(), CATALOG_SPEC),
    floor: { seconds: floorFig, cpu: floorCpu },
    products: { seconds: products, ratio: round(productsRatio, 3), cpu: round(cpu(m.products), 2) },
    dataset: { seconds: dataset, ratio: round(datasetRatio, 3), cpu: round(cpu(m.datasets), 2) },
    reingest: { seconds: reingest },
    ratioOfRatios: round(datasetRatio / productsRatio, 3),
  };
}
