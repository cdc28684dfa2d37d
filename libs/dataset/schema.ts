import { Pool, PoolClient } from 'pg';
import { withTransaction } from '../db/transaction';
import { specChanges } from './evolve';
import { checkNewGroups } from './new-groups';
import { DatasetSpec, SpecError } from './spec';
import { addColumnSql, createAggregateTableSql, createGroupIndexSql, createTableSql, fillAggregateSql, groupIndexName, list } from './sql';

/** What ensureDatasetTables did. */
export type TablesOutcome = { created: true } | { created: false; addedColumns: string[]; addedAggregates: string[] };

/**
 * A dataset's tables as its spec says (idempotent): created when the dataset is new; for a spec
 * changed since it was applied, its new optional columns and new aggregates added (an aggregate
 * filled from the table), anything else refused (evolve.ts). One transaction under a lock per
 * dataset: two processes starting at once make them once. The spec applied is kept in
 * dasy_datasets, which the api and status read.
 */
export async function ensureDatasetTables(pool: Pool, spec: DatasetSpec, source: string): Promise<TablesOutcome> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('dasy_dataset'), hashtext($1))`, [spec.name]);
    const stored = await storedSpec(client, spec.name);
    const outcome = stored ? await evolve(client, stored, spec, source) : await create(client, spec, source);
    await client.query(
      `INSERT INTO dasy_datasets (name, spec, source) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, source = excluded.source, updated_at = now()
       WHERE dasy_datasets.spec IS DISTINCT FROM excluded.spec OR dasy_datasets.source IS DISTINCT FROM excluded.source`,
      [spec.name, JSON.stringify(spec), source],
    );
    await client.query('COMMIT');
    return outcome;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The spec applied to the namespace under this name, or undefined. */
export async function storedSpec(db: Pool | PoolClient, name: string): Promise<DatasetSpec | undefined> {
  const { rows } = await db.query<{ spec: DatasetSpec }>('SELECT spec FROM dasy_datasets WHERE name = $1', [name]);
  return rows[0]?.spec;
}

/** Every dataset applied to the namespace, by name. */
export async function storedSpecs(db: Pool | PoolClient): Promise<DatasetSpec[]> {
  const { rows } = await db.query<{ spec: DatasetSpec }>('SELECT spec FROM dasy_datasets ORDER BY name');
  return rows.map((r) => r.spec);
}

async function create(client: PoolClient, spec: DatasetSpec, source: string): Promise<TablesOutcome> {
  await refuseTaken(client, [spec.name, ...spec.aggregates.flatMap((a) => [a.name, groupIndexName(a)])], source);
  await client.query(createTableSql(spec));
  for (const a of spec.aggregates) {
    await client.query(createGroupIndexSql(spec, a));
    await client.query(createAggregateTableSql(spec, a));
  }
  return { created: true };
}

async function evolve(client: PoolClient, stored: DatasetSpec, spec: DatasetSpec, source: string): Promise<TablesOutcome> {
  const changes = specChanges(stored, spec, source);
  await refuseTaken(
    client,
    changes.aggregates.flatMap((a) => [a.name, groupIndexName(a)]),
    source,
  );
  for (const a of changes.aggregates) await checkNewGroups(client, stored, spec, a, source);
  for (const c of changes.columns) await client.query(addColumnSql(spec, c));
  for (const a of changes.aggregates) {
    await client.query(createGroupIndexSql(spec, a));
    await client.query(createAggregateTableSql(spec, a));
    await client.query(fillAggregateSql(spec, a));
  }
  return { created: false, addedColumns: changes.columns.map((c) => c.name), addedAggregates: changes.aggregates.map((a) => a.name) };
}

/**
 * Datasets dropped whole (`make reset`, and the migrations' down): their tables, their marks and
 * their specs, in one transaction.
 */
export async function dropDatasets(pool: Pool, specs: DatasetSpec[]): Promise<void> {
  const tables = specs.flatMap((d) => [d.name, ...d.aggregates.map((a) => a.name)]);
  const names = specs.map((d) => d.name);
  await withTransaction(pool, async (client) => {
    await client.query(`DROP TABLE IF EXISTS ${list(tables)}`);
    await client.query('DELETE FROM dasy_dataset_outbox WHERE dataset = ANY($1)', [names]);
    await client.query('DELETE FROM dasy_datasets WHERE name = ANY($1)', [names]);
  });
}

/** Tables and indexes the dataset would make that exist already (another dataset's, anyone's): refused in one line. */
async function refuseTaken(client: PoolClient, tables: string[], source: string): Promise<void> {
  if (!tables.length) return;
  const { rows } = await client.query<{ t: string }>(
    `SELECT relname AS t FROM pg_class WHERE relname = ANY($1) AND relnamespace = current_schema()::regnamespace ORDER BY relname LIMIT 1`,
    [tables],
  );
  if (rows.length)
    throw new SpecError(`${source}: ${rows[0].t} exists in the namespace (a table or an index) and is not this dataset's; choose other names, or drop it`);
}
