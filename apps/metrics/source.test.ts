import { Admin } from '../../libs/kafka/port';
import { Pool } from 'pg';
import { createLogger } from '../../libs/log';
import { ClusterSource } from './source';

/** Kafka that does not answer, and a PostgreSQL with empty bookkeeping: counts the requests. */
function source() {
  const asked = { listTopics: 0, queries: 0 };
  const admin = {
    connect: async () => undefined,
    listTopics: () => {
      asked.listTopics++;
      return new Promise<string[]>(() => undefined);
    },
  } as unknown as Admin;
  const pool = {
    query: async (text: string) => {
      asked.queries++;
      return { rows: text.includes('product_count_outbox') ? [{ n: '4' }] : [] };
    },
  } as unknown as Pool;
  const s = new ClusterSource({
    pool,
    admin,
    namespace: 'ns',
    groups: [{ group: 'ns.g', topic: 'ns.t' }],
    logger: createLogger('t', 'error'),
    maxAgeMs: 0,
    timeoutMs: 30,
  });
  return { s, asked };
}

test('a service that does not answer: the sample goes without it at the deadline, and it is not asked again while the first request runs', async () => {
  const { s, asked } = source();
  const first = await s.sample();
  const second = await s.sample();
  expect([first.ends, second.ends, first.db?.outbox, second.db?.outbox, asked.listTopics]).toEqual([undefined, undefined, 4, 4, 1]);
  expect(asked.queries).toBe(5 + 5 + 1); // PostgreSQL answered: asked at each sample (the datasets first), the outbox once (counted every 10 s)
});

test('scrapes while a sample is being read share it', async () => {
  const { s, asked } = source();
  const [a, b] = await Promise.all([s.sample(), s.sample()]);
  expect([a === b, a.db?.outbox, asked.queries]).toEqual([true, 4, 6]);
});
