import * as path from 'path';
import { withDatabase } from '../libs/config';
import { Context, dataFile, namespace, processTable, say } from './context';
import { FloorKind, FloorRun, runFloor } from './floor';
import { dropNamespace, IngestRun, migrateNamespace, runIngest } from './pipeline';
import { Figure, figure, round } from './stats';

/** The strict floor's runs for a file, measured once per bench run and shared by the workloads. */
export async function ensureFloor(ctx: Context, rows: number, file: string, runs: number): Promise<FloorRun[]> {
  const have = ctx.floors.get(rows) ?? [];
  while (have.length < runs) {
    say(`strict floor ${rows.toLocaleString('en-US')} rows, run ${have.length + 1}/${runs}`);
    have.push(await floor(ctx, file, 'strict'));
  }
  ctx.floors.set(rows, have);
  return have;
}

export function floor(ctx: Context, file: string, kind: FloorKind): Promise<FloorRun> {
  return runFloor(withDatabase(ctx.config.databaseUrl, kind === 'strict' ? ctx.floorDb : ctx.sameSchemaDb), file, kind);
}

interface Measured {
  floors: FloorRun[];
  sameSchema: FloorRun[];
  ingests: IngestRun[];
  reingests: IngestRun[];
}

/**
 * First ingest of `rows` rows (fresh tables, fresh namespace) against the strict floor, interleaved
 * run by run so that the machine's noise touches both alike; with `reingest`, the same file again
 * into the same namespace (nothing may change), and the same-schema floor as a reference.
 */
export async function ingestWorkload(ctx: Context, rows: number, reingest: boolean): Promise<void> {
  const file = dataFile(rows);
  const m = await measure(ctx, file, rows, reingest);
  ctx.floors.set(rows, m.floors);
  const entry = report(ctx, rows, m);
  entry.file = path.relative(process.cwd(), file);
  const prior = ctx.results['ingest'] as { rows: number; medianSeconds: number } | undefined;
  if (!reingest && prior) {
    // linear growth: seconds per row at this size over seconds per row at the base size
    const growth = (entry.medianSeconds as number) / rows / (prior.medianSeconds / prior.rows);
    entry.perRowVsBase = round(growth, 3);
    ctx.rows.push({ workload: '', metric: `time per row vs ${prior.rows.toLocaleString('en-US')}`, value: figure('x', [growth]), note: '1.00 = linear' });
  }
  ctx.results[reingest ? 'ingest' : 'scale'] = entry;
}

async function measure(ctx: Context, file: string, rows: number, reingest: boolean): Promise<Measured> {
  const label = `ingest ${rows.toLocaleString('en-US')}`;
  const m: Measured = { floors: [], sameSchema: [], ingests: [], reingests: [] };
  for (let i = 0; i < ctx.options.runs + ctx.options.warmups; i++) {
    const tag = i < ctx.options.warmups ? 'warm-up' : `run ${i - ctx.options.warmups + 1}/${ctx.options.runs}`;
    say(`${label}: strict floor, ${tag}`);
    const strict = await floor(ctx, file, 'strict');
    const same = reingest ? await floor(ctx, file, 'same-schema') : undefined;
    const ns = namespace(ctx);
    await migrateNamespace(ctx.bench, ns);
    say(`${label}: dasy ingest, ${tag} (namespace ${ns})`);
    try {
      const run = await runIngest(ctx.bench, ctx.pool, ctx.pipelineDb, ns, file);
      verify(run, strict, `${label} ${tag}`);
      const again = reingest ? await runIngest(ctx.bench, ctx.pool, ctx.pipelineDb, ns, file) : undefined;
      if (again) verify(again, strict, `re-${label} ${tag}`);
      say(describe(label, tag, strict, same, run, again));
      if (i < ctx.options.warmups) continue;
      m.floors.push(strict);
      if (same) m.sameSchema.push(same);
      m.ingests.push(run);
      if (again) m.reingests.push(again);
    } finally {
      await dropNamespace(ctx.bench, ctx.pool, ns).catch((err) => say(`could not delete namespace ${ns}: ${(err as Error).message}`));
    }
  }
  return m;
}

