import * as fs from 'fs';
import { parse } from 'csv-parse/sync';
import { Pool } from 'pg';

/**
 * What the tables must hold after ingests, deletes and syncs, computed without dasy: the files
 * parsed by csv-parse, the rules of DESIGN.md §5 applied by hand. `products` and `product_count`
 * are compared whole, sorted here (not by the database's collation).
 */
export class CatalogueModel {
  readonly products = new Map<string, { name: string; description: string }>();

  /** An ingest: every valid record upserts its sku, the later one winning. */
  ingest(file: string): void {
    const { header, records } = read(file);
    const sku = header.indexOf('sku');
    const name = header.indexOf('name');
    const description = header.indexOf('description');
    for (const r of records) {
      if (r.length !== header.length || r.some((f) => f.includes('\u0000')) || !r[sku].trim() || !r[name].trim()) continue;
      this.products.set(r[sku].trim(), { name: r[name].trim(), description: r[description] });
    }
  }

  /** An ingest with SYNC=1; returns how many skus it deletes. */
  sync(file: string): number {
    this.ingest(file);
    const { header, records } = read(file);
    const sku = header.indexOf('sku');
    // a record names its sku when its fields line up with the header and the sku has no NUL
    const named = new Set(records.filter((r) => r.length === header.length && !r[sku].includes('\u0000') && r[sku].trim()).map((r) => r[sku].trim()));
    const absent = [...this.products.keys()].filter((s) => !named.has(s));
    for (const s of absent) this.products.delete(s);
    return absent.length;
  }

  /** `make delete`: returns how many of its skus were there. */
  delete(file: string): number {
    const { header, records } = read(file);
    const sku = header.indexOf('sku');
    const skus = new Set(records.filter((r) => r.length === header.length && !r.some((f) => f.includes('\u0000')) && r[sku].trim()).map((r) => r[sku].trim()));
    let present = 0;
    for (const s of skus) if (this.products.delete(s)) present++;
    return present;
  }

  productRows(): { sku: string; name: string; description: string }[] {
    return [...this.products].map(([sku, p]) => ({ sku, ...p })).sort((a, b) => cmp(a.sku, b.sku));
  }

  countRows(): { name: string; no_of_products: number }[] {
    const counts = new Map<string, number>();
    for (const p of this.products.values()) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
    return [...counts].map(([name, no_of_products]) => ({ name, no_of_products })).sort((a, b) => cmp(a.name, b.name));
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function read(file: string): { header: string[]; records: string[][] } {
  const [header, ...records] = parse(fs.readFileSync(file), { bom: true, skip_empty_lines: true, relax_column_count: true }) as string[][];
  return { header: header.map((h) => h.trim().toLowerCase()), records };
}

/** Both tables as rows, sorted as CatalogueModel sorts them. */
export async function tables(pool: Pool) {
  const products = (await pool.query<{ sku: string; name: string; description: string }>('SELECT sku, name, description FROM products')).rows;
  const counts = (await pool.query<{ name: string; no_of_products: number }>('SELECT name, no_of_products FROM product_count')).rows;
  return { products: products.sort((a, b) => cmp(a.sku, b.sku)), counts: counts.sort((a, b) => cmp(a.name, b.name)) };
}

export function expectedTables(model: CatalogueModel) {
  return { products: model.productRows(), counts: model.countRows() };
}
