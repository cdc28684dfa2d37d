import { createLogger } from '../log';
import { outageNotice } from '../runtime';
import { isRetriableKafkaError, isUnavailability } from './client';

describe('Kafka outages', () => {
  test('what a down or restarting broker looks like is an outage; usage errors are not', () => {
    expect(isUnavailability('Connection error: connect ECONNREFUSED 127.0.0.1:9092')).toBe(true);
    expect(isUnavailability('Response GroupCoordinator(key: 10, version: 2)', { error: 'The group coordinator is not available' })).toBe(true);
    expect(isUnavailability('Failed to send messages: This server is not the leader for that topic-partition')).toBe(true);
    expect(isUnavailability('Crash: KafkaJSNonRetriableError: Failed to find group coordinator')).toBe(true);
    expect(isUnavailability('Response CreateTopics(key: 19, version: 3)', { error: 'Topic authorization failed' })).toBe(false);
    expect(
      isUnavailability('Response Produce(key: 0, version: 7)', {
        error: 'The request included a message larger than the max message size the server will accept',
      }),
    ).toBe(false);
  });

  test('retriable kafkajs errors are found through their causes', () => {
    const connection = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError', retriable: true });
    const wrapped = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), {
      name: 'KafkaJSNonRetriableError',
      retriable: false,
      cause: connection,
    });
    expect(isRetriableKafkaError(wrapped)).toBe(true);
    expect(isRetriableKafkaError(Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound' }))).toBe(true);
    expect(isRetriableKafkaError(Object.assign(new Error('Invalid replication factor'), { name: 'KafkaJSProtocolError', retriable: false }))).toBe(false);
    expect(isRetriableKafkaError(new Error('relation "products" does not exist'))).toBe(false);
  });

  test('an outage is said once, its end once, however many attempts fail in between', () => {
    const lines: string[] = [];
    const notice = outageNotice(
      createLogger('t', 'warn', (l) => lines.push(l.replace(/^\S+ /, ''))),
      'Kafka at b:9092',
    );
    notice.ok();
    for (let i = 0; i < 50; i++) notice.failed(`attempt ${i}`);
    notice.ok();
    notice.ok();
    notice.failed('again');
    expect(lines).toEqual([
      'WARN t: Kafka at b:9092 unavailable (attempt 0); retrying with backoff',
      'WARN t: Kafka at b:9092 reachable again; resuming',
      'WARN t: Kafka at b:9092 unavailable (again); retrying with backoff',
    ]);
  });

  test('with a quiet period, success right after a failure does not end the outage yet', () => {
    const lines: string[] = [];
    const notice = outageNotice(
      createLogger('t', 'warn', (l) => lines.push(l)),
      'Kafka',
      60_000,
    );
    notice.failed('refused');
    notice.ok();
    expect([lines.length, notice.down]).toEqual([1, true]);
  });

  test('with a grace period, a failure followed by success within it is not announced; one that lasts is', async () => {
    const lines: string[] = [];
    const notice = outageNotice(
      createLogger('t', 'warn', (l) => lines.push(l.replace(/^\S+ /, ''))),
      'Kafka',
      0,
      50,
    );
    notice.failed('coordinator loading');
    notice.ok();
    await new Promise((r) => setTimeout(r, 80));
    expect([lines, notice.down]).toEqual([[], false]);
    notice.failed('refused');
    notice.failed('refused again');
    await new Promise((r) => setTimeout(r, 80));
    notice.ok();
    expect(lines).toEqual(['WARN t: Kafka unavailable (refused); retrying with backoff', 'WARN t: Kafka reachable again; resuming']);
  });
});
