import { KafkaMessage } from '../kafka/port';
import { Runs } from './runs';

const batch = (partition: number, ...offsets: bigint[]) => ({
  partition,
  messages: offsets.map((offset): KafkaMessage => ({ key: null, value: null, headers: {}, offset, timestamp: '0' })),
});

describe('Runs: where a batch begins, across offsets compaction left without a record', () => {
  test('after a seek or a commit, a batch fetched there starts there, even when its first record comes later', () => {
    const runs = new Runs();
    runs.at(0, 10n);
    expect([runs.start(batch(0, 10n, 11n)), runs.start(batch(0, 15n, 16n))]).toEqual([10n, 10n]);
    runs.at(0, 17n); // committed up to 17
    expect(runs.start(batch(0, 20n))).toBe(17n);
  });

  test('fetches the client moved over (nothing for eachBatch) extend the run: the next batch starts at its base', () => {
    const runs = new Runs();
    runs.at(0, 10n);
    runs.emptyFetch({ partition: 0, firstOffset: 12n, lastOffset: 19n }); // a batch compaction emptied, ending at 19
    runs.emptyFetch({ partition: 0, firstOffset: null, lastOffset: 20n }); // nothing at or after 20: it moves past 20
    expect(runs.start(batch(0, 25n))).toBe(10n);
  });

  test('an empty fetch that is not at the run (a stale one) does not extend it', () => {
    const runs = new Runs();
    runs.at(0, 10n);
    runs.emptyFetch({ partition: 0, firstOffset: 5n, lastOffset: 19n });
    runs.emptyFetch({ partition: 0, firstOffset: null, lastOffset: 30n });
    // still at 10: a batch from 25 was fetched past offsets not known empty (the fence decides)
    runs.at(1, 0n);
    expect([runs.start(batch(0, 12n)), runs.start(batch(1, 3n))]).toEqual([10n, 0n]);
  });

  test('a batch before the run, or with no run known (after a rebalance, before the seek), starts at its first message', () => {
    const runs = new Runs();
    runs.at(0, 10n);
    expect(runs.start(batch(0, 7n, 12n))).toBe(7n);
    runs.clear();
    expect(runs.start(batch(0, 15n))).toBe(15n);
    expect(runs.start(batch(2, 4n))).toBe(4n);
  });
});
