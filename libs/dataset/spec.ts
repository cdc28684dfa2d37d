import * as fs from 'fs';
import type * as Yaml from 'yaml';
import { DATA_TABLES } from '../db/schema';
import { InputError } from '../errors';

/**
 * A dataset, declared in one YAML file (DESIGN.md §8): its table, its key, its typed columns, and
 * the aggregates the pipeline keeps exact. Parsed and checked strictly here, once, at start: an
 * unknown key, type, column or measure stops the program with one line naming it (SpecError).
 * Every name that becomes an SQL identifier or a topic name passes NAME_PATTERN first, and is
 * quoted where it is used (libs/db/identifiers.ts): no spec can inject SQL.
 */
export const COLUMN_TYPES = ['text', 'integer', 'numeric', 'boolean', 'date', 'timestamp'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** `type?`: an empty field is NULL; otherwise it is a value of the type ('' for text) */
  optional: boolean;
}

export const MEASURE_FUNCTIONS = ['count', 'sum', 'min', 'max'] as const;
export type MeasureFunction = (typeof MEASURE_FUNCTIONS)[number];

export interface MeasureSpec {
  name: string;
  fn: MeasureFunction;
  /** the column measured; none for count */
  column?: string;
}

export interface AggregateSpec {
  /** its table's name */
  name: string;
  groupBy: string[];
  measures: MeasureSpec[];
}

export interface DatasetSpec {
  name: string;
  key: string[];
  /** in the spec's order */
  columns: ColumnSpec[];
  aggregates: AggregateSpec[];
}

/** A spec that cannot be used: one line, naming the file and what is wrong. */
export class SpecError extends InputError {}

/**
 * Lower-case letters, digits and `_`, a letter first, at most 40: a PostgreSQL identifier with room
 * for the suffixes dasy derives from it (`<aggregate>_group_idx`), and a valid Kafka topic part.
 */
export const NAME_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

/**
 * Names a dataset or an aggregate cannot take: dasy's own tables and topics in the namespace
 * (products is the built-in spec's), and the suffixes of a dataset's topics (`.rejects`, `.dlq`).
 */
const RESERVED_TABLES = new Set([...DATA_TABLES.filter((t) => t !== 'products'), 'scores', 'rejects', 'dlq']);

const TOP_KEYS = ['name', 'key', 'columns', 'aggregates'];
const AGGREGATE_KEYS = ['group_by', 'measures'];

/**
 * The YAML parser, loaded at the first spec read: every process links this module (the products
 * check of the CLI), and most never read a spec; loading yaml (72 modules) cost each of them
 * about 50 ms of CPU at start.
 */
let yamlModule: typeof Yaml | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = (): typeof Yaml => (yamlModule ??= require('yaml') as typeof Yaml);

/** Read and check a spec file. */
export function loadDatasetSpec(file: string): DatasetSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SpecError(`${file}: cannot read the dataset spec (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  return parseDatasetSpec(text, file);
}

/** Parse and check a spec's YAML text; `source` names it in errors. */
export function parseDatasetSpec(text: string, source: string): DatasetSpec {
  const fail = (what: string): never => {
    throw new SpecError(`${source}: ${what}`);
  };
  const doc = yaml().parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length) fail(`not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 0 });
  } catch (err) {
    // an alias (*name) is all toJS refuses here: aliases are off (no billion laughs)
    fail(`an alias (*name) is not taken; write the value out (${err instanceof Error ? err.message : String(err)})`);
  }
  const top = mapping(root, 'the spec', fail);
  onlyKeys(top, TOP_KEYS, 'the spec', fail);
  const name = identifier(top.name, 'name', fail);
  if (name.startsWith('dasy_') || RESERVED_TABLES.has(name)) fail(`name: "${name}" is one of dasy's own tables or topics; choose another`);
  const columns = parseColumns(top.columns, fail);
  const byName = new Map(columns.map((c) => [c.name, c]));
  const key = columnList(top.key, 'key', byName, fail);
  for (const k of key) keyed(byName.get(k)!, 'key', fail);
  const aggregates = parseAggregates(top.aggregates, byName, name, fail);
  const spec = { name, key, columns, aggregates };
  if (name === PRODUCTS_SPEC.name && JSON.stringify(spec) !== JSON.stringify(PRODUCTS_SPEC))
    fail('name: products is the built-in dataset (datasets/products.yaml), whose tables the contract fixes; declare yours under another name');
  return spec;
}

/**
 * The built-in dataset (datasets/products.yaml): the contract's products and product_count
 * (DESIGN.md §5), run by its own pipeline (apps/products-*), with its own topic names.
 */
export const PRODUCTS_SPEC: DatasetSpec = {
  name: 'products',
  key: ['sku'],
  columns: [
    { name: 'sku', type: 'text', optional: false },
    { name: 'name', type: 'text', optional: false },
    { name: 'description', type: 'text', optional: false },
  ],
  aggregates: [{ name: 'product_count', groupBy: ['name'], measures: [{ name: 'no_of_products', fn: 'count' }] }],
};

export function isProducts(spec: DatasetSpec): boolean {
  return spec.name === PRODUCTS_SPEC.name;
}

type Fail = (what: string) => never;

function mapping(value: unknown, what: string, fail: Fail): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`${what} must be a mapping`);
  return value as Record<string, unknown>;
}

