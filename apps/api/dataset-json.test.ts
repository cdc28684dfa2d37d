import { parseDatasetSpec } from '../../libs/dataset/spec';
import { jsonColumns, measureValueType } from './dataset-json';

const SPEC = parseDatasetSpec(
  `name: orders
key: order_id
columns: {order_id: text, customer: text, qty: integer, amount: numeric, placed_at: timestamp, day: date}
aggregates:
  totals:
    group_by: customer
    measures: {total: sum(amount), orders: count, most: max(qty), first: min(placed_at), first_day: min(day)}
`,
  'orders.yaml',
);

test("a measure's values are of its function's type: count integer, sum numeric, min and max their column's", () => {
  expect(SPEC.aggregates[0].measures.map((m) => measureValueType(SPEC, m))).toEqual(['numeric', 'integer', 'integer', 'timestamp', 'date']);
});

test('each value is made JSON by PostgreSQL: integers while exact, numeric and instants as exact text', () => {
  expect(
    jsonColumns(
      [
        { name: 'qty', type: 'integer' },
        { name: 'amount', type: 'numeric' },
        { name: 'placed_at', type: 'timestamp' },
      ],
      't',
    ),
  ).toBe(
    'CASE WHEN t."qty" BETWEEN -9007199254740991 AND 9007199254740991 THEN to_json(t."qty") ELSE to_json(t."qty"::text) END AS "qty", ' +
      'to_json(t."amount"::text) AS "amount", ' +
      `to_json(to_char(t."placed_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) AS "placed_at"`,
  );
});
