import { execFile, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { parse } from 'csv-parse/sync';
import { Admin, Kafka } from '../libs/kafka/port';
import { Pool } from 'pg';
import { DasyConfig, DevConfig, withDatabase } from '../libs/config';
import { createPool, dropDatabase } from '../libs/db';
import { storedOffsets } from '../libs/db/offsets';
import { createKafka } from '../libs/kafka/client';
import { deadLetterTopic, endOffsets, ensureTopics, groupId, topicName, TOPICS } from '../libs/kafka/topics';
import { Logger } from '../libs/log';
import { sleep } from '../libs/resilience';
import { generateProducts } from '../apps/data/generate';
import { GROUPS } from '../apps/components';
import { waitingNames } from '../apps/product-count-producer';
import { deletesUnderKills } from './deletes';
import { appliedShare, DatasetRole, Injector, killLands, killPlan, nextDue, PART_ROLES, Planned, Reading, Role, unannounced } from './schedule';
import { datasetUnderKills } from './dataset';
import { compareTables, Expected, expectedFromRecords, readRecords, writeBadFile } from './expect';
import { IngestRun, Result, Scenario, World } from './world';

/**
 * `dasy chaos` (`make chaos`): ingests generated files while injecting faults, then checks that
 * `products` and `product_count` are exactly what a clean run gives (computed independently from
 * the file), that nothing waits in the outbox and every group applied its topic to the end. Each
 * scenario runs in its own database (`dasy_chaos`, recreated) and namespace, never a user's.
 * `dataset` (dataset.ts) does the same for a declared dataset, its table and aggregates.
 *
 * It restarts things on this machine: the local stack's Kafka broker (broker-restart) and the
 * machine's PostgreSQL (pg-restart); cluster3 runs its own three brokers on other ports.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(__dirname, '..', 'apps', 'cli', 'main.js');
const STACK_SH = path.join(ROOT, 'infra', 'stack.sh');
const run = promisify(execFile);

/** Restores what a scenario changed (a stopped broker, a test cluster) even on Ctrl-C. */
const undo: (() => Promise<void>)[] = [];
async function runUndo() {
  while (undo.length) await undo.pop()!().catch(() => undefined);
}

export async function chaos(options: {
  config: DasyConfig;
  dev: DevConfig;
  logger: Logger;
  scenarios: Scenario[];
  rows: number;
  seed: number;
}): Promise<number> {
  const { config, scenarios } = options;
  const say = (line: string) => process.stdout.write(`chaos: ${line}\n`);
  const onSignal = () => {
    say('interrupted: restoring what was stopped');
    const exit = () => process.exit(130);
    runUndo().then(exit, exit);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  const databaseUrl = withDatabase(config.databaseUrl, 'dasy_chaos');
  say(
    `${scenarios.length} scenario(s): ${scenarios.join(', ')}; ${options.rows.toLocaleString('en-US')}-row files (seed ${options.seed}); database dasy_chaos; Kafka ${config.kafkaBrokers.join(',')}`,
  );
  const results: Result[] = [];
  for (const scenario of scenarios) {
    const t0 = Date.now();
    const namespace = `chaos-${scenario}-${randomBytes(3).toString('hex')}`;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `dasy-chaos-${scenario}-`));
    const world: World = {
      scenario,
      config: { ...config, databaseUrl, namespace },
      dev: options.dev,
      env: { ...process.env, DATABASE_URL: databaseUrl, DASY_NAMESPACE: namespace, KAFKA_BROKERS: config.kafkaBrokers.join(','), DASY_LOG_LEVEL: 'warn' },
      tmp,
      say: (line) => say(`[${scenario}] ${line}`),
    };
    let result: Result;
    try {
      await dropDatabase(databaseUrl); // fresh: nothing left of an earlier run
      result = await SCENARIO_RUNS[scenario](world, options);
    } catch (err) {
      result = { scenario, announced: [], faults: [], exact: false, checks: [], problems: [`failed: ${(err as Error).message}`], seconds: 0 };
    } finally {
      await runUndo();
    }
    // a scenario that injected fewer faults, or others, than it announced proved less than it says
    const mismatch = unannounced(result.announced, result.faults);
    result.problems.push(...mismatch);
    result.exact &&= mismatch.length === 0;
    result.seconds = (Date.now() - t0) / 1000;
    results.push(result);
    world.say(`${result.announced.length} fault(s) announced: ${summarize(result.announced)}`);
    world.say(`${result.faults.length} fault(s) injected: ${summarize(result.faults)}`);
    for (const c of result.checks) world.say(`  ${c}`);
    for (const p of result.problems) world.say(`  PROBLEM ${p}`);
    world.say(`exact: ${result.exact ? 'yes' : 'NO'} (${result.seconds.toFixed(1)} s; logs in ${tmp})`);
    if (result.exact) fs.rmSync(tmp, { recursive: true, force: true });
  }
  say('summary');
  for (const r of results)
    say(
      `  ${r.scenario.padEnd(15)} ${String(r.faults.length).padStart(3)} fault(s)   exact ${r.exact ? 'yes' : 'NO '}   ${r.seconds.toFixed(1).padStart(6)} s`,
    );
  const ok = results.every((r) => r.exact);
  say(`${ok ? 'all exact' : 'NOT EXACT'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  return ok ? 0 : 1;
}

function summarize(faults: string[]): string {
  const counts = new Map<string, number>();
  for (const f of faults) counts.set(f, (counts.get(f) ?? 0) + 1);
  return [...counts].map(([f, n]) => (n > 1 ? `${f} ×${n}` : f)).join('; ') || 'none';
}

type ScenarioRun = (world: World, options: { rows: number; seed: number }) => Promise<Result>;

const SCENARIO_RUNS: Record<Scenario, ScenarioRun> = {
  'bad-input': badInput,
  sigkill,
  deletes: (world, options) =>
    deletesUnderKills(world, options, {
      startDasy: (w, args, logName) => startDasy(w, args, logName, SMALL_FETCHES),
      killAsApplied,
      productsApplied,
      verify,
      logSummary,
      dropNamespace,
    }),
  dataset: (world, options) =>
    datasetUnderKills(world, options, {
      startDasy,
      killAtProgress: (w, run, plan, progress) => injectAtProgress(w, run, plan, progress, pipelineKiller(run)),
      logSummary,
      dropNamespace,
      quietLogger,
    }),
  'pg-restart': pgRestart,
  'broker-restart': brokerRestart,
  cluster3,
};

// ---------------------------------------------------------------------------------------------
// The ingest under test, and the checks after it

function startIngest(world: World, file: string, env: NodeJS.ProcessEnv = {}): IngestRun {
  return startDasy(world, ['ingest', '--file', file, '--consumers', '3', '--rejects', path.join(world.tmp, 'rejects.csv')], 'ingest.log', env);
}

/** `dasy <args>` (ingest, delete, rebuild: commands that run the whole pipeline and print a JSON summary last), its stderr to logName. */
function startDasy(world: World, args: string[], logName: string, env: NodeJS.ProcessEnv = {}): IngestRun {
  const logFile = path.join(world.tmp, logName);
  const log = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...world.env, ...env },
    stdio: ['ignore', 'pipe', log],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  let exited = false;
  const done = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.on('exit', (code, signal) => {
      exited = true;
      fs.closeSync(log);
      if (code !== 0) return reject(new Error(`${args[0]} exited with ${signal ?? code}; see ${logFile}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Record<string, unknown>);
      } catch {
        reject(new Error(`${args[0]} printed no summary; see ${logFile}`));
      }
    });
  });
  done.catch(() => undefined);
  undo.push(async () => {
    if (!exited) child.kill('SIGKILL');
  });
  return { child, done, running: () => !exited, logFile };
}