function onlyKeys(value: Record<string, unknown>, allowed: string[], what: string, fail: Fail): void {
  for (const k of Object.keys(value)) if (!allowed.includes(k)) fail(`unknown key "${k}" in ${what} (known: ${allowed.join(', ')})`);
  for (const k of allowed) if (k !== 'aggregates' && value[k] === undefined) fail(`${what} must have "${k}"`);
}

/**
 * A key or group-by column: required, and of a type whose text is one per value (numeric 1.5 and
 * 1.50, or one instant in two offsets, are one value in two texts: two Kafka keys, two writers).
 */
const KEY_TYPES: ColumnType[] = ['text', 'integer', 'date', 'boolean'];

function keyed(c: ColumnSpec, what: string, fail: Fail): void {
  if (c.optional) fail(`${what}: column "${c.name}" is optional; key and group_by columns must be required`);
  if (!KEY_TYPES.includes(c.type)) fail(`${what}: column "${c.name}" is ${c.type}; key and group_by columns are ${KEY_TYPES.join(', ')}`);
}

function identifier(value: unknown, what: string, fail: Fail): string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value))
    fail(`${what}: ${JSON.stringify(value)} is not a name dasy takes (lower-case letters, digits and _, a letter first, at most 40)`);
  return value;
}

function parseColumns(value: unknown, fail: Fail): ColumnSpec[] {
  const columns = mapping(value, 'columns', fail);
  const names = Object.keys(columns);
  if (!names.length) fail('columns: at least one column');
  return names.map((name) => {
    identifier(name, 'columns', fail);
    const declared = columns[name];
    const m = typeof declared === 'string' ? /^([a-z]+)(\?)?$/.exec(declared.trim()) : null;
    if (!m || !(COLUMN_TYPES as readonly string[]).includes(m[1]))
      fail(`columns.${name}: unknown type ${JSON.stringify(declared)} (known: ${COLUMN_TYPES.join(', ')}, each with an optional trailing ?)`);
    return { name, type: m[1] as ColumnType, optional: m[2] === '?' };
  });
}

/** A column or a list of columns, each declared, none twice. */
function columnList(value: unknown, what: string, byName: Map<string, ColumnSpec>, fail: Fail): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.length) fail(`${what}: a column or a non-empty list of columns`);
  const names = (list as unknown[]).map((c) => {
    if (typeof c !== 'string' || !byName.has(c)) fail(`${what}: unknown column ${JSON.stringify(c)}`);
    return c;
  });
  if (new Set(names).size !== names.length) fail(`${what}: a column is named twice`);
  return names;
}

function parseAggregates(value: unknown, byName: Map<string, ColumnSpec>, dataset: string, fail: Fail): AggregateSpec[] {
  if (value === undefined || value === null) return [];
  const aggregates = mapping(value, 'aggregates', fail);
  return Object.keys(aggregates).map((name) => {
    identifier(name, 'aggregates', fail);
    if (name === dataset || name.startsWith('dasy_') || (RESERVED_TABLES.has(name) && dataset !== PRODUCTS_SPEC.name))
      fail(`aggregates.${name}: the name is taken (the dataset's or dasy's own); choose another`);
    const where = `aggregates.${name}`;
    const body = mapping(aggregates[name], where, fail);
    onlyKeys(body, AGGREGATE_KEYS, where, fail);
    const groupBy = columnList(body.group_by, `${where}.group_by`, byName, fail);
    for (const g of groupBy) keyed(byName.get(g)!, `${where}.group_by`, fail);
    const measures = parseMeasures(body.measures, `${where}.measures`, byName, fail);
    for (const m of measures) if (groupBy.includes(m.name)) fail(`${where}.measures.${m.name}: the name is a group_by column's`);
    return { name, groupBy, measures };
  });
}

const MEASURE_PATTERN = /^(count|sum|min|max)(?:\(\s*([^()\s]*)\s*\))?$/;

function parseMeasures(value: unknown, where: string, byName: Map<string, ColumnSpec>, fail: Fail): MeasureSpec[] {
  const measures = mapping(value, where, fail);
  const names = Object.keys(measures);
  if (!names.length) fail(`${where}: at least one measure`);
  return names.map((name) => {
    identifier(name, where, fail);
    const declared = measures[name];
    const m = typeof declared === 'string' ? MEASURE_PATTERN.exec(declared.trim()) : null;
    if (!m) fail(`${where}.${name}: unknown measure ${JSON.stringify(declared)} (known: count, sum(column), min(column), max(column))`);
    const fn = m[1] as MeasureFunction;
    if (fn === 'count') {
      if (m[2] !== undefined) fail(`${where}.${name}: count takes no column (it counts rows)`);
      return { name, fn };
    }
    const column = m[2];
    if (!column) fail(`${where}.${name}: ${fn} needs a column, as ${fn}(column)`);
    const c = byName.get(column);
    if (!c) fail(`${where}.${name}: unknown column ${JSON.stringify(column)}`);
    if (fn === 'sum' && c.type !== 'integer' && c.type !== 'numeric') fail(`${where}.${name}: sum needs an integer or numeric column; ${column} is ${c.type}`);
    if (c.type === 'boolean') fail(`${where}.${name}: ${fn} of a boolean column (${column}) is not a measure dasy keeps`);
    return { name, fn, column };
  });
}
