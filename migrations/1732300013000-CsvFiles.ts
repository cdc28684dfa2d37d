import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What each products file brought, per namespace and file name, summed over its ingests: the
 * products producer adds its counts when a file is done, and the metrics show the rejected
 * records per file without reading the rejects topic.
 */
export class CsvFiles1732300013000 implements MigrationInterface {
  name = 'CsvFiles1732300013000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS dasy_csv_files (
      namespace text NOT NULL,
      file text NOT NULL,
      records bigint NOT NULL,
      rejected bigint NOT NULL,
      last_at timestamptz NOT NULL,
      PRIMARY KEY (namespace, file))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS dasy_csv_files`);
  }
}
