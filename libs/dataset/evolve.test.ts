import { specChanges } from './evolve';
import { parseDatasetSpec } from './spec';

const SPEC = `
name: orders
key: order_id
columns: {order_id: text, customer: text, amount: numeric}
aggregates:
  customer_totals:
    group_by: customer
    measures: {orders: count, total_amount: sum(amount)}
`;

/** A spec as dasy_datasets gives it back: jsonb orders each object's keys (shorter first). */
function asJsonb(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asJsonb);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value).sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  return Object.fromEntries(keys.map((k) => [k, asJsonb((value as Record<string, unknown>)[k])]));
}

describe('specChanges', () => {
  test('the same spec, stored as jsonb (its keys in another order): no change', () => {
    const spec = parseDatasetSpec(SPEC, 'orders.yaml');
    const stored = asJsonb(spec) as typeof spec;
    expect(JSON.stringify(stored)).not.toBe(JSON.stringify(spec));
    expect(specChanges(stored, spec, 'orders.yaml')).toEqual({ columns: [], aggregates: [] });
  });

  test('a measure changed: refused, naming the aggregate', () => {
    const stored = asJsonb(parseDatasetSpec(SPEC, 'orders.yaml')) as ReturnType<typeof parseDatasetSpec>;
    const changed = parseDatasetSpec(SPEC.replace('sum(amount)', 'max(amount)'), 'orders.yaml');
    expect(() => specChanges(stored, changed, 'orders.yaml')).toThrow(/^orders.yaml: aggregate customer_totals changed; /);
  });
});
