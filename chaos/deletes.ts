import * as fs from 'fs';
import * as path from 'path';
import { generateProducts } from '../apps/data/generate';
import type { IngestRun, Result, World } from './world';
import { csvRecord, Expected, expectedFromRecords, expectedWithout, readRecords } from './expect';
import { killPlan, Kills, Planned, Role } from './schedule';

/** What the scenario borrows from the chaos harness (passed in: no import cycle). */
export interface ChaosKit {
  startDasy(world: World, args: string[], logName: string): IngestRun;
  /** the kills of `plan` in the run as its `records` get applied (counted from `start`, or from the log start once rebuild set the offsets back) */
  killAsApplied(world: World, run: IngestRun, plan: Planned<Role>[], progress: { records: number; start: bigint; fromStart?: boolean }): Promise<string[]>;
  /** the products group's stored offsets, summed: the records applied so far */
  productsApplied(world: World): Promise<bigint>;
  verify(
    world: World,
    expected: Expected,
    summary: Record<string, unknown>,
    deadLetters: { products: number; productCount: number },
  ): Promise<{ exact: boolean; checks: string[]; problems: string[] }>;
  logSummary(file: string): string[];
  dropNamespace(world: World): Promise<void>;
}

/** The SIGKILLs of each step under faults. */
const KILLS_PER_STEP: Kills = { products: 4, followers: 4 };

/**
 * `deletes`: the changelog under SIGKILLs. A file is ingested; then, each step while products
 * consumers and the process of the relay and the product-count consumer are SIGKILLed and
 * restarted (8 kills spread over the step's records being applied, schedule.ts): `dasy delete`
 * of a third of its skus (and of skus that never existed), `dasy ingest --sync` of a new
 * catalogue (moves, new skus, deleted skus back, a quarter of the rest left out), and
 * `dasy rebuild` from the topic. After each step the tables must be exactly what the files say
 * (computed here with csv-parse), the outbox empty, every group at its topic's end.
 */
export async function deletesUnderKills(world: World, options: { rows: number; seed: number }, kit: ChaosKit): Promise<Result> {
  const announced: string[] = [];
  const faults: string[] = [];
  const checks: string[] = [];
  const problems: string[] = [];
  let exact = true;
  /** `records`: the messages the step's run applies (tombstones included); `fromStart`: it replays the topic from its start. */
  const step = async (label: string, args: string[], expected: Expected, kills: (Kills & { records: number; fromStart?: boolean }) | null) => {
    world.say(`${label} (namespace ${world.config.namespace})${kills ? ' while SIGKILLing its pipeline processes' : ''}`);
    const plan = kills ? killPlan(kills, Math.random) : [];
    announced.push(...plan.map((p) => `SIGKILL ${p.kind}`));
    const start = kills ? await kit.productsApplied(world) : 0n;
    const run = kit.startDasy(world, args, `${args[0]}-${checks.length}.log`);
    try {
      if (kills)
        faults.push(
          ...(await kit.killAsApplied(world, run, plan, { records: kills.fromStart ? Number(start) : kills.records, start, fromStart: kills.fromStart })),
        );
      const summary = await run.done;
      world.say(`${args[0]} finished: ${JSON.stringify(summary)}`);
      const v = await kit.verify(world, expected, summary, { products: 0, productCount: 0 });
      checks.push(`${label}:`, ...v.checks.map((c) => `  ${c}`), ...kit.logSummary(run.logFile).map((c) => `  ${c}`));
      problems.push(...v.problems.map((p) => `${label}: ${p}`));
      exact &&= v.exact;
      return summary;
    } catch (err) {
      problems.push(`${label}: ${(err as Error).message}`);
      exact = false;
      return {};
    }
  };
  try {
    const first = path.join(world.tmp, 'products.csv');
    await generateProducts({ rows: options.rows, seed: options.seed, out: first });
    const records = readRecords(first);
    const afterIngest = expectedFromRecords(records);
    await step('ingest of the catalogue', ['ingest', '--file', first, '--consumers', '3', '--rejects', path.join(world.tmp, 'rejects.csv')], afterIngest, null);

    const skus = [...afterIngest.products.keys()];
    const doomed = skus.filter((_, i) => i % 3 === 0);
    const unknown = Array.from({ length: 200 }, (_, i) => `chaos-never-there-${i}`);
    const skusFile = path.join(world.tmp, 'delete.csv');
    const skusToDelete = [...doomed, ...unknown, ...doomed.slice(0, 100)];
    fs.writeFileSync(skusFile, ['sku', ...skusToDelete].map((s) => csvRecord([s])).join('\n') + '\n');
    const afterDelete = expectedWithout(afterIngest, doomed);
    const deleted = await step(
      `delete of ${doomed.length.toLocaleString('en-US')} skus`,
      ['delete', '--file', skusFile, '--consumers', '3', '--rejects', path.join(world.tmp, 'delete-rejects.csv')],
      afterDelete,
      { ...KILLS_PER_STEP, records: skusToDelete.length },
    );
    if (exact && deleted.deleted !== doomed.length) {
      problems.push(`delete: summary says ${String(deleted.deleted)} deleted, expected ${doomed.length}`);
      exact = false;
    }

    const catalogue = path.join(world.tmp, 'catalogue.csv');
    const kept = [...afterDelete.products].filter((_, i) => i % 4 !== 0);
    const lines = ['name,sku,description'];
    kept.forEach(([sku, p], i) => lines.push(csvRecord([i % 5 === 0 ? `Moved ${i % 50}` : p.name, sku, p.description])));
    doomed.slice(0, 500).forEach((sku, i) => lines.push(csvRecord([`Back ${i % 20}`, sku, 'deleted, then back'])));
    for (let i = 0; i < 2000; i++) lines.push(csvRecord([`New ${i % 100}`, `chaos-new-${i}`, `new ${i}`]));
    fs.writeFileSync(catalogue, lines.join('\n') + '\n');
    const catalogueRecords = readRecords(catalogue);
    const afterSync = expectedFromRecords(catalogueRecords);
    const left = afterDelete.products.size - kept.length;
    const synced = await step(
      `ingest --sync of a catalogue without ${left.toLocaleString('en-US')} of them`,
      ['ingest', '--sync', '--file', catalogue, '--consumers', '3', '--rejects', path.join(world.tmp, 'catalogue-rejects.csv')],
      afterSync,
      // its records, then one tombstone per sku it left out
      { ...KILLS_PER_STEP, records: catalogueRecords.length + left },
    );
    if (exact && synced.deleted !== left) {
      problems.push(`ingest --sync: summary says ${String(synced.deleted)} deleted, expected ${left}`);
      exact = false;
    }

    await step('rebuild from the topic', ['rebuild', '--consumers', '3'], afterSync, { ...KILLS_PER_STEP, records: 0, fromStart: true });
  } finally {
    await kit.dropNamespace(world);
  }
  return { scenario: world.scenario, announced, faults, exact: exact && problems.length === 0, checks, problems, seconds: 0 };
}
