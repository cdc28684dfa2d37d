import { createLogger } from '../log';
import { outageNotice } from './outage';

describe('outage notices', () => {
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

  test('a part may say it in its own words', () => {
    const lines: string[] = [];
    const notice = outageNotice(
      createLogger('relay', 'warn', (l) => lines.push(l.replace(/^\S+ /, ''))),
      '',
      0,
      0,
      {
        down: (reason) => `cannot relay (${reason}); retrying with backoff`,
        up: 'relaying again',
      },
    );
    notice.failed('ECONNREFUSED');
    notice.failed('ECONNREFUSED');
    notice.ok();
    expect(lines).toEqual(['WARN relay: cannot relay (ECONNREFUSED); retrying with backoff', 'WARN relay: relaying again']);
  });
});
