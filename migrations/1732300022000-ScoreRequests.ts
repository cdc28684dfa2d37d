import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The score writes' requests (apps/api/score-requests.ts): a row per push or reset, keyed by its
 * Idempotency-Key (`k:<key>`) or, without one, by a request id the api drew (`r:<id>`). The
 * scores consumer applies a message only if it can mark its row applied, in the transaction that
 * applies it; the api marks the row abandoned when it answers 503. The primary key decides which
 * comes first, so a request answered 503 is never applied afterwards, and a retry with the same key
 * is applied once. Rows are purged after `expires_at`.
 */
export class ScoreRequests1732300022000 implements MigrationInterface {
  name = 'ScoreRequests1732300022000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS score_requests (
      key text PRIMARY KEY,
      state text NOT NULL CHECK (state IN ('in_flight', 'applied', 'abandoned')),
      attempt integer NOT NULL,
      fingerprint text,
      deadline timestamptz,
      sent_at double precision,
      kafka_partition integer,
      kafka_offset bigint,
      answer text,
      expires_at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX IF NOT EXISTS score_requests_expires_idx ON score_requests (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS score_requests`);
  }
}
