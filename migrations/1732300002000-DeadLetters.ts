import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What each dead-letter topic received, kept by the consumer base in the same transaction as the
 * batch that skipped the messages: `make status`, the dashboard and the metrics show the count
 * and the reason of the last one without reading the topic.
 */
export class DeadLetters1732300002000 implements MigrationInterface {
  name = 'DeadLetters1732300002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS dasy_dead_letters (
      topic text PRIMARY KEY,
      messages bigint NOT NULL,
      last_reason text NOT NULL,
      last_at timestamptz NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS dasy_dead_letters`);
  }
}
