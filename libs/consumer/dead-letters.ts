import { PoolClient } from 'pg';
import { Kafka, KafkaMessage, Producer } from '../kafka/port';
import { Logger } from '../log';
import { ConsumerEvents } from './events';
import { Poison } from './types';

/** Headers a dead letter carries: why, and where it came from. */
export const DEAD_LETTER_HEADERS = {
  reason: 'dasy-reason',
  topic: 'dasy-source-topic',
  partition: 'dasy-source-partition',
  offset: 'dasy-source-offset',
} as const;

/**
 * The dead letters of one batch, kept across its attempts (libs/consumer/runner.ts): which of its
 * messages are in `<topic>.dlq` already, so a retry neither sends them again nor applies them.
 */
export class BatchLetters {
  private readonly sent = new Map<bigint, Poison>();

  has(message: KafkaMessage): boolean {
    return this.sent.size > 0 && this.sent.has(message.offset); // asked of every message of every batch
  }

  add(poison: Poison[]): void {
    for (const p of poison) this.sent.set(p.message.offset, p);
  }

  /** Every one sent, in offset order. */
  all(): Poison[] {
    return [...this.sent.values()].sort((a, b) => (a.message.offset < b.message.offset ? -1 : 1));
  }
}

/**
 * Messages that can never be applied go to `<topic>.dlq` with the reason, acknowledged before the
 * transaction that skips them begins (no PostgreSQL transaction stays open across the send): a
 * crash or a failed commit in between sends them again, so a dead letter can be duplicated, never
 * lost, and a message is skipped only once it is in the dead-letter topic.
 */
export class DeadLetters {
  private producer: Producer | undefined;

  constructor(private readonly deps: { kafka: Kafka; topic: string; dlq: string; log: Logger; events: ConsumerEvents }) {}

  /** Send those of `poison` the batch has not sent yet, outside any transaction; `letters` then holds them. */
  async send(letters: BatchLetters, poison: Poison[], partition: number): Promise<void> {
    const unsent = poison.filter((p) => !letters.has(p.message));
    if (!unsent.length) return;
    const { topic, dlq } = this.deps;
    if (!this.producer) {
      this.producer = this.deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await this.producer.connect();
    }
    await this.producer.send({
      topic: dlq,
      acks: -1,
      messages: unsent.map(({ message, reason }) => ({
        key: message.key,
        value: message.value,
        headers: {
          [DEAD_LETTER_HEADERS.reason]: reason,
          [DEAD_LETTER_HEADERS.topic]: topic,
          [DEAD_LETTER_HEADERS.partition]: String(partition),
          [DEAD_LETTER_HEADERS.offset]: message.offset.toString(),
        },
      })),
    });
    letters.add(unsent);
    const reasons = [...new Set(unsent.map((p) => p.reason))];
    this.deps.log.warn(`dead-lettered ${unsent.length} message(s) to ${dlq}`, { partition, reasons: reasons.slice(0, 5) });
    this.deps.events.emit('dead-lettered', dlq, unsent.length, reasons[reasons.length - 1]);
  }

  /** Count a batch's dead letters (sent) in its transaction (`client`): the count commits with the skip. */
  async record(client: PoolClient, poison: Poison[]): Promise<void> {
    if (poison.length) await recordDeadLetters(client, this.deps.dlq, poison.length, poison[poison.length - 1].reason);
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }
}

/** dasy_dead_letters: how many went to each dead-letter topic, and why the last one did. */
async function recordDeadLetters(client: PoolClient, dlq: string, count: number, reason: string): Promise<void> {
  await client.query(
    `INSERT INTO dasy_dead_letters (topic, messages, last_reason, last_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (topic) DO UPDATE SET messages = dasy_dead_letters.messages + excluded.messages, last_reason = excluded.last_reason, last_at = excluded.last_at`,
    [dlq, count, reason],
  );
}

/** Every dead-letter topic's count and last reason (status, dashboard, metrics). */
export async function deadLetterSummary(db: { query: PoolClient['query'] }): Promise<Map<string, { messages: number; lastReason: string; lastAt: Date }>> {
  const { rows } = await db.query<{ topic: string; messages: string; last_reason: string; last_at: Date }>(
    `SELECT topic, messages, last_reason, last_at FROM dasy_dead_letters`,
  );
  return new Map(rows.map((r) => [r.topic, { messages: Number(r.messages), lastReason: r.last_reason, lastAt: r.last_at }]));
}
