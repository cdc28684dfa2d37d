import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Pool } from 'pg';
import { DasyConfig } from '../libs/config';
import { Logger } from '../libs/log';
import { FloorRun } from './floor';
import { BenchEnv, CLI, IngestRun } from './pipeline';
import { Figure, figure, round } from './stats';
import type { Workload } from './workloads';

/** What every workload of `dasy bench` shares: options, databases, the table being built. */
export interface Options {
  quick: boolean;
  runs: number;
  warmups: number;
  only: Workload[];
  rows?: number;
  scaleRows?: number;
}

export interface Row {
  workload: string;
  metric: string;
  value: Figure;
  floor?: Figure;
  /** value / floor of the medians (for times: how many times the floor; for rates: floor / value) */
  ratio?: number;
  note?: string;
}

export interface Context {
  config: DasyConfig;
  logger: Logger;
  options: Options;
  bench: BenchEnv;
  pipelineDb: string;
  /** the strict floor's scratch database: two tables and their primary keys, nothing else */
  floorDb: string;
  /** the same-schema reference floor's: dasy's own migrations */
  sameSchemaDb: string;
  pool: Pool;
  rows: Row[];
  results: Record<string, unknown>;
  stamp: string;
  /** strict floor runs per file size, shared by the workloads of one bench run */
  floors: Map<number, FloorRun[]>;
  nsCounter: number;
}

export function say(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

/** data/generated/bench-<rows>-seed1.csv, generated once. */
export function dataFile(rows: number): string {
  const file = path.resolve(__dirname, '..', '..', 'data', 'generated', `bench-${rows}-seed1.csv`);
  if (fs.existsSync(file) && fs.statSync(file).size > 0) return file;
  say(`generating ${rows.toLocaleString('en-US')} rows into ${path.relative(process.cwd(), file)}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const r = spawnSync(process.execPath, [CLI, 'data', '--rows', String(rows), '--seed', '1', '--out', tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`dasy data failed (${r.status})`);
  fs.renameSync(tmp, file);
  return file;
}

/** A fresh namespace for one run. */
export function namespace(ctx: Context): string {
  return `${ctx.config.namespace}-bench-${ctx.stamp
    .slice(0, 19)
    .replace(/[^0-9]/g, '')
    .slice(4)}-${++ctx.nsCounter}`;
}

export function median(xs: number[]): number {
  return figure('', xs).median;
}

/** Per label: peak RSS (max over the runs) and CPU seconds (median over the runs). */
export function processTable(runs: IngestRun['processes'][]): Record<string, { processes: number; peakRssMb: number; cpuSeconds: number }> {
  const labels = new Set(runs.flatMap((r) => Object.keys(r)));
  const out: Record<string, { processes: number; peakRssMb: number; cpuSeconds: number }> = {};
  for (const l of labels) {
    const of = runs.map((r) => r[l]).filter(Boolean);
    out[l] = {
      processes: Math.max(...of.map((o) => o.processes)),
      peakRssMb: Math.max(...of.map((o) => o.peakRssMb)),
      cpuSeconds: round(median(of.map((o) => o.cpuSeconds)), 2),
    };
  }
  return out;
}
