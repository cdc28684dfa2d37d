import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The scores consumer's dead letters, recorded in the transaction that skips them: an api process
 * that learns a push's offset was applied by another process (NOTIFY, or the stored offsets) looks
 * here before answering, so a push that went to `<ns>.scores.dlq` is never answered 200. Rows
 * exist only for dead letters (rare); the key is the consumer group, so namespaces sharing the
 * database do not see each other's.
 */
export class ScoreDeadLetters1732300004000 implements MigrationInterface {
  name = 'ScoreDeadLetters1732300004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS score_dead_letters (
      group_id text NOT NULL,
      kafka_partition integer NOT NULL,
      kafka_offset bigint NOT NULL,
      reason text NOT NULL,
      dead_lettered_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (group_id, kafka_partition, kafka_offset))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS score_dead_letters`);
  }
}
