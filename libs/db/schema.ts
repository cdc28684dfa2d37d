import type { QueryRunner } from 'typeorm';
import { quoteIdent } from './identifiers';

/**
 * Each namespace keeps its tables in its own PostgreSQL schema, named as the namespace: two
 * namespaces of one database never see (or reset) each other's rows. The schema is created by
 * the migrations; every connection of a namespace has it as its only `search_path` (withSchema).
 */

/** The migrations' connection (a TypeORM query runner: a SELECT gives its rows). */
type Sql = Pick<QueryRunner, 'query'>;

/** The namespace dasy used before namespaces had schemas: the one that inherits `public`'s tables. */
export const LEGACY_NAMESPACE = 'dasy';

/**
 * The tables dasy created in `public` before namespaces had schemas (migrations Core, Api and
 * DeadLetters, and TypeORM's bookkeeping). Tables of later migrations never lived in `public`.
 */
export const LEGACY_TABLES = [
  'dasy_migrations',
  'products',
  'product_count',
  'product_count_outbox',
  'dasy_consumer_offsets',
  'score_stats',
  'score_sessions',
  'score_buckets',
  'score_pushes',
  'ad_counters',
  'dasy_dead_letters',
];

/**
 * dasy's own tables that hold data (not bookkeeping): `make reset` empties them, and no declared
 * dataset may take their names (libs/dataset/spec.ts). Apps with their own tables add them here.
 */
export const DATA_TABLES = [
  'products',
  'product_count',
  'product_count_outbox',
  // the HTTP api's (migrations/1732300001000-Api.ts)
  'score_stats',
  'score_sessions',
  'score_buckets',
  'score_pushes',
  'ad_counters',
  'score_dead_letters', // migrations/1732300004000-ScoreDeadLetters.ts
  'score_requests', // migrations/1732300022000-ScoreRequests.ts
];

export async function createSchema(db: Sql, namespace: string): Promise<void> {
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(namespace)}`);
}

/**
 * An install from before namespaces had schemas keeps its tables in `public`. The first
 * migration run of namespace `dasy` moves them into schema `dasy` (ALTER TABLE ... SET SCHEMA:
 * rows, indexes and identity sequences move with them, nothing is copied) when that schema has
 * no migrations of its own yet. Returns the tables moved. The caller holds the migrations lock
 * and runs this in one transaction, after createSchema.
 */
export async function adoptLegacyTables(db: Sql, namespace: string): Promise<string[]> {
  if (namespace !== LEGACY_NAMESPACE) return [];
  const rows = (await db.query(
    `SELECT n.nspname AS schema, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('public', $1) AND c.relkind IN ('r', 'p') AND c.relname = ANY($2)`,
    [namespace, LEGACY_TABLES],
  )) as { schema: string; t: string }[];
  const inPublic = rows.filter((r) => r.schema === 'public').map((r) => r.t);
  const inOwn = rows.filter((r) => r.schema === namespace).map((r) => r.t);
  if (!inPublic.includes('dasy_migrations') || inOwn.includes('dasy_migrations')) return [];
  const moving = LEGACY_TABLES.filter((t) => inPublic.includes(t) && !inOwn.includes(t));
  for (const t of moving) await db.query(`ALTER TABLE public.${quoteIdent(t)} SET SCHEMA ${quoteIdent(namespace)}`);
  return moving;
}

/** After the last migration was reverted: the schema goes too, unless something else lives in it. */
export async function dropSchemaIfEmpty(db: Sql, namespace: string): Promise<boolean> {
  try {
    await db.query(`DROP SCHEMA IF EXISTS ${quoteIdent(namespace)} RESTRICT`);
    return true;
  } catch (err) {
    // dependent_objects_still_exist (TypeORM's QueryFailedError carries the driver's code)
    if ((err as { code?: string }).code === '2BP01') return false;
    throw err;
  }
}
