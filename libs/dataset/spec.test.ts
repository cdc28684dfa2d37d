import * as fs from 'fs';
import * as path from 'path';
import { parseDatasetSpec, PRODUCTS_SPEC, SpecError } from './spec';

const ORDERS = `
name: orders
key: order_id
columns:
  order_id: text
  customer: text
  amount: numeric
  placed_at: timestamp
  note: text?
aggregates:
  customer_totals:
    group_by: customer
    measures:
      orders: count
      total_amount: sum(amount)
      first_order: min(placed_at)
`;

/** The one line a spec is refused with. */
function refused(text: string): string {
  try {
    parseDatasetSpec(text, 'x.yaml');
  } catch (err) {
    if (err instanceof SpecError) return err.message;
    throw err;
  }
  throw new Error('not refused');
}

test('a spec is read into its columns, key and aggregates, in the order written', () => {
  expect(parseDatasetSpec(ORDERS, 'orders.yaml')).toEqual({
    name: 'orders',
    key: ['order_id'],
    columns: [
      { name: 'order_id', type: 'text', optional: false },
      { name: 'customer', type: 'text', optional: false },
      { name: 'amount', type: 'numeric', optional: false },
      { name: 'placed_at', type: 'timestamp', optional: false },
      { name: 'note', type: 'text', optional: true },
    ],
    aggregates: [
      {
        name: 'customer_totals',
        groupBy: ['customer'],
        measures: [
          { name: 'orders', fn: 'count' },
          { name: 'total_amount', fn: 'sum', column: 'amount' },
          { name: 'first_order', fn: 'min', column: 'placed_at' },
        ],
      },
    ],
  });
});

test('a composite key and group_by are lists; aggregates may be absent', () => {
  const spec = parseDatasetSpec(
    'name: lines\nkey: [order_id, line]\ncolumns: {order_id: text, line: integer, day: date}\naggregates: {per_day: {group_by: [day, order_id], measures: {n: count}}}',
    'l.yaml',
  );
  expect([spec.key, spec.aggregates[0].groupBy]).toEqual([
    ['order_id', 'line'],
    ['day', 'order_id'],
  ]);
  expect(parseDatasetSpec('name: t\nkey: a\ncolumns: {a: integer}', 't.yaml').aggregates).toEqual([]);
});

test('the shipped specs are valid, and products.yaml is exactly the built-in products', () => {
  const dir = path.join(__dirname, '..', '..', 'datasets');
  const read = (f: string) => parseDatasetSpec(fs.readFileSync(path.join(dir, f), 'utf8'), f);
  expect(read('products.yaml')).toEqual(PRODUCTS_SPEC);
  expect(read('orders.yaml').name).toBe('orders');
});