function describe(label: string, tag: string, strict: FloorRun, same: FloorRun | undefined, run: IngestRun, again?: IngestRun): string {
  return (
    `${label} ${tag}: strict floor ${strict.seconds.toFixed(2)} s (copy ${strict.copySeconds.toFixed(2)}, upsert ${strict.upsertSeconds.toFixed(2)}, count ${strict.countSeconds.toFixed(2)}; CPU ${strict.cpuSeconds.toFixed(2)} s)` +
    (same ? `, same-schema floor ${same.seconds.toFixed(2)} s` : '') +
    `, ingest ${run.seconds.toFixed(2)} s (${(run.seconds / strict.seconds).toFixed(2)}x)` +
    (again ? `, re-ingest ${again.seconds.toFixed(2)} s` : '') +
    (run.machineBusy !== undefined ? `, machine ${Math.round(run.machineBusy * 100)}% busy` : '') +
    (run.phases ? ` phases ${JSON.stringify(run.phases)}` : '')
  );
}

const seconds = (xs: number[]) => figure('s', xs);

/** The table's rows for one size, and the JSON entry. */
function report(ctx: Context, rows: number, m: Measured): Record<string, unknown> {
  const floorFig = seconds(m.floors.map((f) => f.seconds));
  const ingestFig = seconds(m.ingests.map((r) => r.seconds));
  const ratio = ingestFig.median / floorFig.median;
  ctx.rows.push({
    workload: `ingest ${rows.toLocaleString('en-US')} rows`,
    metric: 'end to end',
    value: ingestFig,
    floor: floorFig,
    ratio: round(ratio, 2),
    note: 'floor: strict (two tables, their primary keys)',
  });
  if (m.sameSchema.length) {
    const same = seconds(m.sameSchema.map((f) => f.seconds));
    ctx.rows.push({
      workload: '',
      metric: 'same-schema floor',
      value: same,
      floor: floorFig,
      ratio: round(same.median / floorFig.median, 2),
      note: "reference only: the floor's steps on dasy's tables and index",
    });
  }
  ctx.rows.push({
    workload: '',
    metric: 'rows/s',
    value: figure(
      'rows/s',
      m.ingests.map((r) => rows / r.seconds),
    ),
  });
  reportPhases(ctx, m);
  const floorCpu = figure(
    's',
    m.floors.map((f) => f.cpuSeconds),
  );
  const procs = reportProcesses(ctx, m.ingests, floorCpu);
  const reingestFig = m.reingests.length ? seconds(m.reingests.map((r) => r.seconds)) : undefined;
  if (reingestFig) {
    ctx.rows.push({
      workload: `re-ingest ${rows.toLocaleString('en-US')} rows`,
      metric: 'same file again',
      value: reingestFig,
      floor: floorFig,
      ratio: round(reingestFig.median / floorFig.median, 2),
      note: 'nothing changes',
    });
    const applied = m.reingests.map((r) => r.phases?.productsApplied).filter((x): x is number => typeof x === 'number');
    if (applied.length)
      ctx.rows.push({ workload: '', metric: 'phase: products applied', value: seconds(applied), note: 'the producer and the products consumers' });
    reportCpu(ctx, 'CPU s by process (median)', processTable(m.reingests.map((r) => r.processes)), floorCpu);
  }
  return {
    rows,
    floor: {
      kind: 'strict',
      seconds: floorFig,
      copy: seconds(m.floors.map((f) => f.copySeconds)),
      upsert: seconds(m.floors.map((f) => f.upsertSeconds)),
      count: seconds(m.floors.map((f) => f.countSeconds)),
    },
    sameSchemaFloor: m.sameSchema.length ? { seconds: seconds(m.sameSchema.map((f) => f.seconds)) } : undefined,
    ingest: { seconds: ingestFig, reported: seconds(m.ingests.map((r) => r.reported)), phases: m.ingests.map((r) => r.phases) },
    ratio: round(ratio, 3),
    reingest: reingestFig ? { seconds: reingestFig, phases: m.reingests.map((r) => r.phases) } : undefined,
    processes: procs,
    checks: m.ingests.map((r) => r.check),
    medianSeconds: ingestFig.median,
  };
}

