import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What every declared dataset shares (libs/dataset): the registry of the specs applied to the
 * namespace (a changed spec is compared with it: libs/dataset/evolve.ts), and one outbox of group
 * keys to recount, per dataset and aggregate, append-only and deleted by id as products' is
 * (DESIGN.md §1: the outbox race). A dataset's own tables are made from its spec at run time.
 */
export class Datasets1732300024000 implements MigrationInterface {
  name = 'Datasets1732300024000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS dasy_datasets (
      name text PRIMARY KEY,
      spec jsonb NOT NULL,
      source text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE TABLE IF NOT EXISTS dasy_dataset_outbox (
      dataset text NOT NULL,
      id bigint GENERATED ALWAYS AS IDENTITY,
      aggregate text NOT NULL,
      keys text[] NOT NULL,
      PRIMARY KEY (dataset, id))`);
  }

  async down(q: QueryRunner): Promise<void> {
    // the declared datasets' own tables go with the registry that names them
    const specs = (await q.query(`SELECT spec FROM dasy_datasets`).catch(() => [])) as { spec: { name: string; aggregates: { name: string }[] } }[];
    const tables = specs.flatMap(({ spec }) => [spec.name, ...spec.aggregates.map((a) => a.name)]);
    if (tables.length) await q.query(`DROP TABLE IF EXISTS ${tables.map((t) => '"' + t.replace(/"/g, '""') + '"').join(', ')}`);
    await q.query(`DROP TABLE IF EXISTS dasy_dataset_outbox`);
    await q.query(`DROP TABLE IF EXISTS dasy_datasets`);
  }
}
