import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The HTTP api's tables. Score statistics are kept as (count, mean, m2, min, max) and merged batch
 * by batch (Chan's parallel merge), never recomputed from the pushes:
 * - score_stats: the current session of each product (one row per name);
 * - score_sessions: every ended session with its final statistics, who reset it and when;
 * - score_buckets: per-minute statistics of each product (all sessions), for time windows and
 *   history (a window costs the number of its minutes, not of its pushes);
 * - score_pushes: the audit trail, one row per push (DASY_AUDIT=off skips it);
 * - ad_counters: ad requests and impressions per username and per sdk_version, one row per Kafka
 *   partition so that parallel consumers never write the same row (a read sums the partitions).
 */
export class Api1732300001000 implements MigrationInterface {
  name = 'Api1732300001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS score_stats (
      name text PRIMARY KEY,
      session integer NOT NULL,
      count bigint NOT NULL CHECK (count >= 0),
      mean double precision NOT NULL,
      m2 double precision NOT NULL,
      min double precision,
      max double precision,
      first_at timestamptz,
      last_at timestamptz,
      started_at timestamptz NOT NULL,
      -- offset (in the name's partition of <ns>.scores) of the reset that started this session;
      -- null for the first: a push before it belongs to an ended session
      started_offset bigint)`);
    await q.query(`CREATE TABLE IF NOT EXISTS score_sessions (
      name text NOT NULL,
      session integer NOT NULL,
      count bigint NOT NULL CHECK (count >= 0),
      mean double precision NOT NULL,
      m2 double precision NOT NULL,
      min double precision,
      max double precision,
      first_at timestamptz,
      last_at timestamptz,
      started_at timestamptz NOT NULL,
      ended_at timestamptz NOT NULL,
      reset_by text,
      reset_partition integer NOT NULL,
      reset_offset bigint NOT NULL,
      PRIMARY KEY (name, session))`);
    await q.query(`CREATE TABLE IF NOT EXISTS score_buckets (
      name text NOT NULL,
      minute timestamptz NOT NULL,
      count bigint NOT NULL CHECK (count > 0),
      mean double precision NOT NULL,
      m2 double precision NOT NULL,
      min double precision NOT NULL,
      max double precision NOT NULL,
      first_at timestamptz NOT NULL,
      last_at timestamptz NOT NULL,
      PRIMARY KEY (name, minute))`);
    await q.query(`CREATE TABLE IF NOT EXISTS score_pushes (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL,
      score double precision NOT NULL,
      username text,
      pushed_at timestamptz NOT NULL,
      kafka_partition integer NOT NULL,
      kafka_offset bigint NOT NULL)`);
    await q.query(`CREATE TABLE IF NOT EXISTS ad_counters (
      dimension text NOT NULL CHECK (dimension IN ('username', 'sdk_version')),
      value text NOT NULL,
      kafka_partition integer NOT NULL,
      ad_requests bigint NOT NULL DEFAULT 0,
      impressions bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (dimension, value, kafka_partition))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS ad_counters`);
    await q.query(`DROP TABLE IF EXISTS score_pushes`);
    await q.query(`DROP TABLE IF EXISTS score_buckets`);
    await q.query(`DROP TABLE IF EXISTS score_sessions`);
    await q.query(`DROP TABLE IF EXISTS score_stats`);
  }
}
