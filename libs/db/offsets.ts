import { Pool, PoolClient } from 'pg';
import { FencedError } from '../errors';

/**
 * Consumed offsets stored in PostgreSQL ("Storing Offsets Outside Kafka"): each batch's
 * transaction moves its partition's row from the offset the batch started at to the one after
 * its last message. The compare-and-set is the fence: a consumer that lost the partition (or
 * started from a wrong position) matches no row and its transaction rolls back.
 */

/**
 * Advance (group, topic, partition) from `from` to `to` inside the caller's transaction, first
 * thing in it: the row lock then serializes two consumers racing for the same range.
 * `logStart` is where a partition without a stored offset begins (its low watermark).
 * Throws FencedError with the stored offset when `from` is not the stored position.
 */
export async function advanceOffset(
  client: PoolClient,
  key: { group: string; topic: string; partition: number },
  from: bigint,
  to: bigint,
  logStart: () => Promise<bigint>,
): Promise<void> {
  const updated = await client.query(
    `UPDATE dasy_consumer_offsets SET next_offset = $5, updated_at = now()
      WHERE group_id = $1 AND topic = $2 AND partition = $3 AND next_offset = $4`,
    [key.group, key.topic, key.partition, from.toString(), to.toString()],
  );
  if (updated.rowCount === 1) return;
  const stored = await client.query<{ next_offset: string }>(
    `SELECT next_offset FROM dasy_consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE`,
    [key.group, key.topic, key.partition],
  );
  if (stored.rowCount) throw new StoredOffsetMismatch(key, from, BigInt(stored.rows[0].next_offset));
  const start = await logStart();
  if (from !== start) throw new StoredOffsetMismatch(key, from, start);
  const inserted = await client.query(
    `INSERT INTO dasy_consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING`,
    [key.group, key.topic, key.partition, to.toString()],
  );
  // Someone else inserted the first row concurrently: they own this range.
  if (inserted.rowCount !== 1) throw new StoredOffsetMismatch(key, from, null);
}

export class StoredOffsetMismatch extends FencedError {
  constructor(
    readonly key: { group: string; topic: string; partition: number },
    readonly batchStart: bigint,
    /** where the partition really stands (null: unknown, re-read it) */
    readonly stored: bigint | null,
  ) {
    super(
      `${key.topic}[${key.partition}] for ${key.group}: batch starts at ${batchStart} but the stored offset is ${stored ?? 'being written by another consumer'}`,
    );
  }
}

/** Stored offsets of a group for one topic: partition → next offset. */
export async function storedOffsets(db: Pool | PoolClient, group: string, topic: string): Promise<Map<number, bigint>> {
  const { rows } = await db.query<{ partition: number; next_offset: string }>(
    'SELECT partition, next_offset FROM dasy_consumer_offsets WHERE group_id = $1 AND topic = $2',
    [group, topic],
  );
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

/** Forget the consumer state of groups with this prefix (for `make reset`). */
export async function deleteStoredOffsets(db: Pool, groupPrefix: string): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM dasy_consumer_offsets WHERE starts_with(group_id, $1)`, [groupPrefix]);
  return rowCount ?? 0;
}
