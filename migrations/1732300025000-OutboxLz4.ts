import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outboxes' arrays of names and group keys compressed with lz4 instead of pglz. A products
 * batch writes one array of about 11,000 names (some 200 KB), which PostgreSQL compresses on the
 * products consumer's commit path and the relay decompresses: rewriting a 500,000-row ingest's 46
 * arrays took 0.36 s of a backend's CPU with pglz, 0.14 s with lz4, for 10% more bytes. A
 * PostgreSQL built without lz4 keeps pglz (feature_not_supported): only the speed differs.
 * Rows already stored keep their compression.
 */
export class OutboxLz41732300025000 implements MigrationInterface {
  name = 'OutboxLz41732300025000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(compression('lz4'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(compression('pglz'));
  }
}

function compression(method: 'lz4' | 'pglz'): string {
  return `DO $$ BEGIN
    ALTER TABLE product_count_outbox ALTER COLUMN names SET COMPRESSION ${method};
    ALTER TABLE dasy_dataset_outbox ALTER COLUMN keys SET COMPRESSION ${method};
  EXCEPTION WHEN feature_not_supported THEN NULL;
  END $$`;
}