test.each([
  ['an unknown top-level key', ORDERS + 'extra: 1\n', 'x.yaml: unknown key "extra" in the spec (known: name, key, columns, aggregates)'],
  [
    'an unknown type',
    ORDERS.replace('amount: numeric', 'amount: money'),
    'x.yaml: columns.amount: unknown type "money" (known: text, integer, numeric, boolean, date, timestamp, each with an optional trailing ?)',
  ],
  ['an unknown key column', ORDERS.replace('key: order_id', 'key: id'), 'x.yaml: key: unknown column "id"'],
  ['an optional key column', ORDERS.replace('key: order_id', 'key: note'), 'x.yaml: key: column "note" is optional; key and group_by columns must be required'],
  [
    'a numeric key column',
    ORDERS.replace('key: order_id', 'key: amount'),
    'x.yaml: key: column "amount" is numeric; key and group_by columns are text, integer, date, boolean',
  ],
  [
    'an unknown measure',
    ORDERS.replace('sum(amount)', 'avg(amount)'),
    'x.yaml: aggregates.customer_totals.measures.total_amount: unknown measure "avg(amount)" (known: count, sum(column), min(column), max(column))',
  ],
  [
    'a sum of text',
    ORDERS.replace('sum(amount)', 'sum(customer)'),
    'x.yaml: aggregates.customer_totals.measures.total_amount: sum needs an integer or numeric column; customer is text',
  ],
  [
    'a measure of an unknown column',
    ORDERS.replace('min(placed_at)', 'min(shipped_at)'),
    'x.yaml: aggregates.customer_totals.measures.first_order: unknown column "shipped_at"',
  ],
  [
    'an unknown aggregate key',
    ORDERS.replace('    group_by: customer', '    group_by: customer\n    having: 1'),
    'x.yaml: unknown key "having" in aggregates.customer_totals (known: group_by, measures)',
  ],
  [
    'a group_by of an optional column',
    ORDERS.replace('group_by: customer', 'group_by: note'),
    'x.yaml: aggregates.customer_totals.group_by: column "note" is optional; key and group_by columns must be required',
  ],
  ['a key named twice', ORDERS.replace('key: order_id', 'key: [order_id, order_id]'), 'x.yaml: key: a column is named twice'],
  ['a duplicate YAML key', ORDERS.replace('  note: text?', '  note: text?\n  note: text'), 'x.yaml: not valid YAML: Map keys must be unique'],
  ['not a mapping', '- a\n- b', 'x.yaml: the spec must be a mapping'],
  [
    "dasy's own table",
    ORDERS.replace('name: orders', 'name: score_stats'),
    'x.yaml: name: "score_stats" is one of dasy\'s own tables or topics; choose another',
  ],
  [
    'an aggregate named as the dataset',
    ORDERS.replace('customer_totals:', 'orders:'),
    "x.yaml: aggregates.orders: the name is taken (the dataset's or dasy's own); choose another",
  ],
  [
    'a changed products',
    ORDERS.replace('name: orders', 'name: products'),
    'x.yaml: name: products is the built-in dataset (datasets/products.yaml), whose tables the contract fixes; declare yours under another name',
  ],
])('%s is refused with one line naming it', (_, text, line) => {
  expect(refused(text)).toBe(line);
});

test.each([
  [
    'a dataset name',
    ORDERS.replace('name: orders', 'name: "orders; DROP TABLE products"'),
    'x.yaml: name: "orders; DROP TABLE products" is not a name dasy takes',
  ],
  ['a column name', ORDERS.replace('  note: text?', "  'a\"; drop table x; --': text?"), 'x.yaml: columns: "a\\"; drop table x; --" is not a name dasy takes'],
  ['an aggregate name', ORDERS.replace('customer_totals:', '"Totals":'), 'x.yaml: aggregates: "Totals" is not a name dasy takes'],
  ['a measure name', ORDERS.replace('orders: count', '"n)": count'), 'x.yaml: aggregates.customer_totals.measures: "n)" is not a name dasy takes'],
  [
    'a measure column',
    ORDERS.replace('sum(amount)', 'sum(amount); drop table x'),
    'x.yaml: aggregates.customer_totals.measures.total_amount: unknown measure "sum(amount); drop table x"',
  ],
  ['a name too long', ORDERS.replace('name: orders', `name: ${'a'.repeat(41)}`), `x.yaml: name: "${'a'.repeat(41)}" is not a name dasy takes`],
])('a hostile or unusable name (%s) never reaches SQL: refused at the spec', (_, text, start) => {
  expect(refused(text).startsWith(start)).toBe(true);
});

test('an alias is refused as a spec error naming the file, not a crash', () => {
  const yaml =
    'name: al\nkey: id\ncolumns: &c {id: text}\naggregates:\n  x:\n    group_by: id\n    measures: &m {c: count}\n  y:\n    group_by: id\n    measures: *m\n';
  expect(() => parseDatasetSpec(yaml, 'al.yaml')).toThrow(SpecError);
  expect(() => parseDatasetSpec(yaml, 'al.yaml')).toThrow(/^al\.yaml: an alias \(\*name\) is not taken; write the value out \(/);
});
