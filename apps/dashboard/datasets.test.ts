import { parseDatasetSpec } from '../../libs/dataset/spec';
import type { StatusReport } from '../status';
import { summarizeDatasets, topGroupsSql } from './datasets';

const SPEC = parseDatasetSpec(
  `name: orders
key: order_id
columns: {order_id: text, customer: text, region: text, qty: integer, amount: numeric, placed_at: timestamp, day: date, paid: boolean}
aggregates:
  customer_totals:
    group_by: [region, customer]
    measures: {total: sum(amount), orders: count, most: max(qty), first: min(placed_at), first_day: min(day)}
  per_day:
    group_by: day
    measures: {orders: count}
`,
  'orders.yaml',
);

test("the top groups: by the table's first measure descending (NULLs last), then the groups, ten at most", () => {
  const [totals] = SPEC.aggregates;
  const sql = topGroupsSql(totals, [
    { name: 'region', type: 'text' },
    { name: 'total', type: 'numeric' },
    { name: 'first', type: 'timestamp' },
  ]).replace(/\s+/g, ' ');
  expect(sql).toBe(
    `SELECT to_json(t."region") AS "region", to_json(t."total"::text) AS "total", to_json(to_char(t."first" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) AS "first" ` +
      `FROM "customer_totals" AS t ORDER BY t."total" DESC NULLS LAST, t."region", t."customer" LIMIT 10`,
  );
});

test("a dataset's progress: its table's rows, the lag of its groups alone, its rows consumer's rate", () => {
  const group = (name: string, lag: string) => ({ group: `ns.${name}`, topic: 't', partitions: [], lag, lastCommitAt: null, verdict: '' });
  const pipeline: StatusReport = {
    namespace: 'ns',
    groups: [
      group('products-consumer', '100'),
      group('orders-consumer', '7'),
      group('orders.customer_totals-consumer', '5'),
      group('orders.per_day-consumer', '1'),
    ],
    deadLetters: {},
    tables: { products: 3, orders: 12 },
    outbox: 0,
    datasetOutbox: {},
  };
  const rates = { 'ns.products-consumer': 50, 'ns.orders-consumer': 40, 'ns.orders.per_day-consumer': 2 };
  expect(summarizeDatasets('ns', [{ spec: SPEC, aggregates: [] }], pipeline, rates)).toEqual([
    { name: 'orders', rows: 12, lag: '13', appliedPerSecond: 40, aggregates: [] },
  ]);
  expect(summarizeDatasets('ns', [{ spec: SPEC, aggregates: [] }], { ...pipeline, groups: [], tables: {} }, {})).toEqual([
    { name: 'orders', rows: null, lag: '0', appliedPerSecond: null, aggregates: [] },
  ]);
});
