import { Registry } from 'prom-client';
import { clusterMetrics } from './exporter';
import { ClusterSample, groupKey } from './source';

const groups = [
  { group: 'ns.products-consumer', topic: 'ns.products' },
  { group: 'ns.scores-consumer', topic: 'ns.scores' },
];

/** The exposition lines of the dasy_ series (no HELP/TYPE), as Prometheus reads them. */
async function exposition(sample: ClusterSample): Promise<string[]> {
  const registry = new Registry();
  clusterMetrics(registry, { groups, sample: async () => sample });
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith('dasy_'));
}

const db = (over: Partial<NonNullable<ClusterSample['db']>> = {}): NonNullable<ClusterSample['db']> => ({
  stored: new Map([[groupKey('ns.products-consumer', 'ns.products'), new Map([[0, 40n]])]]),
  lastCommit: new Map([[groupKey('ns.products-consumer', 'ns.products'), 1700000000.5]]),
  deadLetters: [{ topic: 'ns.products.dlq', messages: 3, lastAt: 1700000001 }],
  tables: [{ table: 'products', rows: 39 }],
  files: [{ file: 'a.csv', records: 45, rejected: 5 }],
  outbox: 7,
  datasets: { groups: [], tables: [] },
  ...over,
});

test('lag per partition is the end offset minus the stored offset (0 when none is stored, as make status counts)', async () => {
  const lines = await exposition({
    ends: new Map([
      [
        'ns.products',
        new Map([
          [0, 50n],
          [1, 10n],
        ]),
      ],
    ]),
    db: db(),
  });
  const p = (partition: number) => `group="ns.products-consumer",topic="ns.products",partition="${partition}"`;
  expect(lines).toEqual([
    `dasy_consumer_stored_offset{${p(0)}} 40`,
    `dasy_consumer_stored_offset{${p(1)}} 0`,
    `dasy_consumer_end_offset{${p(0)}} 50`,
    `dasy_consumer_end_offset{${p(1)}} 10`,
    `dasy_consumer_lag{${p(0)}} 10`,
    `dasy_consumer_lag{${p(1)}} 10`,
    `dasy_consumer_last_commit_timestamp_seconds{group="ns.products-consumer",topic="ns.products"} 1700000000.5`,
    `dasy_dead_letters_total{topic="ns.products.dlq"} 3`,
    `dasy_dead_letters_last_timestamp_seconds{topic="ns.products.dlq"} 1700000001`,
    `dasy_csv_records_total{file="a.csv"} 45`,
    `dasy_csv_rejected_records_total{file="a.csv"} 5`,
    `dasy_table_rows{table="products"} 39`,
    `dasy_outbox_waiting_names 7`,
    `dasy_kafka_up 1`,
    `dasy_postgresql_up 1`,
  ]);
});

test('a service that did not answer: its series are absent and its up gauge is 0', async () => {
  const p0 = 'group="ns.products-consumer",topic="ns.products",partition="0"';
  expect(await exposition({ ends: new Map([['ns.products', new Map([[0, 50n]])]]) })).toEqual([
    `dasy_consumer_end_offset{${p0}} 50`,
    'dasy_outbox_waiting_names Nan', // NaN: not known (prom-client writes Nan; Prometheus reads it as NaN)
    'dasy_kafka_up 1',
    'dasy_postgresql_up 0',
  ]);
  expect((await exposition({ db: db({ deadLetters: [], files: [], tables: [], outbox: undefined }) })).filter((l) => !l.includes('last_commit'))).toEqual([
    `dasy_consumer_stored_offset{${p0}} 40`,
    'dasy_outbox_waiting_names Nan',
    'dasy_kafka_up 0',
    'dasy_postgresql_up 1',
  ]);
});

test('a series that disappears from one sample to the next is gone from the exposition', async () => {
  let sample: ClusterSample = { ends: new Map([['ns.scores', new Map([[3, 8n]])]]), db: db() };
  const registry = new Registry();
  clusterMetrics(registry, { groups, sample: async () => sample });
  expect(await registry.metrics()).toContain('dasy_consumer_lag{group="ns.scores-consumer",topic="ns.scores",partition="3"} 8');
  sample = { db: db() };
  expect(await registry.metrics()).not.toContain('dasy_consumer_lag{');
});
