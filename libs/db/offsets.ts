import { escapeLiteral, Pool, PoolClient, QueryResult } from 'pg';
import { FencedError } from '../errors';

/**
 * Consumed offsets stored in PostgreSQL ("Storing Offsets Outside Kafka"): each batch's
 * transaction moves its partition's row from the offset the batch started at to the one after
 * its last message. The compare-and-set is the fence: a consumer that lost the partition (or
 * started from a wrong position) matches no row and its transaction rolls back. Every statement
 * on dasy_consumer_offsets is here, one function each.
 */

export interface PartitionKey {
  group: string;
  topic: string;
  partition: number;
}

/** A batch's range of one partition: from its first offset to the one after its last message. */
export interface OffsetRange {
  partition: number;
  from: bigint;
  to: bigint;
}

/**
 * Advance (group, topic, partition) from `from` to `to` inside the caller's transaction, first
 * thing in it: the row lock then serializes two consumers racing for the same range.
 * `logStart` is where a partition without a stored offset begins (its low watermark).
 * Throws StoredOffsetMismatch with the stored offset when `from` is not the stored position.
 */
export async function advanceOffset(client: PoolClient, key: PartitionKey, from: bigint, to: bigint, logStart: () => Promise<bigint>): Promise<void> {
  const updated = await client.query(
    `UPDATE dasy_consumer_offsets SET next_offset = $5, updated_at = now()
      WHERE group_id = $1 AND topic = $2 AND partition = $3 AND next_offset = $4`,
    [key.group, key.topic, key.partition, from.toString(), to.toString()],
  );
  if (updated.rowCount === 1) return;
  await firstOffsetOrFence(client, key, from, to, logStart);
}

/**
 * The compare-and-set of advanceOffset as one literal statement, to be sent with BEGIN in one
 * round trip (TransactionOptions.withBegin). `advanced(result)` tells whether it matched; when it
 * did not, advanceOffset decides (first offset of a partition, or fenced).
 */
export function advanceOffsetStatement(key: PartitionKey, range: OffsetRange): string {
  return (
    `UPDATE dasy_consumer_offsets SET next_offset = ${range.to.toString()}, updated_at = now() ` +
    `WHERE group_id = ${escapeLiteral(key.group)} AND topic = ${escapeLiteral(key.topic)} ` +
    `AND partition = ${Number(key.partition)} AND next_offset = ${range.from.toString()}`
  );
}

/**
 * Several partitions' compare-and-set in one literal statement (batches of one fetch committed
 * together). All or nothing: the caller rolls back unless every range matched (`advancedAll`).
 */
export function advanceOffsetsStatement(group: string, topic: string, ranges: OffsetRange[]): string {
  const rows = ranges.map((r) => `(${Number(r.partition)}, ${r.from.toString()}::bigint, ${r.to.toString()}::bigint)`);
  return (
    `UPDATE dasy_consumer_offsets o SET next_offset = v.next, updated_at = now() FROM (VALUES ${rows.join(', ')}) AS v(partition, first, next) ` +
    `WHERE o.group_id = ${escapeLiteral(group)} AND o.topic = ${escapeLiteral(topic)} ` +
    `AND o.partition = v.partition AND o.next_offset = v.first`
  );
}

/** How many rows the last statement sent with BEGIN moved. */
export function rowsAdvanced(begun: QueryResult[]): number {
  return begun[begun.length - 1]?.rowCount ?? 0;
}

/** No row matched `from`: either the partition's first batch ever (insert its row) or fenced. */
async function firstOffsetOrFence(client: PoolClient, key: PartitionKey, from: bigint, to: bigint, logStart: () => Promise<bigint>): Promise<void> {
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
    readonly key: PartitionKey,
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

/**
 * Set a group's stored offsets for a topic to exactly these positions (for `make rebuild`: each
 * partition's log start), in the caller's transaction; partitions not named lose theirs. A
 * consumer still running then matches no row in its compare-and-set: the fence.
 */
export async function setStoredOffsets(client: PoolClient, group: string, topic: string, positions: { partition: number; offset: bigint }[]): Promise<void> {
  const partitions = positions.map((s) => s.partition);
  await client.query('DELETE FROM dasy_consumer_offsets WHERE group_id = $1 AND topic = $2 AND NOT partition = ANY($3::integer[])', [group, topic, partitions]);
  await client.query(
    `INSERT INTO dasy_consumer_offsets (group_id, topic, partition, next_offset)
     SELECT $1, $2, p, o FROM unnest($3::integer[], $4::bigint[]) AS s(p, o)
     ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = excluded.next_offset, updated_at = now()`,
    [group, topic, partitions, positions.map((s) => s.offset.toString())],
  );
}

/** Forget the consumer state of groups with this prefix (for `make reset`). */
export async function deleteStoredOffsets(db: Pool, groupPrefix: string): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM dasy_consumer_offsets WHERE starts_with(group_id, $1)`, [groupPrefix]);
  return rowCount ?? 0;
}

/** When a group last committed a batch on a topic (null: never). */
export async function lastCommitted(db: Pool | PoolClient, group: string, topic: string): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date | null }>('SELECT max(updated_at) AS at FROM dasy_consumer_offsets WHERE group_id = $1 AND topic = $2', [
    group,
    topic,
  ]);
  return rows[0]?.at ?? null;
}