/** The ingest's pipeline processes (its children), with their role (PART_ROLES: the command on their command line) and age. */
function pipelineChildren(parent: number): { pid: number; role: string; ageMs: number }[] {
  const found: { pid: number; role: string; ageMs: number }[] = [];
  const uptimeMs = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // the fields after the command: state, ppid, ... starttime (field 22) in clock ticks since boot
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== parent) continue;
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const role = cmd.find((a) => (PART_ROLES as readonly string[]).includes(a));
      if (role) found.push({ pid: Number(entry), role, ageMs: uptimeMs - (Number(fields[19]) * 1000) / CLOCK_TICKS });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** USER_HZ, the unit of /proc's times: 100 on every Linux architecture dasy runs on. */
const CLOCK_TICKS = 100;

/** After the ingest: tables against the expectation, outbox empty, every group at its topic's end, dead letters as expected. */
async function verify(world: World, expected: Expected, summary: Record<string, unknown>, deadLetters: { products: number; productCount: number }) {
  const checks: string[] = [];
  const problems: string[] = [];
  const pool = createPool({
    databaseUrl: world.config.databaseUrl,
    namespace: world.config.namespace,
    max: 2,
    idleInTransactionMs: world.config.pgIdleInTransactionMs,
  });
  const kafka = createKafka({ brokers: world.config.kafkaBrokers, clientId: 'dasy-chaos', logger: quietLogger() });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cmp = await compareTables(pool, expected);
    checks.push(
      `products ${cmp.products.toLocaleString('en-US')} rows, product_count ${cmp.names.toLocaleString('en-US')} names: ${cmp.exact ? 'exactly a clean run' : 'DIFFERENT from a clean run'}`,
    );
    problems.push(...cmp.problems);
    if (summary.products !== expected.products.size || summary.names !== expected.counts.size)
      problems.push(`ingest summary says ${String(summary.products)} products / ${String(summary.names)} names`);
    const outbox = await waitingNames(pool, world.config.namespace);
    let lag = 0n;
    for (const [topicId, app] of [
      ['products', GROUPS.products],
      ['productCount', GROUPS.productCount],
    ] as const) {
      const topic = topicName(world.config.namespace, topicId);
      const end = await endOffsets(admin, topic);
      const stored = await storedOffsets(pool, groupId(world.config.namespace, app), topic);
      for (const [p, high] of end) if ((stored.get(p) ?? 0n) !== high) lag += high - (stored.get(p) ?? 0n);
    }
    // Fewer messages in the products topic than records accepted: lost on the way in (the
    // producer's side), not by a consumer. More is fine (a resend the broker did not dedupe).
    const inTopic = sum(await endOffsets(admin, topicName(world.config.namespace, 'products')));
    const accepted = Number(summary.accepted);
    if (Number.isFinite(accepted) && inTopic < accepted)
      problems.push(`the products topic holds ${inTopic} messages, ${accepted - inTopic} fewer than the ${accepted} records accepted`);
    const dlq = async (id: 'products' | 'productCount') => sum(await endOffsets(admin, deadLetterTopic(topicName(world.config.namespace, id))));
    const dead = { products: await dlq('products'), productCount: await dlq('productCount') };
    checks.push(`outbox ${outbox}, lag ${lag}, dead letters ${dead.products} (products) + ${dead.productCount} (product-count)`);
    if (outbox !== 0) problems.push(`${outbox} marks left in the outbox`);
    if (lag !== 0n) problems.push(`consumer groups ${lag} messages behind`);
    if (dead.products !== deadLetters.products || dead.productCount !== deadLetters.productCount)
      problems.push(`dead letters ${dead.products}+${dead.productCount}, expected ${deadLetters.products}+${deadLetters.productCount}`);
    return { exact: cmp.exact && problems.length === 0, checks, problems };
  } finally {
    await admin.disconnect().catch(() => undefined);
    await pool.end();
  }
}

