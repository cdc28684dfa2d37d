import { loadDevConfig } from '../../libs/config';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { createKafka } from '../../libs/kafka/client';
import { createLogger } from '../../libs/log';
import { topicName } from '../../libs/kafka/topics';
import { diffTables, exact, expectedFromFiles, linesMatching, messagesIn, sleep } from './faults-kit';
import { createTestEnv, ROOT, runCli, startCli, TestEnv, waitFor } from './harness';

/**
 * The broker stopped and started again mid-ingest (DESIGN.md §6: the producer is idempotent with
 * acks=all; a broker restart loses and duplicates nothing): the producer, the consumers and the
 * relay wait, say so once, and resume; the tables are exact. The shared broker stays untouched:
 * this file runs its own single-node broker on other ports (infra/stack.sh with KAFKA_PORT_BASE),
 * so it needs the Kafka jars of the local stack (`make up` fetched them); without them it is
 * skipped. (`make chaos` restarts the stack's own broker, and a three-broker cluster's.)
 */

const run = promisify(execFile);
const JAR = path.join(ROOT, '.stack', 'kafka-libs', 'kafka_2.13-3.9.1.jar');
const PORT_BASE = loadDevConfig().testBrokerPortBase;
const BROKER = `127.0.0.1:${PORT_BASE + 2}`;
const maybe = fs.existsSync(JAR) ? describe : describe.skip;

maybe('a broker restart mid-ingest', () => {
  let t: TestEnv;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const stack = (...args: string[]) => run(path.join(ROOT, 'infra', 'stack.sh'), args, { env });
  const savedBrokers = process.env.KAFKA_BROKERS;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dasy-faults-broker-'));
    env = { ...process.env, BROKERS: '1', KAFKA_PORT_BASE: String(PORT_BASE), KAFKA_STACK_DIR: dir, KAFKA_BROKERS: BROKER, KAFKA_HEAP: '-Xms128m -Xmx512m' };
    await stack('start-node', '1');
    await brokerAnswers();
    process.env.KAFKA_BROKERS = BROKER; // the test's world lives on this broker
    t = await createTestEnv('faultsbroker');
  }, 120000);
  afterAll(async () => {
    await t?.cleanup().catch(() => undefined);
    if (savedBrokers === undefined) delete process.env.KAFKA_BROKERS;
    else process.env.KAFKA_BROKERS = savedBrokers;
    await stack('kill-node', '1').catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The broker stopped for 5 s, then started again. */
  async function outage() {
    await stack('stop-node', '1');
    await sleep(5000);
    await stack('start-node', '1');
  }

  async function brokerAnswers() {
    await waitFor(
      'the test broker',
      async () => {
        const admin = createKafka({ brokers: [BROKER], clientId: 'faults-broker', logger: createLogger('faults-broker', 'error') }).admin();
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

  test('stopped for seconds while the file streams in: everyone waits, says so once, resumes; tables exact', async () => {
    const admin = createKafka({ brokers: [BROKER], clientId: 'faults-broker', logger: createLogger('faults-broker', 'error') }).admin();
    await admin.connect();
    const file = path.join(t.tmp, 'broker.csv');
    expect((await runCli(t, ['data', '--rows', '30000', '--seed', '41', '--out', file])).code).toBe(0);
    const expected = expectedFromFiles(file);
    const ingest = startCli(t, ['ingest', '--file', file, '--consumers', '2', '--rejects', path.join(t.tmp, 'rejects.csv')]);
    // the moment the file starts streaming in: the producer, the consumers and the relay all lose the broker
    await waitFor('records flowing', async () => (await messagesIn(admin, topicName(t.namespace, 'products'))) > 0, 60000, 50);
    await outage();
    const { code } = await ingest.exited;
    await admin.disconnect();
    expect({ code, tail: ingest.stderr().split('\n').slice(-5) }).toMatchObject({ code: 0 });
    expect(await diffTables(t.pool, expected)).toEqual(exact(expected));

    const log = ingest.stderr();
    const unavailable = linesMatching(log, / unavailable \(/);
    // the ingest, its producer, 2 products consumers, the relay, the product-count consumer:
    // each noticed the outage, said so, and said it is back; not a line per attempt
    expect(unavailable.length).toBeGreaterThan(0);
    expect(unavailable.length).toBeLessThanOrEqual(12);
    expect(linesMatching(log, / ERROR /)).toEqual([]);
  }, 180000);

  test('a declared dataset: the same outage while its file streams in; its table and aggregate exact', async () => {
    const admin = createKafka({ brokers: [BROKER], clientId: 'faults-broker', logger: createLogger('faults-broker', 'error') }).admin();
    await admin.connect();
    const file = path.join(t.tmp, 'broker-dataset.csv');
    expect((await runCli(t, ['data', '--rows', '30000', '--seed', '43', '--out', file])).code).toBe(0);
    const expected = expectedFromFiles(file);
    // the products file declared as a dataset of its own (the bench's): sku, name, description, a count per name
    const spec = path.join(ROOT, 'bench', 'specs', 'catalog.yaml');
    const ingest = startCli(t, ['ingest', '--file', file, '--dataset', spec, '--consumers', '2', '--rejects', path.join(t.tmp, 'rejects-dataset.csv')]);
    await waitFor('records flowing', async () => (await messagesIn(admin, `${t.namespace}.catalog`)) > 0, 60000, 50);
    await outage();
    const { code } = await ingest.exited;
    await admin.disconnect();
    expect({ code, tail: ingest.stderr().split('\n').slice(-5) }).toMatchObject({ code: 0 });
    expect(await diffTables(t.pool, expected, { rows: 'catalog', counts: 'catalog_count' })).toEqual(exact(expected));
    expect(linesMatching(ingest.stderr(), / ERROR /)).toEqual([]);
  }, 180000);
});
