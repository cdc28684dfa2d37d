import * as path from 'path';
import { Admin } from '../../libs/kafka/port';
import { deadLetterTopic, topicName } from '../../libs/kafka/topics';
import { caughtUp, diffTables, exact, expectedFromFiles, kafkaOf, messagesIn, Part, pipelineParts, sleep } from './faults-kit';
import { createTestEnv, runCli, TestEnv } from './harness';

/**
 * DESIGN.md §6: a part killed with SIGKILL at any instant, then restarted, leaves the tables
 * exactly as if it had never died. Three files stream in one after another while products
 * consumers, the relay and the product-count consumer are killed again and again, at random
 * moments and also deliberately inside a transaction (held there by a table lock); each is
 * restarted.
 */

let t: TestEnv;
let admin: Admin;
beforeAll(async () => {
  t = await createTestEnv('faultskill');
  admin = kafkaOf(t).admin();
  await admin.connect();
});
afterAll(async () => {
  await admin?.disconnect();
  await t?.cleanup();
});

/** Whether a part of this PostgreSQL application name is inside its transaction, waiting for a lock. */
async function blockedInTransaction(appName: string): Promise<boolean> {
  const { rows } = await t.pool.query(
    `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND xact_start IS NOT NULL AND wait_event_type = 'Lock' LIMIT 1`,
    [appName],
  );
  return rows.length > 0;
}

test('parts SIGKILLed mid-ingest, many times, and restarted: products and product_count exactly a clean run', async () => {
  const files: string[] = [];
  for (const seed of [21, 22, 23]) {
    const file = path.join(t.tmp, `wave-${seed}.csv`);
    expect((await runCli(t, ['data', '--rows', '8000', '--seed', String(seed), '--out', file])).code).toBe(0);
    files.push(file);
  }
  const expected = expectedFromFiles(...files);

  const parts = pipelineParts(t, 2);
  const all = [...parts.products, parts.relay, parts.counter];
  for (const p of all) p.start();

  // The files stream in one after another, a little apart, while the killer works.
  let producing = true;
  const production = (async () => {
    for (const file of files) {
      const r = await runCli(t, ['products-producer', '--file', file, '--rejects', path.join(t.tmp, 'rejects.csv')]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      await sleep(1500);
    }
    producing = false;
  })();

  const kills: string[] = [];
  const random = (xs: Part[]) => xs[Math.floor(Math.random() * xs.length)];
  const restart = async (victims: Part[]) => {
    await sleep(100 + Math.random() * 300);
    for (const v of victims) v.start();
  };
  /**
   * SIGKILL the parts of this application name inside a transaction: the test holds a SHARE lock
   * on the table they write, so the next batch's transaction (offset already advanced, rows
   * half-written) waits on it; the kill lands there. Then the lock goes.
   */
  const killInTransaction = async (table: string, appName: string, victims: Part[]) => {
    const lock = await t.pool.connect();
    let caught = false;
    try {
      await lock.query('BEGIN');
      await lock.query(`LOCK TABLE ${table} IN SHARE MODE`);
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline && !(caught = await blockedInTransaction(appName))) await sleep(20);
      await Promise.all(victims.map((v) => v.sigkill()));
    } finally {
      await lock.query('ROLLBACK');
      lock.release();
    }
    kills.push(`${appName}${caught ? ' (in a transaction)' : ''}`);
    await restart(victims);
  };
  // (the product-count consumer first: after a kill, a part is back to work only once its group
  // dropped the dead member, a session timeout later)
  const plan = [
    'counter-in-transaction',
    'products',
    'relay',
    'products-in-transaction',
    'counter',
    'products',
    'relay',
    'products',
    'counter',
    'relay',
    'products',
  ];
  for (const step of plan) {
    await sleep(300 + Math.random() * 700);
    if (step === 'products-in-transaction') await killInTransaction('products', 'dasy-products-consumer', parts.products);
    else if (step === 'counter-in-transaction') await killInTransaction('product_count', 'dasy-product-count-consumer', [parts.counter]);
    else {
      const victim = step === 'products' ? random(parts.products) : step === 'relay' ? parts.relay : parts.counter;
      await victim.sigkill();
      kills.push(victim.args[0]);
      await restart([victim]);
    }
  }
  await production;
  expect(producing).toBe(false);

  await caughtUp(t, admin);
  for (const p of all) await p.stop();
  expect(await diffTables(t.pool, expected)).toEqual(exact(expected));
  expect(kills.filter((k) => k.includes('(in a transaction)')).sort()).toEqual([
    'dasy-product-count-consumer (in a transaction)',
    'dasy-products-consumer (in a transaction)',
  ]);
  expect(kills.length).toBe(plan.length);
  // nothing left waiting, nothing dead-lettered
  const { rows } = await t.pool.query<{ n: string }>('SELECT coalesce(sum(cardinality(names)), 0) AS n FROM product_count_outbox WHERE namespace = $1', [
    t.namespace,
  ]);
  expect(rows[0].n).toBe('0');
  const dlq = (id: 'products' | 'productCount') => messagesIn(admin, deadLetterTopic(topicName(t.namespace, id)));
  expect([await dlq('products'), await dlq('productCount')]).toEqual([0, 0]);
});
