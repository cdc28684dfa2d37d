import * as fs from 'fs';
import { parse } from 'csv-parse/sync';
import { Pool } from 'pg';

/**
 * What a clean run must leave, computed without dasy: the file parsed by csv-parse, the last
 * record of each sku wins, product_count is the number of products per name. And the
 * comparison of that with the tables.
 */
export interface Expected {
  products: Map<string, { name: string; description: string }>;
  counts: Map<string, number>;
}

export function expectedFromRecords(records: Iterable<{ name: string; sku: string; description: string }>): Expected {
  const products = new Map<string, { name: string; description: string }>();
  for (const r of records) {
    const sku = r.sku.trim();
    const name = r.name.trim();
    if (!sku || !name) continue;
    products.set(sku, { name, description: r.description });
  }
  const counts = new Map<string, number>();
  for (const p of products.values()) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
  return { products, counts };
}

export function readRecords(file: string): { name: string; sku: string; description: string }[] {
  return parse(fs.readFileSync(file), { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), bom: true, skip_empty_lines: true }) as {
    name: string;
    sku: string;
    description: string;
  }[];
}

export interface Comparison {
  exact: boolean;
  products: number;
  names: number;
  /** first differences, for the report */
  problems: string[];
}

export async function compareTables(pool: Pool, expected: Expected): Promise<Comparison> {
  const problems: string[] = [];
  let differences = 0;
  const note = (s: string) => {
    differences++;
    if (problems.length < 5) problems.push(s);
  };
  const products = (await pool.query<{ sku: string; name: string; description: string }>('SELECT sku, name, description FROM products')).rows;
  const seen = new Set<string>();
  for (const p of products) {
    seen.add(p.sku);
    const e = expected.products.get(p.sku);
    if (!e) note(`products: unexpected sku ${JSON.stringify(p.sku)}`);
    else if (e.name !== p.name || e.description !== p.description)
      note(`products: sku ${JSON.stringify(p.sku)} holds ${JSON.stringify([p.name, p.description])}, expected ${JSON.stringify([e.name, e.description])}`);
  }
  for (const sku of expected.products.keys()) if (!seen.has(sku)) note(`products: missing sku ${JSON.stringify(sku)}`);
  const counts = (await pool.query<{ name: string; no_of_products: number }>('SELECT name, no_of_products FROM product_count')).rows;
  const seenNames = new Set<string>();
  for (const c of counts) {
    seenNames.add(c.name);
    const e = expected.counts.get(c.name);
    if (e === undefined) note(`product_count: unexpected name ${JSON.stringify(c.name)} = ${c.no_of_products}`);
    else if (e !== c.no_of_products) note(`product_count: ${JSON.stringify(c.name)} = ${c.no_of_products}, expected ${e}`);
  }
  for (const name of expected.counts.keys()) if (!seenNames.has(name)) note(`product_count: missing name ${JSON.stringify(name)}`);
  if (differences > problems.length) problems.push(`... ${differences - problems.length} more`);
  return { exact: differences === 0, products: products.length, names: counts.length, problems };
}

/** CSV text of one record, quoting what needs it (RFC 4180). */
export function csvRecord(fields: string[]): string {
  return fields.map((v) => (/[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v)).join(',');
}

export interface BadFile {
  file: string;
  good: number;
  /** physical line (1-based, header is line 1) of every malformed record, and its kind */
  bad: Map<number, string>;
}

/**
 * A products file with malformed records mixed in at random places: wrong field counts, empty
 * skus and names, NUL characters, quotes inside unquoted fields, records over 1 MiB. The good
 * records are those of `records`, in order, so the expectation is theirs.
 */
export function writeBadFile(file: string, records: { name: string; sku: string; description: string }[], badCount: number, seed: number): BadFile {
  let state = seed >>> 0 || 1;
  const rnd = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const kinds: [string, (i: number) => string][] = [
    ['wrong field count', (i) => `Bad Name,bad-sku-${i}`],
    ['empty sku', (i) => `Bad Name ${i},  ,description ${i}`],
    ['empty name', (i) => ` ,bad-sku-${i},description ${i}`],
    ['NUL character', (i) => `Bad\u0000Name,bad-sku-${i},description ${i}`],
    ['quote in an unquoted field', (i) => `Bad "Quoted" Name,bad-sku-${i},description ${i}`],
    ['too many fields', (i) => `Bad Name,bad-sku-${i},description,extra`],
  ];
  // which good records get a malformed one before them
  const before = new Map<number, number>();
  for (let i = 0; i < badCount; i++) {
    const at = Math.floor(rnd() * (records.length + 1));
    before.set(at, (before.get(at) ?? 0) + 1);
  }
  const bad = new Map<number, string>();
  const out: string[] = ['name,sku,description'];
  let line = 2;
  let n = 0;
  const emitBad = () => {
    // two of them are over the 1 MiB limit (quoted, with newlines: a multi-line record)
    const big = n === 1 || n === Math.floor(badCount / 2);
    const [kind, make] = big
      ? ['larger than 1 MiB', (i: number) => `Big Name,big-sku-${i},"${'x'.repeat(600_000)}\n${'y'.repeat(600_000)}"`]
      : kinds[n % kinds.length];
    const text = make(n);
    bad.set(line, kind);
    out.push(text);
    line += text.split('\n').length;
    n++;
  };
  for (let i = 0; i <= records.length; i++) {
    for (let k = before.get(i) ?? 0; k > 0; k--) emitBad();
    if (i === records.length) break;
    const r = records[i];
    const text = csvRecord([r.name, r.sku, r.description]);
    out.push(text);
    line += text.split('\n').length;
  }
  fs.writeFileSync(file, out.join('\n') + '\n');
  return { file, good: records.length, bad };
}

/** The expectation once these skus are deleted: the products without them, the counts recomputed. */
export function expectedWithout(expected: Expected, skus: Iterable<string>): Expected {
  const products = new Map(expected.products);
  for (const sku of skus) products.delete(sku);
  const counts = new Map<string, number>();
  for (const p of products.values()) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
  return { products, counts };
}
