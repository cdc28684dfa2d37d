import { spawn } from 'child_process';
import * as path from 'path';
import { Pool } from 'pg';
import { withSchema } from '../libs/db';
import { endedChildrenCpu, parseStat } from './proc';

/**
 * The plain-PostgreSQL floor (no Kafka, no Node): the cheapest way to reach the same end state, so
 * it carries none of dasy's own design choices. In a scratch database holding only the two tables
 * and their primary keys (`strict`; no index on products(name), no outbox): `psql \copy` into an
 * UNLOGGED staging table with a line number, one `INSERT ... SELECT DISTINCT ON (sku) ... ORDER BY
 * sku, line DESC ON CONFLICT (sku) DO UPDATE` (the later record of a sku wins), and one
 * `INSERT INTO product_count SELECT name, count(*) FROM products GROUP BY name`. Timed as the psql
 * process, with each step's own time from `\timing`; its CPU is psql's and its backend's (the
 * backend reads its own /proc/self/stat before and after the steps: PostgreSQL runs on this machine,
 * as the processes' sampling of the bench needs anyway).
 *
 * `same-schema` runs the same steps on dasy's own tables (its migrations, with the index on
 * products(name) that only the pipeline needs): a second, labelled reference, never the ratio's.
 */
export type FloorKind = 'strict' | 'same-schema';

/** The same-schema floor's schema: its migrations put dasy's tables there, as in a namespace. */
export const SAME_SCHEMA_FLOOR_SCHEMA = 'floor';

export interface FloorRun {
  kind: FloorKind;
  seconds: number;
  copySeconds: number;
  upsertSeconds: number;
  countSeconds: number;
  /** CPU seconds of psql and its PostgreSQL backend over the steps */
  cpuSeconds: number;
  products: number;
  names: number;
}

/** The strict floor's tables: the contract's columns and primary keys, nothing else. */
export const STRICT_SCHEMA = `
DROP TABLE IF EXISTS products, product_count, staging;
CREATE TABLE products (sku text PRIMARY KEY, name text NOT NULL, description text NOT NULL);
CREATE TABLE product_count (name text PRIMARY KEY, no_of_products integer NOT NULL);`;

/** The backend's own CPU so far, as a line `backend-stat <its /proc/self/stat>` (a superuser's read). */
const BACKEND_STAT = "SELECT 'backend-stat ' || pg_read_file('/proc/self/stat');";

export function floorScript(file: string): string {
  const quoted = "'" + path.resolve(file).replace(/'/g, "''") + "'";
  return [
    '\\set ON_ERROR_STOP 1',
    '\\pset tuples_only on',
    '\\pset format unaligned',
    BACKEND_STAT,
    'DROP TABLE IF EXISTS staging;',
    'CREATE UNLOGGED TABLE staging (line bigint GENERATED ALWAYS AS IDENTITY, name text, sku text, description text);',
    '\\timing on',
    `\\copy staging (name, sku, description) FROM ${quoted} WITH (FORMAT csv, HEADER true)`,
    `INSERT INTO products AS p (sku, name, description)
       SELECT DISTINCT ON (sku) sku, name, description FROM staging ORDER BY sku, line DESC
       ON CONFLICT (sku) DO UPDATE SET name = excluded.name, description = excluded.description;`,
    `INSERT INTO product_count AS pc (name, no_of_products)
       SELECT name, count(*) FROM products GROUP BY name
       ON CONFLICT (name) DO UPDATE SET no_of_products = excluded.no_of_products;`,
    '\\timing off',
    'DROP TABLE staging;',
    BACKEND_STAT,
    '',
  ].join('\n');
}

/** psql's CPU (ended between `childrenBefore` and now) and its backend's between its two stat lines. */
function floorCpu(out: string, childrenBefore: number): number {
  const stats = [...out.matchAll(/^backend-stat (.*)$/gm)].map((m) => parseStat(m[1]).cpu);
  const backend = stats.length === 2 ? stats[1] - stats[0] : NaN;
  return Math.round((endedChildrenCpu() - childrenBefore + backend) * 100) / 100;
}

/** One floor run on fresh (emptied) tables. */
export async function runFloor(databaseUrl: string, file: string, kind: FloorKind): Promise<FloorRun> {
  const schema = kind === 'same-schema' ? SAME_SCHEMA_FLOOR_SCHEMA : undefined; // strict: its own tables, in public
  const pool = new Pool({ connectionString: schema ? withSchema(databaseUrl, schema) : databaseUrl, max: 1 });
  try {
    if (kind === 'strict') await pool.query(STRICT_SCHEMA);
    else await pool.query('TRUNCATE products, product_count, product_count_outbox');
    await pool.query('CHECKPOINT'); // every run starts from the same point, not with another's dirty pages
    const childrenBefore = endedChildrenCpu();
    const started = process.hrtime.bigint();
    const out = await psql(databaseUrl, floorScript(file), schema);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuSeconds = floorCpu(out, childrenBefore);
    const times = [...out.matchAll(/Time: ([\d.]+) ms/g)].map((m) => Number(m[1]) / 1000);
    const { rows } = await pool.query<{ p: string; n: string }>('SELECT (SELECT count(*) FROM products) AS p, (SELECT count(*) FROM product_count) AS n');
    return {
      kind,
      seconds,
      copySeconds: times[0] ?? NaN,
      upsertSeconds: times[1] ?? NaN,
      countSeconds: times[2] ?? NaN,
      cpuSeconds,
      products: Number(rows[0].p),
      names: Number(rows[0].n),
    };
  } finally {
    await pool.end();
  }
}

function psql(databaseUrl: string, script: string, schema: string | undefined): Promise<string> {
  // PGOPTIONS: libpq reads no '+' for a space in a URL's options, so the schema goes this way
  const env = schema ? { ...process.env, PGOPTIONS: `-c search_path=${schema}` } : process.env;
  return new Promise<string>((resolve, reject) => {
    const child = spawn('psql', ['-X', '-q', '-d', databaseUrl, '-f', '-'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => reject(new Error(`cannot run psql (${err.message}); the floor needs the PostgreSQL client`)));
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`psql failed (${code}): ${stderr.trim().slice(0, 500)}`))));
    child.stdin.end(script);
  });
}