async function dropNamespace(world: World) {
  const kafka = createKafka({ brokers: world.config.kafkaBrokers, clientId: 'dasy-chaos', logger: quietLogger() });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(world.config.namespace + '.'));
    if (topics.length) await admin.deleteTopics({ topics });
  } catch {
    // best effort: a namespace's topics are harmless
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** What the pipeline said while it was hurt: outage notices (once per part and outage), restarts, errors. */
function logSummary(file: string): string[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
  const notices = / unavailable \(|reachable again|relaying again|cannot relay/;
  // the rest, each kind once (timestamps and numbers aside), for the reader to judge
  const others = new Map<string, string>();
  for (const l of lines.filter((l) => !notices.test(l))) {
    const text = l.replace(/^\S+Z /, '').slice(0, 220);
    others.set(text.replace(/\d+/g, '#'), text);
  }
  return [
    `ingest log: ${lines.length} line(s): ${count(/ unavailable \(/)} "unavailable, retrying with backoff", ${count(/reachable again/)} "reachable again", ` +
      `${count(/exited \(.*\); restarting it/)} "restarting it", ${count(/ ERROR /)} error(s)`,
    ...[...others.values()].slice(0, 8).map((l) => `  | ${l}`),
  ];
}

const sum = (m: Map<number, bigint>) => Number([...m.values()].reduce((a, b) => a + b, 0n));

function quietLogger(): Logger {
  const quiet: Logger = {
    level: 'error',
    error: () => undefined,
    warn: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    namespace: () => quiet,
  };
  return quiet;
}

/** A generated file, what a clean run of it leaves, and its number of records (each one message in the topic). */
async function generate(world: World, rows: number, seed: number): Promise<{ file: string; expected: Expected; records: number }> {
  const file = path.join(world.tmp, 'products.csv');
  await generateProducts({ rows, seed, out: file });
  const records = readRecords(file);
  return { file, expected: expectedFromRecords(records), records: records.length };
}

/** What a scenario injects into a run: announced before it starts, `inject` returns what it did inject. */
interface Faults {
  announced: string[];
  inject: (ingest: IngestRun) => Promise<string[]>;
}

/** Ingest `file` while the faults are injected; then verify. */
async function ingestUnderFaults(
  world: World,
  file: string,
  expected: Expected,
  plan: Faults,
  options: {
    env?: NodeJS.ProcessEnv;
    deadLetters?: { products: number; productCount: number };
    onSummary?: (s: Record<string, unknown>) => Promise<string[]>;
  } = {},
): Promise<Result> {
  const ingest = startIngest(world, file, options.env);
  world.say(`ingesting ${path.basename(file)} (namespace ${world.config.namespace}) while injecting faults`);
  const announced = plan.announced;
  let faults: string[] = [];
  try {
    faults = await plan.inject(ingest);
    const summary = await ingest.done;
    world.say(`ingest finished: ${JSON.stringify(summary)}`);
    const v = await verify(world, expected, summary, options.deadLetters ?? { products: 0, productCount: 0 });
    v.checks.push(...logSummary(ingest.logFile));
    const extra = options.onSummary ? await options.onSummary(summary) : [];
    const problems = [...v.problems, ...extra];
    return { scenario: world.scenario, announced, faults, exact: v.exact && extra.length === 0, checks: v.checks, problems, seconds: 0 };
  } catch (err) {
    return { scenario: world.scenario, announced, faults, exact: false, checks: [], problems: [(err as Error).message], seconds: 0 };
  } finally {
    await dropNamespace(world);
  }
}

// ---------------------------------------------------------------------------------------------
// Faults at points of progress (schedule.ts)

/** How often the progress is read while faults wait for their point. */
const PROGRESS_POLL_MS = 100;
/** The least time between two faults. */
const FAULT_SPACING_MS = 300;

/** The sum of a group's stored offsets over its topic's partitions: the messages it applied so far. */
async function appliedOf(world: World, pool: Pool, topic: 'products' | 'productCount'): Promise<bigint> {
  const group = groupId(world.config.namespace, topic === 'products' ? GROUPS.products : GROUPS.productCount);
  const stored = await storedOffsets(pool, group, topicName(world.config.namespace, topic));
  return [...stored.values()].reduce((a, b) => a + b, 0n);
}

/** Whether names wait in the namespace's outbox (a probe of its index, not a count). */
async function marksWaiting(world: World, pool: Pool): Promise<boolean> {
  const { rows } = await pool.query('SELECT 1 FROM product_count_outbox WHERE namespace = $1 LIMIT 1', [world.config.namespace]);
  return rows.length > 0;
}

/**
 * Reads the progress of a run of `records` (appliedShare), counted from `start`, or, with
 * `fromStart`, from the log start once the run set the offsets back (rebuild). With `admin`, the
 * work left too (recounts read against the product-count topic's end). While PostgreSQL does not
 * answer (a restart), the last reading.
 */
function progressOf(world: World, pool: Pool, records: number, options: { start: bigint; fromStart?: boolean; admin?: Admin }): () => Promise<Reading> {
  let last: Reading = { share: 0, left: { products: true, marks: false, recounts: false } };
  let resetSeen = false;
  return async () => {
    try {
      const stored = await appliedOf(world, pool, 'products');
      resetSeen ||= stored < options.start;
      const share = appliedShare(stored, { start: options.start, records, resetTo: options.fromStart ? 0n : undefined }, resetSeen);
      let recounts = false;
      if (options.admin) {
        const end = sum(await endOffsets(options.admin, topicName(world.config.namespace, 'productCount')));
        recounts = BigInt(end) > (await appliedOf(world, pool, 'productCount'));
      }
      last = { share, left: { products: share < 1, marks: await marksWaiting(world, pool), recounts } };
    } catch {
      // PostgreSQL restarting, or the tables not created yet: the last reading
    }
    return last;
  };
}

/**
 * Inject `plan` while `run` runs, each fault once its point of progress is reached (nextDue);
 * returns what was injected, fewer than planned only if the run ended first (the scenario then
 * fails: unannounced()).
 */
async function injectAtProgress<K extends string>(
  world: World,
  run: IngestRun,
  plan: Planned<K>[],
  progress: () => Promise<Reading>,
  injector: Injector<K>,
): Promise<string[]> {
  const done = plan.map(() => false);
  const faults: string[] = [];
  const at: string[] = [];
  while (run.running() && done.includes(false)) {
    const reading = await progress();
    const due = nextDue(plan, done, reading.share, (kind) => injector.ready(kind, reading));
    const fault = due === undefined ? undefined : await injector.inject(plan[due].kind);
    if (due !== undefined && fault !== undefined) {
      done[due] = true;
      faults.push(fault);
      at.push(`${Math.round(reading.share * 100)}%`);
      // the pipeline commits in fetches of thousands of records, so its progress moves in steps
      // and several faults fall due at once: a moment between them, not all in one instant
      await sleep(FAULT_SPACING_MS);
    } else await sleep(PROGRESS_POLL_MS);
  }
  world.say(`${faults.length} of ${plan.length} fault(s) injected, at ${at.join(', ') || '-'} of the records applied`);
  return faults;
}

/** A victim must have been up this long: killed again as it forks, a part would prove nothing more. */
const VICTIM_MIN_AGE_MS = 500;

/** SIGKILLs of the run's pipeline processes (each restarted by it): a random process of the role, one up for a moment at least. */
function pipelineKiller<R extends Role | DatasetRole>(run: IngestRun): Injector<R> {
  // its age from its start time (/proc), not from when the scenario first looked: that is when a
  // kill falls due, and a pipeline that applies a file in a second was done 500 ms later
  const victims = (role: R) => pipelineChildren(run.child.pid!).filter((c) => c.role === role && c.ageMs >= VICTIM_MIN_AGE_MS);
  return {
    ready: (role, reading) => killLands(reading.left) && victims(role).length > 0,
    async inject(role) {
      const all = victims(role);
      if (!all.length) return undefined; // gone since it was found ready
      const victim = all[Math.floor(Math.random() * all.length)];
      try {
        process.kill(victim.pid, 'SIGKILL');
        return `SIGKILL ${role}`;
      } catch {
        return undefined; // exited meanwhile
      }
    },
  };
}

/** The kills of `plan` in the run, as its records get applied (`records` of them, counted from `start`). */
async function killAsApplied(
  world: World,
  run: IngestRun,
  plan: Planned<Role>[],
  progress: { records: number; start: bigint; fromStart?: boolean },
): Promise<string[]> {
  const pool = progressPool(world);
  const admin = createKafka({ brokers: world.config.kafkaBrokers, clientId: 'dasy-chaos', logger: quietLogger() }).admin();
  try {
    await admin.connect();
    return await injectAtProgress(world, run, plan, progressOf(world, pool, progress.records, { ...progress, admin }), pipelineKiller(run));
  } finally {
    await admin.disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

/** The records applied so far in the world's namespace (the products group's stored offsets), on a connection of its own. */
async function productsApplied(world: World): Promise<bigint> {
  const pool = progressPool(world);
  try {
    return await appliedOf(world, pool, 'products');
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** One connection to read the progress with (one lost to a PostgreSQL restart is replaced at the next read). */
function progressPool(world: World): Pool {
  return createPool({
    databaseUrl: world.config.databaseUrl,
    namespace: world.config.namespace,
    max: 1,
    idleInTransactionMs: world.config.pgIdleInTransactionMs,
  });
}

/** The announcement of a kill plan: `SIGKILL <role>` for each. */
const killsOf = (plan: Planned<Role>[]) => plan.map((p) => `SIGKILL ${p.kind}`);

// ---------------------------------------------------------------------------------------------
// Scenarios

/** SIGKILLs of products consumers and of the process of the relay and the product-count consumer, spread over the records being applied. */
async function sigkill(world: World, options: { rows: number; seed: number }): Promise<Result> {
  const { file, expected, records } = await generate(world, options.rows, options.seed);
  const plan = killPlan({ products: 8, followers: 8 }, Math.random);
  return ingestUnderFaults(
    world,
    file,
    expected,
    {
      announced: killsOf(plan),
      inject: (ingest) => killAsApplied(world, ingest, plan, { records, start: 0n }),
    },
    { env: SMALL_FETCHES },
  );
}

/**
 * The products consumers fetch 16 KiB per partition: with the default 2 MiB a fast machine applied
 * a 40,000-record file in under 3 s in a few fetches, its progress jumping past the kills' points
 * between two readings (3 of 16 landed). At 16 KiB a fetch is about one producer batch per
 * partition: the progress moves in small steps, each a batch's commit to be killed in.
 */
const SMALL_FETCHES = { DASY_CONSUMER_TUNING: 'products-consumer.maxBytesPerPartition=16384' };

/** Faults on a service (a restart) at points of the ingest's progress (records applied); `inject` does one and says what it did. */
async function atPointsApplied<K extends string>(world: World, ingest: IngestRun, plan: Planned<K>[], records: number, inject: (kind: K) => Promise<string>) {
  const pool = progressPool(world);
  try {
    return await injectAtProgress(world, ingest, plan, progressOf(world, pool, records, { start: 0n }), { ready: () => true, inject });
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** The single broker of the local stack stopped and started again mid-ingest, twice (a clean stop, then kill -9), at a fifth and at half of the records applied. */
async function brokerRestart(world: World, options: { rows: number; seed: number }): Promise<Result> {
  const stackEnv = await singleBrokerStack(world.config, world.dev);
  const { file, expected, records } = await generate(world, options.rows, options.seed);
  const stack = (...args: string[]) => run(STACK_SH, args, { env: stackEnv });
  let down = false;
  undo.push(async () => {
    if (down) await stack('start-node', '1');
  });
  const said = { 'stop-node': 'broker stopped (SIGTERM) for 6 s, then started', 'kill-node': 'broker killed (SIGKILL) for 6 s, then started' } as const;
  const plan: Planned<keyof typeof said>[] = [
    { kind: 'stop-node', at: 0.2 },
    { kind: 'kill-node', at: 0.5 },
  ];
  return ingestUnderFaults(world, file, expected, {
    announced: plan.map((p) => said[p.kind]),
    inject: (ingest) =>
      atPointsApplied(world, ingest, plan, records, async (how) => {
        await stack(how, '1');
        down = true;
        await sleep(6000);
        await stack('start-node', '1');
        down = false;
        await waitForBrokers(world.config.kafkaBrokers, 1);
        return said[how];
      }),
  });
}

/** The environment for infra/stack.sh that manages the single broker at KAFKA_BROKERS; refuses a broker it does not manage. */
async function singleBrokerStack(config: DasyConfig, dev: DevConfig): Promise<NodeJS.ProcessEnv> {
  const base = dev.kafkaPortBase;
  const dir = dev.kafkaStackDir ? path.resolve(dev.kafkaStackDir) : path.join(ROOT, '.stack', 'kafka');
  const pidFile = path.join(dir, 'node-1', 'pid');
  const expected = `127.0.0.1:${base + 2}`;
  let alive: boolean;
  try {
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 0);
    alive = true;
  } catch {
    alive = false;
  }
  if (config.kafkaBrokers.length !== 1 || config.kafkaBrokers[0] !== expected || !alive) {
    throw new Error(
      `broker-restart restarts the single broker \`make up\` started (${expected}, ${path.relative(ROOT, pidFile)}); KAFKA_BROKERS is ${config.kafkaBrokers.join(',')}${alive ? '' : ' and no broker of ours runs'}`,
    );
  }
  return { ...process.env, BROKERS: '1', KAFKA_PORT_BASE: String(base), ...(dev.kafkaStackDir ? { KAFKA_STACK_DIR: dir } : {}) };
}

/** A three-broker KRaft cluster on other ports (RF 3, min.insync 2): one broker killed at a third of the records applied, and brought back. */
async function cluster3(world: World, options: { rows: number; seed: number }): Promise<Result> {
  const base = world.dev.chaosClusterPortBase;
  const dir = path.join(ROOT, '.stack', 'chaos-kafka-3');
  const brokers = [1, 2, 3].map((n) => `127.0.0.1:${base + 2 * n}`);
  const stackEnv = {
    ...process.env,
    BROKERS: '3',
    KAFKA_PORT_BASE: String(base),
    KAFKA_STACK_DIR: dir,
    KAFKA_BROKERS: brokers.join(','),
    DATABASE_URL: world.config.databaseUrl,
    // the setting when the user gave one; a smaller heap than the stack's for three throwaway brokers
    KAFKA_HEAP: world.dev.kafkaHeap ?? '-Xms128m -Xmx512m',
  };
  const stack = (...args: string[]) => run(STACK_SH, args, { env: stackEnv, maxBuffer: 1 << 20 });
  const teardown = async () => {
    // a throwaway cluster: kill -9 (a clean stop of three brokers takes tens of seconds)
    for (const n of ['1', '2', '3']) await stack('kill-node', n).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  await teardown(); // a fresh cluster: no state from an earlier run
  undo.push(teardown);
  world.say(`starting a three-broker cluster at ${brokers.join(',')}`);
  await stack('up');
  const w: World = { ...world, config: { ...world.config, kafkaBrokers: brokers }, env: { ...world.env, KAFKA_BROKERS: brokers.join(',') } };
  const { file, expected, records } = await generate(w, options.rows, options.seed);
  let checkedReplication: string[] = [];
  const node = String(1 + Math.floor(Math.random() * 3));
  const said = `broker ${node} of 3 killed (SIGKILL) for 8 s, then started`;
  const result = await ingestUnderFaults(w, file, expected, {
    announced: [said],
    inject: (ingest) =>
      atPointsApplied(w, ingest, [{ kind: 'kill-node', at: 0.3 }], records, async () => {
        checkedReplication = await replication(w); // the topics exist by now, with the records flowing
        await stack('kill-node', node);
        await sleep(8000);
        await stack('start-node', node);
        await waitForBrokers(brokers, 3);
        world.say(`broker ${node} is back: 3 of 3 registered`);
        return said;
      }),
  });
  result.checks.unshift(...checkedReplication.filter((c) => !c.startsWith('PROBLEM')));
  for (const c of checkedReplication.filter((c) => c.startsWith('PROBLEM'))) {
    result.problems.push(c.slice(8));
    result.exact = false;
  }
  return result;
}

/** Until the cluster answers with this many brokers registered. */
async function waitForBrokers(brokers: string[], count: number, timeoutMs = 90000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const admin = createKafka({ brokers, clientId: 'dasy-chaos', logger: quietLogger() }).admin();
    try {
      await admin.connect();
      if ((await admin.describeCluster()).brokers.length >= count) return;
    } catch {
      // not yet
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`Kafka at ${brokers.join(',')} did not come back with ${count} broker(s)`);
    await sleep(500);
  }
}

/** Every partition of the namespace's topics has 3 replicas and min.insync.replicas=2. */
async function replication(world: World): Promise<string[]> {
  const kafka: Kafka = createKafka({ brokers: world.config.kafkaBrokers, clientId: 'dasy-chaos', logger: quietLogger() });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = [topicName(world.config.namespace, 'products'), topicName(world.config.namespace, 'productCount')];
    const meta = await admin.fetchTopicMetadata({ topics });
    const replicas = new Set(meta.topics.flatMap((t) => t.partitions.map((p) => p.replicas.length)));
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: 2, name, configNames: ['min.insync.replicas'] })),
    });
    const isr = new Set(configs.resources.map((r) => r.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue));
    const line = `topics replicated: replicas ${[...replicas].join('/')}, min.insync.replicas ${[...isr].join('/')}`;
    return replicas.size === 1 && replicas.has(3) && isr.size === 1 && isr.has('2') ? [line] : [`PROBLEM ${line}, expected 3 and 2`];
  } finally {
    await admin.disconnect();
  }
}

/** The machine's PostgreSQL restarted mid-ingest (pg_ctlcluster), twice: at a fifth and at half of the records applied. */
async function pgRestart(world: World, options: { rows: number; seed: number }): Promise<Result> {
  const url = new URL(world.config.databaseUrl);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname))
    throw new Error(`pg-restart restarts a local PostgreSQL; DATABASE_URL points at ${url.hostname}`);
  const versions = fs.existsSync('/etc/postgresql')
    ? fs
        .readdirSync('/etc/postgresql')
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  if (!versions.length) throw new Error('pg-restart needs pg_ctlcluster (a Debian/Ubuntu PostgreSQL in /etc/postgresql)');
  const version = versions[versions.length - 1];
  // a larger file: more of the ingest between and after the restarts (at three times the rows, a
  // faster machine applied the rest of the file while PostgreSQL came back from the first restart,
  // and the second was never due)
  const { file, expected, records } = await generate(world, options.rows * 6, options.seed);
  const said = `PostgreSQL ${version} restarted (pg_ctlcluster restart)`;
  const plan: Planned<'restart'>[] = [
    { kind: 'restart', at: 0.2 },
    { kind: 'restart', at: 0.5 },
  ];
  return ingestUnderFaults(world, file, expected, {
    announced: plan.map(() => said),
    inject: (ingest) =>
      atPointsApplied(world, ingest, plan, records, async () => {
        await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart']);
        return said;
      }),
  });
}