/**
 * Where the time goes: each phase of the ingest (seconds since it started) next to the floor's
 * steps at the same point (copy, then upsert, then count, cumulated).
 */
function reportPhases(ctx: Context, m: Measured) {
  const phase = (key: string) => m.ingests.map((r) => r.phases?.[key]).filter((x): x is number => typeof x === 'number');
  const cumulated = (f: (r: FloorRun) => number): Figure => seconds(m.floors.map(f));
  const lines: [string, string, Figure | undefined, string][] = [
    ['producer done', 'produced', cumulated((f) => f.copySeconds), 'floor: copy'],
    ['products applied', 'productsApplied', cumulated((f) => f.copySeconds + f.upsertSeconds), 'floor: copy + upsert'],
    ['outbox drained', 'outboxEmpty', undefined, 'names sent for recount'],
    ['counts applied', 'countsApplied', cumulated((f) => f.copySeconds + f.upsertSeconds + f.countSeconds), 'floor: copy + upsert + count'],
  ];
  for (const [metric, key, floorFig, note] of lines) {
    const xs = phase(key);
    if (!xs.length) continue;
    const value = seconds(xs);
    ctx.rows.push({
      workload: '',
      metric: `phase: ${metric}`,
      value,
      floor: floorFig,
      ratio: floorFig ? round(value.median / floorFig.median, 2) : undefined,
      note,
    });
  }
}

function reportProcesses(ctx: Context, ingests: IngestRun[], floorCpu: Figure) {
  const procs = processTable(ingests.map((r) => r.processes));
  const ours = Object.entries(procs).filter(([l]) => !l.startsWith('pg:') && l !== 'postgres' && l !== 'kafka');
  ctx.rows.push({
    workload: '',
    metric: 'peak RSS per process',
    value: figure('MB', [Math.max(...ours.map(([, p]) => p.peakRssMb))]),
    note: ours.map(([l, p]) => `${l} ${p.peakRssMb}`).join(', '),
  });
  const busy = ingests.map((r) => r.machineBusy).filter((b): b is number => b !== undefined);
  if (busy.length)
    ctx.rows.push({
      workload: '',
      metric: 'machine CPU busy (%)',
      value: figure(
        '%',
        busy.map((b) => b * 100),
      ),
      note: "anyone's work: the stack, the pipeline, other users",
    });
  reportCpu(ctx, 'CPU s by process (median)', procs, floorCpu);
  return procs;
}

/**
 * The CPU seconds of every process, largest first (where a gap to the floor comes from), and their
 * sum against the floor's (psql and its backend): the ratio that does not move with the machine.
 */
export function reportCpu(ctx: Context, metric: string, procs: ReturnType<typeof processTable>, floorCpu: Figure) {
  const total = Object.values(procs).reduce((a, p) => a + p.cpuSeconds, 0);
  ctx.rows.push({
    workload: '',
    metric,
    value: figure('s', [total]),
    floor: floorCpu,
    ratio: round(total / floorCpu.median, 2),
    note: Object.entries(procs)
      .sort((a, b) => b[1].cpuSeconds - a[1].cpuSeconds)
      .map(([l, p]) => `${l} ${p.cpuSeconds}`)
      .join(', '),
  });
}

export function verify(run: IngestRun, floor: FloorRun, what: string) {
  const c = run.check;
  if (c.mismatches !== 0 || c.products !== floor.products || c.names !== floor.names) {
    throw new Error(
      `${what}: wrong result: products ${c.products} (floor ${floor.products}), names ${c.names} (floor ${floor.names}), ${c.mismatches} product_count rows differ from GROUP BY`,
    );
  }
}
