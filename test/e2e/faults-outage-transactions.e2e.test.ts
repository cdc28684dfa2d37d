import { loadDevConfig } from '../../libs/config';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { createKafka } from '../../libs/kafka/client';
import { createLogger } from '../../libs/log';
import { diffTables, exact, expectedFromFiles, sleep } from './faults-kit';
import { createTestEnv, ROOT, runCli, startCli, TestEnv, waitFor } from './harness';

/**
 * No PostgreSQL transaction stays open across a call to Kafka (DESIGN.md §6): the broker stopped
 * for a minute in the middle of an ingest, while the relay has marks to send (and for 20 s while
 * the sync step of `ingest --sync` waits for the pipeline), and throughout no dasy connection of
 * the test's database sits idle in a transaction for more than a few seconds (one that did would
 * hold back VACUUM for the whole database); once the broker is back, the ingest ends and the
 * tables are exact. The shared broker stays untouched: this file runs its own
 * single-node broker (infra/stack.sh with KAFKA_PORT_BASE: DASY_TEST_BROKER_PORT_BASE + 20, beside
 * the port base faults-broker.e2e.test.ts uses), so it needs the Kafka jars of the local stack.
 */

const run = promisify(execFile);
const JAR = path.join(ROOT, '.stack', 'kafka-libs', 'kafka_2.13-3.9.1.jar');
const PORT_BASE = loadDevConfig().testBrokerPortBase + 20;
const BROKER = `127.0.0.1:${PORT_BASE + 2}`;
const OUTAGE_MS = 60_000;
/** the sync step's outage: long enough to break the rule many times over */
const SYNC_OUTAGE_MS = 20_000;
/** "a few seconds": longer than any pause between the statements of a transaction on a loaded machine */
const IDLE_IN_TRANSACTION_LIMIT_S = 5;
const maybe = fs.existsSync(JAR) ? describe : describe.skip;

/** The test database's dasy connections (each part names itself dasy-...) in a transaction, oldest first. */
const OPEN_TRANSACTIONS_SQL = `SELECT application_name AS app, state,
    extract(epoch FROM now() - state_change)::float8 AS in_state_s,
    extract(epoch FROM now() - xact_start)::float8 AS in_transaction_s
  FROM pg_stat_activity
  WHERE datname = current_database() AND application_name LIKE 'dasy%' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
  ORDER BY xact_start`;

interface OpenTransaction {
  app: string;
  state: string;
  in_state_s: number;
  in_transaction_s: number;
}

/** The longest-idle sample of each part that broke the rule. */
function worstOf(offences: OpenTransaction[]): OpenTransaction[] {
  const worst = new Map<string, OpenTransaction>();
  for (const o of offences) if ((worst.get(o.app)?.in_state_s ?? 0) < o.in_state_s) worst.set(o.app, o);
  return [...worst.values()];
}

