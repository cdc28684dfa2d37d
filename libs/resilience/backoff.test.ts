import { isKafkaUnavailable } from '../errors/classify';
import { KafkaError, UnavailableError } from '../errors';
import { createLogger } from '../log';
import { prng } from '../random';
import { Alarm } from './alarm';
import { Backoff, retry } from './backoff';
import { outageNotice } from './outage';

/** what the Kafka port makes of a refused connection (libs/kafka/errors.ts) */
const refused = () => new KafkaError('refused', { cause: undefined, retriable: true });

describe('Backoff (full jitter)', () => {
  test('each wait is drawn between 0 and a ceiling that doubles from its first wait up to its cap', () => {
    const draws = [0.5, 0, 0.999, 0.25, 0.5];
    const b = new Backoff({ initialMs: 100, maxMs: 700, random: () => draws.shift()! });
    // ceilings 100, 200, 400, 700, 700
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([50, 0, 399, 175, 350]);
    b.reset();
    expect(b.ceiling).toBe(100);
    expect(new Backoff().ceiling).toBe(200);
  });

  test('over many draws every wait stays within [0, ceiling) and they spread over it', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: prng(7) });
    const atCap: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const ceiling = b.ceiling;
      const wait = b.next();
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThan(ceiling);
      if (ceiling === 1000) atCap.push(wait);
    }
    // uniform over [0, 1000): each tenth of it holds some of the waits
    const tenths = new Set(atCap.map((w) => Math.floor(w / 100)));
    expect([...tenths].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('replicas that fail at the same instant do not retry in lockstep', () => {
    const replicas = [prng(1), prng(2), prng(3)].map((random) => new Backoff({ initialMs: 200, maxMs: 5000, random }));
    const schedules = replicas.map((b) => Array.from({ length: 6 }, () => b.next()));
    for (let attempt = 1; attempt < 6; attempt++) expect(new Set(schedules.map((s) => s[attempt])).size).toBe(3);
    // and by default each draws from Math.random, not from a shared sequence
    const a = new Backoff({ initialMs: 1_000_000 });
    const b = new Backoff({ initialMs: 1_000_000 });
    expect(a.next()).not.toBe(b.next());
  });
});

describe('retry', () => {
  test('retries what is retriable, says the outage once and its end', async () => {
    const lines: string[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        if (++calls < 4) throw refused();
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
    const err = await retry(() => Promise.reject(refused()), {
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
