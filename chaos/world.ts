import { ChildProcess } from 'child_process';
import { DasyConfig, DevConfig } from '../libs/config';

/** What the chaos harness (index.ts), its scenarios (deletes.ts) and its command share. */

export const SCENARIOS = ['bad-input', 'sigkill', 'deletes', 'dataset', 'pg-restart', 'broker-restart', 'cluster3'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface Result {
  scenario: Scenario;
  /** the faults it said it would inject, before it ran; `faults` must be exactly these */
  announced: string[];
  faults: string[];
  exact: boolean;
  checks: string[];
  problems: string[];
  seconds: number;
}

/** A fresh world per scenario: the chaos database recreated, a new namespace, a temp folder. */
export interface World {
  scenario: Scenario;
  config: DasyConfig;
  /** the development settings (dev-settings.ts of libs/config): the local stack's ports and folders */
  dev: DevConfig;
  env: NodeJS.ProcessEnv;
  tmp: string;
  say(line: string): void;
}

export interface IngestRun {
  child: ChildProcess;
  /** resolves with the ingest's summary (its last stdout line), rejects if it failed */
  done: Promise<Record<string, unknown>>;
  running(): boolean;
  logFile: string;
}
