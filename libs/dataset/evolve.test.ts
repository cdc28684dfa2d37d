import { canonical, specChanges } from './evolve';
import { parseDatasetSpec } from './spec';

const base = `
name: orders
key: id
columns: { id: text, customer: text, amount: numeric }
aggregates:
  totals: { group_by: customer, measures: { n: count, total: sum(amount) } }
`;
const spec = (text: string) => parseDatasetSpec(text, 'orders.yaml');
/** The spec as it comes back from jsonb: the same values, its keys in another order. */
const fromJsonb = (text: string) => JSON.parse(canonical(spec(text))) as ReturnType<typeof spec>;

test('the same spec, read back from the registry with its keys reordered, changes nothing', () => {
  expect(specChanges(fromJsonb(base), spec(base), 'orders.yaml')).toEqual({ columns: [], aggregates: [] });
});

test('a new optional column and a new aggregate are what a changed spec may add', () => {
  const wanted = spec(base.replace('amount: numeric }', 'amount: numeric, note: text? }') + `  by_amount: { group_by: id, measures: { m: max(amount) } }\n`);
  const changes = specChanges(fromJsonb(base), wanted, 'orders.yaml');
  expect([changes.columns.map((c) => c.name), changes.aggregates.map((a) => a.name)]).toEqual([['note'], ['by_amount']]);
});

test.each([
  [
    'a new required column',
    base.replace('amount: numeric }', 'amount: numeric, note: text }'),
    'new column note is required (text); a new column must be optional (text?), as the rows already stored have no value for it',
  ],
  ['a changed type', base.replace('amount: numeric', 'amount: integer').replace('sum(amount)', 'sum(amount)'), 'column amount changed from numeric to integer'],
  ['a removed column', base.replace(', amount: numeric', '').replace(', total: sum(amount)', ''), 'column amount was removed'],
  ['a changed aggregate', base.replace('n: count,', 'n: count, top: max(amount),'), 'aggregate totals changed'],
  [
    'a new column before the old ones',
    base.replace('{ id: text,', '{ note: text?, id: text,'),
    'new columns (note) must come after the columns there were, in their order',
  ],
  ['a changed key', base.replace('key: id', 'key: [id, customer]'), 'key changed from (id) to (id, customer)'],
])('%s is refused with one line saying what to do', (_, text, what) => {
  expect(() => specChanges(fromJsonb(base), spec(text), 'orders.yaml')).toThrow(
    `orders.yaml: ${what}; dasy adds new optional columns and new aggregates only: restore the spec as it was, or declare a dataset of another name (make reset drops this one)`,
  );
});

/** A spec as dasy_datasets gives it back: jsonb orders each object's keys (shorter first). */
function asJsonb(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asJsonb);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value).sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  return Object.fromEntries(keys.map((k) => [k, asJsonb((value as Record<string, unknown>)[k])]));
}

test("the same spec in jsonb's own key order (shorter keys first): no change; a measure changed: refused", () => {
  const stored = asJsonb(spec(base)) as ReturnType<typeof spec>;
  expect(JSON.stringify(stored)).not.toBe(JSON.stringify(spec(base)));
  expect(specChanges(stored, spec(base), 'orders.yaml')).toEqual({ columns: [], aggregates: [] });
  expect(() => specChanges(stored, spec(base.replace('sum(amount)', 'max(amount)')), 'orders.yaml')).toThrow(/^orders.yaml: aggregate totals changed; /);
});