/** Thousands of malformed records mixed into the file, and a poison message straight into each topic. */
async function badInput(world: World, options: { rows: number; seed: number }): Promise<Result> {
  const clean = path.join(world.tmp, 'clean.csv');
  await generateProducts({ rows: options.rows, seed: options.seed + 1, out: clean });
  const records = readRecords(clean);
  const badCount = Math.max(1000, Math.round(options.rows / 10));
  const bad = writeBadFile(path.join(world.tmp, 'products-with-bad-records.csv'), records, badCount, options.seed);
  const expected = expectedFromRecords(records);

  // The poison goes in before the ingest: the groups meet it first, and must get past it.
  const kafka = createKafka({ brokers: world.config.kafkaBrokers, clientId: 'dasy-chaos', logger: quietLogger() });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, world.config.namespace);
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: topicName(world.config.namespace, 'products'), acks: -1, messages: [{ key: 'chaos-poison', value: '{"this is": not json' }] });
  await producer.send({
    topic: topicName(world.config.namespace, 'productCount'),
    acks: -1,
    messages: [{ key: '', value: 'a recount without a name', partition: 0 }],
  });
  await producer.disconnect();
  const faults = [
    `${bad.bad.size} malformed records in a ${(bad.good + bad.bad.size).toLocaleString('en-US')}-record file`,
    'poison message in products',
    'poison message in product-count',
  ];

  const rejectsFile = path.join(world.tmp, 'rejects.csv');
  // faults put in before the ingest: injected as announced by construction
  return ingestUnderFaults(
    world,
    bad.file,
    expected,
    { announced: faults, inject: async () => faults },
    {
      deadLetters: { products: 1, productCount: 1 },
      onSummary: async (summary) => {
        const problems: string[] = [];
        if (summary.rejected !== bad.bad.size || summary.accepted !== bad.good)
          problems.push(`ingest accepted ${String(summary.accepted)} and rejected ${String(summary.rejected)}; expected ${bad.good} and ${bad.bad.size}`);
        const reported = readRecords0(rejectsFile);
        const lines = new Set(reported.map((r) => Number(r[0])));
        const missing = [...bad.bad.keys()].filter((l) => !lines.has(l));
        const extra = [...lines].filter((l) => !bad.bad.has(l));
        if (missing.length || extra.length || reported.length !== bad.bad.size)
          problems.push(
            `rejects file: ${reported.length} lines; not reported: ${missing.slice(0, 5).join(',') || 'none'}; reported wrongly: ${extra.slice(0, 5).join(',') || 'none'}`,
          );
        if (reported.some((r) => !r[1])) problems.push('a rejected record without a reason');
        const k = createKafka({ brokers: world.config.kafkaBrokers, clientId: 'dasy-chaos', logger: quietLogger() }).admin();
        await k.connect();
        try {
          const onTopic = sum(await endOffsets(k, topicName(world.config.namespace, 'productsRejects')));
          if (onTopic !== bad.bad.size)
            problems.push(`${onTopic} records on ${topicName(world.config.namespace, 'productsRejects')}, expected ${bad.bad.size}`);
        } finally {
          await k.disconnect();
        }
        if (!problems.length)
          world.say(
            `every malformed record reported once, at its line, with a reason (rejects file and ${TOPICS.productsRejects.name} topic); both poison messages dead-lettered`,
          );
        return problems;
      },
    },
  );
}

/** The rejects file's records (line, reason, raw): parsed without its header. */
function readRecords0(file: string): string[][] {
  return (parse(fs.readFileSync(file), { from_line: 2, max_record_size: 4 * 1024 * 1024 }) as string[][]).filter((r) => r.length >= 2);
}
