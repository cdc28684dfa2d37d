import { Kafka, Producer } from 'kafkajs';
import { PoolClient } from 'pg';
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
 * Messages that can never be applied go to `<topic>.dlq` with the reason, acknowledged before the
 * commit that skips them: a crash in between can duplicate a dead letter, never lose one.
 */
export class DeadLetters {
  private producer: Producer | undefined;

  constructor(private readonly deps: { kafka: Kafka; topic: string; dlq: string; log: Logger; events: ConsumerEvents }) {}

  /** Send them, then count them in the batch's transaction (`client`): the count commits with the skip. */
  async send(client: PoolClient, poison: Poison[], partition: number): Promise<void> {
    if (!poison.length) return;
    const { topic, dlq } = this.deps;
    if (!this.producer) {
      this.producer = this.deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await this.producer.connect();
    }
    await this.producer.send({
      topic: dlq,
      acks: -1,
      messages: poison.map(({ message, reason }) => ({
        key: message.key,
        value: message.value,
        headers: {
          [DEAD_LETTER_HEADERS.reason]: reason,
          [DEAD_LETTER_HEADERS.topic]: topic,
          [DEAD_LETTER_HEADERS.partition]: String(partition),
          [DEAD_LETTER_HEADERS.offset]: message.offset,
        },
      })),
    });
    const reasons = [...new Set(poison.map((p) => p.reason))];
    await recordDeadLetters(client, dlq, poison.length, reasons[reasons.length - 1]);
    this.deps.log.warn(`dead-lettered ${poison.length} message(s) to ${dlq}`, { partition, reasons: reasons.slice(0, 5) });
    this.deps.events.emit('dead-lettered', dlq, poison.length, reasons[reasons.length - 1]);
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
