import { ChildProcess, fork } from 'child_process';
import * as path from 'path';
import { SETTINGS } from '../config/settings';
import { Logger } from '../log';
import { StoppedError } from '../errors';
import { capsOf, missingCapFlags, PART_SEMI_SPACE_MB } from './memory-caps';
import { isChildMessage, ParentMessage } from './messages';
import { RestartPolicy } from './restart-policy';

/** The dasy CLI, which every replica runs with its own arguments. */
export const CLI = path.join(__dirname, '..', '..', 'apps', 'cli', 'main.js');

export interface ReplicaSpec {
  /** arguments of the dasy CLI: the part and its options */
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** 'ignore': the part's stdout is not ours to print (ingest keeps its stdout for its summary) */
  stdout?: 'inherit' | 'ignore';
  /** V8's old-space cap (MB) for the part (ComponentSpec.heapMb); unset: V8's default */
  heapMb?: number;
}

/** This process's Node options for a child: the parts' semi-space cap, and its heap cap when it has one (the last flag wins). */
export function childExecArgv(heapMb: number | undefined): string[] {
  const argv = [...process.execArgv, ...missingCapFlags({ semiSpaceMb: PART_SEMI_SPACE_MB }, process.execArgv)];
  if (heapMb !== undefined) argv.push(`--max-old-space-size=${heapMb}`);
  return argv;
}

/** Node options for a dasy process running `command`: this process's, with the semi-space cap when it streams. */
export function streamingExecArgv(command: string): string[] {
  return [
    ...process.execArgv,
    ...missingCapFlags(
      capsOf(command, () => undefined),
      process.execArgv,
    ),
  ];
}

/** How long a replica may take to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 20_000;

/**
 * One forked part, restarted when it exits before it is told to stop: at once when it dies once
 * (killed from outside), with growing, jittered backoff when it keeps dying soon after its start,
 * whatever the exit (a setting it refuses, a heap cap it hits and aborts on): RestartPolicy. It
 * never spins.
 */
export class Replica {
  /** the partitions the group last assigned it (reported over IPC) */
  partitions: number[] | undefined;
  private child!: ChildProcess;
  private stopping = false;
  private readonly restarts: RestartPolicy;

  constructor(
    readonly spec: ReplicaSpec,
    private readonly deps: {
      logger: Logger;
      prepared: () => boolean;
      restarts?: RestartPolicy;
      /** the module forked: the dasy CLI (tests fork a part of their own) */
      cli?: string;
    },
  ) {
    this.restarts = deps.restarts ?? new RestartPolicy();
    this.spawn();
  }

  get name(): string {
    return this.spec.args[0];
  }

  private spawn() {
    this.partitions = undefined;
    const spawnedAt = Date.now();
    this.child = fork(this.deps.cli ?? CLI, this.spec.args, {
      stdio: ['ignore', this.spec.stdout ?? 'inherit', 'inherit', 'ipc'],
      env: this.spec.env ?? process.env,
      execArgv: childExecArgv(this.spec.heapMb),
    });
    this.child.on('message', (m) => {
      if (!isChildMessage(m)) return;
      if (m.type === 'assigned') this.partitions = m.partitions;
      if (m.type === 'prepared?' && this.deps.prepared()) this.send({ type: 'prepared' });
    });
    this.child.on('exit', (code, signal) => {
      if (this.stopping) return;
      const delay = this.restarts.delayAfter(Date.now() - spawnedAt);
      this.deps.logger.warn(`${this.name} exited (${signal ?? code}); restarting it ${restartWhen(delay)}`);
      setTimeout(() => !this.stopping && this.spawn(), delay);
    });
  }

  /** A message to the part, if it is running (one restarting misses it: messages only hurry things). */
  send(message: ParentMessage): void {
    if (this.child.connected) this.child.send(message, undefined, {}, () => undefined);
  }

  stop(): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      // A part that does not finish in time is killed: it leaves nothing half-done (its offsets
      // commit with its data), and whoever stops it must not hang on it.
      const kill = setTimeout(() => {
        this.deps.logger.warn(`${this.name} did not stop within ${STOP_GRACE_MS / 1000} s of SIGTERM; killing it`);
        this.child.kill('SIGKILL');
      }, STOP_GRACE_MS);
      this.child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      this.child.kill('SIGTERM');
    });
  }
}

/** When a restart happens, for the supervisor's line: `at once`, `in 240 ms`, `in 2.4 s`. */
export function restartWhen(delayMs: number): string {
  if (delayMs <= 0) return 'at once';
  return delayMs < 1000 ? `in ${delayMs} ms` : `in ${(delayMs / 1000).toFixed(1)} s`;
}

/**
 * Forks and keeps up a set of parts (N replicas of a consumer, or a whole pipeline). With
 * `preparesForThem`, the supervisor prepares the namespace itself (topics, migrations) and its
 * replicas wait for its word instead of each doing it again (ready()).
 */
export class Supervisor {
  readonly replicas: Replica[];
  private prepared = false;
  private stopped = false;

  constructor(
    specs: ReplicaSpec[],
    private readonly options: { logger: Logger; preparesForThem?: boolean },
  ) {
    this.replicas = [];
    for (const spec of specs) this.add(spec);
  }

  /** One more part, started now (it is stopped with the others); refused once stop() was called. */
  add(spec: ReplicaSpec): Replica {
    if (this.stopped) throw new StoppedError(`not starting ${spec.args[0]}: its supervisor is stopping`);
    const extra = this.options.preparesForThem ? { [SETTINGS.preparedByParent.variable]: 'on' } : {};
    const replica = new Replica({ ...spec, env: { ...(spec.env ?? process.env), ...extra } }, { logger: this.options.logger, prepared: () => this.prepared });
    this.replicas.push(replica);
    return replica;
  }

  /** The namespace is prepared: replicas waiting for it go on. */
  ready(): void {
    this.prepared = true;
    for (const r of this.replicas) r.send({ type: 'prepared' });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.replicas.map((r) => r.stop()));
  }

  /** Until SIGTERM/SIGINT, then stop every replica (passing the signal on) and resolve. */
  untilSignal(): Promise<void> {
    return new Promise((resolve) => {
      const stop = () => void this.stop().then(resolve, resolve);
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  }
}
