import { spawn } from 'child_process';
import * as path from 'path';
import { Pool } from 'pg';

/**
 * The plain-PostgreSQL floor (no Kafka, no Node): what the same result costs when PostgreSQL does
 * it alone, on the same tables (created by the project's migrations in a scratch database).
 * `psql \copy` into a staging table, one `INSERT ... SELECT DISTINCT ON (sku) ... ON CONFLICT DO
 * UPDATE` (the later record of a sku wins: ordered by file position), and one `INSERT INTO
 * product_count SELECT name, count(*) ... GROUP BY name`. Timed as the psql process, with each
 * step's own time from `\timing`.
 */
export interface FloorRun {
  seconds: number;
  copySeconds: number;
  upsertSeconds: number;
  countSeconds: number;
  products: number;
  names: number;
}

export function floorScript(file: string): string {
  const quoted = "'" + path.resolve(file).replace(/'/g, "''") + "'";
  return [
    '\\set ON_ERROR_STOP 1',
    'CREATE TEMP TABLE staging (ord bigint GENERATED ALWAYS AS IDENTITY, name text, sku text, description text);',
    '\\timing on',
    `\\copy staging (name, sku, description) FROM ${quoted} WITH (FORMAT csv, HEADER true)`,
    `INSERT INTO products AS p (sku, name, description)
       SELECT DISTINCT ON (sku) sku, name, description FROM staging ORDER BY sku, ord DESC
       ON CONFLICT (sku) DO UPDATE SET name = excluded.name, description = excluded.description;`,
    `INSERT INTO product_count AS pc (name, no_of_products)
       SELECT name, count(*) FROM products GROUP BY name
       ON CONFLICT (name) DO UPDATE SET no_of_products = excluded.no_of_products;`,
    '',
  ].join('\n');
}

export async function runFloor(databaseUrl: string, file: string): Promise<FloorRun> {
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  try {
    await pool.query('TRUNCATE products, product_count, product_count_outbox');
    const started = process.hrtime.bigint();
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('psql', ['-X', '-q', '-d', databaseUrl, '-f', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', (err) => reject(new Error(`cannot run psql (${err.message}); the floor needs the PostgreSQL client`)));
      child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`psql failed (${code}): ${stderr.trim().slice(0, 500)}`))));
      child.stdin.end(floorScript(file));
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const times = [...out.matchAll(/Time: ([\d.]+) ms/g)].map((m) => Number(m[1]) / 1000);
    const { rows } = await pool.query<{ p: string; n: string }>('SELECT (SELECT count(*) FROM products) AS p, (SELECT count(*) FROM product_count) AS n');
    return {
      seconds,
      copySeconds: times[0] ?? NaN,
      upsertSeconds: times[1] ?? NaN,
      countSeconds: times[2] ?? NaN,
      products: Number(rows[0].p),
      names: Number(rows[0].n),
    };
  } finally {
    await pool.end();
  }
}
