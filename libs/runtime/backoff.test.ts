import { KafkaJSConnectionError } from 'kafkajs';
import { isKafkaUnavailable } from '../errors/classify';
import { UnavailableError } from '../errors';
import { createLogger } from '../log';
import { Alarm } from './alarm';
import { Backoff, retry } from './backoff';
import { outageNotice } from './outage';

test('backoff doubles from its first wait up to its cap, and starts over after a success', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 700 });
  expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 700, 700]);
  b.reset();
  expect(b.next()).toBe(100);
  expect(new Backoff().next()).toBe(200);
});

describe('retry', () => {
  test('retries what is retriable, says the outage once and its end', async () => {
    const lines: string[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        if (++calls < 4) throw new KafkaJSConnectionError('refused');
        return 'done';
      },
      {
        isRetriable: isKafkaUnavailable,
        notice: outageNotice(
          createLogger('t', 'warn', (l) => lines.push(l.replace(/^\S+ /, ''))),
          'Kafka',
        ),
        initialMs: 1,
      },
    );
    expect({ result, calls, lines }).toEqual({
      result: 'done',
      calls: 4,
      lines: ['WARN t: Kafka unavailable (refused); retrying with backoff', 'WARN t: Kafka reachable again; resuming'],
    });
  });

  test('anything else is thrown at once', async () => {
    let calls = 0;
    const bug = new TypeError('bug');
    await expect(
      retry(
        () => {
          calls++;
          return Promise.reject(bug);
        },
        { isRetriable: isKafkaUnavailable },
      ),
    ).rejects.toBe(bug);
    expect(calls).toBe(1);
  });

  test('a deadline gives up with an UnavailableError naming what was waited for', async () => {
    const err = await retry(() => Promise.reject(new KafkaJSConnectionError('refused')), {
      isRetriable: () => true,
      timeoutMs: 30,
      what: 'Kafka did not answer',
      initialMs: 10,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe('Kafka did not answer: refused');
  });
});

test('an alarm sleeps until its time or until woken, whichever is first', async () => {
  const alarm = new Alarm();
  const started = Date.now();
  const slept = alarm.sleep(10_000);
  alarm.wake();
  await slept;
  expect(Date.now() - started).toBeLessThan(1000);
  alarm.wake(); // nobody sleeping: nothing happens
  const t0 = Date.now();
  await alarm.sleep(20);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
});