maybe('a broker outage mid-ingest', () => {
  let t: TestEnv;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const stack = (...args: string[]) => run(path.join(ROOT, 'infra', 'stack.sh'), args, { env });
  const savedBrokers = process.env.KAFKA_BROKERS;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dasy-faults-outage-'));
    env = { ...process.env, BROKERS: '1', KAFKA_PORT_BASE: String(PORT_BASE), KAFKA_STACK_DIR: dir, KAFKA_BROKERS: BROKER, KAFKA_HEAP: '-Xms128m -Xmx512m' };
    await stack('start-node', '1');
    await brokerAnswers();
    process.env.KAFKA_BROKERS = BROKER; // the test's world lives on this broker
    t = await createTestEnv('faultsoutage');
  }, 120000);
  afterAll(async () => {
    await t?.cleanup().catch(() => undefined);
    if (savedBrokers === undefined) delete process.env.KAFKA_BROKERS;
    else process.env.KAFKA_BROKERS = savedBrokers;
    await stack('kill-node', '1').catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function brokerAnswers() {
    await waitFor(
      'the test broker',
      async () => {
        const admin = createKafka({ brokers: [BROKER], clientId: 'faults-outage', logger: createLogger('faults-outage', 'error') }).admin();
        try {
          await admin.connect();
          return (await admin.describeCluster()).brokers.length === 1;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      90000,
      500,
    );
  }

  async function marksWaitingForRelay(): Promise<boolean> {
    const { rows } = await t.pool.query<{ marked: boolean; relaying: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM product_count_outbox WHERE namespace = $1) AS marked,
        EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'dasy-product-count-producer-listen') AS relaying`,
      [t.namespace],
    );
    return rows[0].marked && rows[0].relaying;
  }

  async function syncing(): Promise<boolean> {
    const { rowCount } = await t.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'dasy-sync'`);
    return rowCount === 1;
  }

  /** Samples the dasy connections in a transaction until stopped; every sample that broke the rule. */
  function watchTransactions() {
    const offences: OpenTransaction[] = [];
    let samples = 0;
    let watching = true;
    const done = (async () => {
      while (watching) {
        const { rows } = await t.pool.query<OpenTransaction>(OPEN_TRANSACTIONS_SQL).catch(() => ({ rows: [] as OpenTransaction[] }));
        samples++;
        for (const r of rows) if (r.state.startsWith('idle in transaction') && r.in_state_s > IDLE_IN_TRANSACTION_LIMIT_S) offences.push(r);
        await sleep(250);
      }
    })();
    return {
      async stop() {
        watching = false;
        await done;
        return { samples, offences };
      },
    };
  }

  test('stopped for 60 s while marks wait in the outbox: no dasy connection idles in a transaction; tables exact', async () => {
    const file = path.join(t.tmp, 'outage.csv');
    expect((await runCli(t, ['data', '--rows', '60000', '--seed', '43', '--out', file])).code).toBe(0);
    const expected = expectedFromFiles(file);
    const watch = watchTransactions();
    const ingest = startCli(t, ['ingest', '--file', file, '--consumers', '2', '--rejects', path.join(t.tmp, 'rejects.csv')]);
    // products applied and their marks waiting, the relay connected to the broker (it listens for
    // marks once it is): it drains them while the broker is away
    await waitFor('marks in the outbox, the relay running', () => marksWaitingForRelay(), 90000, 50);
    await stack('stop-node', '1');
    await sleep(OUTAGE_MS);
    await stack('start-node', '1');
    const { code } = await ingest.exited;
    const { samples, offences } = await watch.stop();
    expect({ code, tail: ingest.stderr().split('\n').slice(-5) }).toMatchObject({ code: 0 });
    expect(samples).toBeGreaterThan(OUTAGE_MS / 1000); // it watched throughout (some 4 a second)
    expect(worstOf(offences)).toEqual([]);
    expect(await diffTables(t.pool, expected)).toEqual(exact(expected));
  }, 300000);

  test('ingest --sync: stopped while the sync step waits for the pipeline: no dasy connection idles in a transaction; tables exact', async () => {
    // on top of a first file's products: the skus of that file not in this one are deleted
    const first = path.join(t.tmp, 'before-sync.csv');
    expect((await runCli(t, ['data', '--rows', '5000', '--seed', '45', '--out', first])).code).toBe(0);
    expect((await runCli(t, ['ingest', '--file', first, '--rejects', path.join(t.tmp, 'rejects-first.csv')])).code).toBe(0);
    const file = path.join(t.tmp, 'outage-sync.csv');
    expect((await runCli(t, ['data', '--rows', '20000', '--seed', '44', '--out', file])).code).toBe(0);
    const expected = expectedFromFiles(file);
    const watch = watchTransactions();
    const ingest = startCli(t, ['ingest', '--sync', '--file', file, '--consumers', '2', '--rejects', path.join(t.tmp, 'rejects-sync.csv')]);
    // the file is in the topic and the sync step has begun: it waits for the pipeline to apply it
    await waitFor('the sync step', () => syncing(), 120000, 50);
    await stack('stop-node', '1');
    await sleep(SYNC_OUTAGE_MS);
    await stack('start-node', '1');
    const { code } = await ingest.exited;
    const { offences } = await watch.stop();
    expect({ code, tail: ingest.stderr().split('\n').slice(-5) }).toMatchObject({ code: 0 });
    const summary = JSON.parse(ingest.stdout().trim().split('\n').pop() ?? '{}') as { deleted?: number };
    expect(summary.deleted).toBeGreaterThan(0);
    expect(worstOf(offences)).toEqual([]);
    expect(await diffTables(t.pool, expected)).toEqual(exact(expected));
  }, 300000);
});
