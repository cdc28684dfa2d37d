import { sameRow, StatsBodies, statsBody } from './stats-body';
import { parseStatsText, StatsText } from './store';

/** A row as PostgreSQL sends it: scores 1.5, 3 and 3 (mean 2.5, variance 0.5). */
const row = (changes: Partial<StatsText> = {}): StatsText => ({
  name: 'widget',
  session: '2',
  count: '3',
  sum: '7.5',
  sum_sq: '20.25',
  min: '1.5',
  max: '3',
  first_at: '2026-12-07 19:00:29.123+01',
  last_at: '2026-12-07 18:01:00+00',
  started_offset: '41',
  ...changes,
});

const BODY =
  '{"name":"widget","count":3,"mean":2.5,"stddev":0.7071067811865476,"min":1.5,"max":3,' +
  '"first_at":"2026-12-07T18:00:29.123Z","last_at":"2026-12-07T18:01:00.000Z","session":2}';

test('a row read as text decodes as pg parses it', () => {
  expect(parseStatsText(row())).toEqual({
    name: 'widget',
    session: 2,
    count: '3',
    sum: '7.5',
    sum_sq: '20.25',
    min: 1.5,
    max: 3,
    first_at: new Date('2026-12-07T18:00:29.123Z'),
    last_at: new Date('2026-12-07T18:01:00.000Z'),
    started_offset: '41',
  });
  expect(parseStatsText(row({ min: null, max: null, first_at: null, last_at: null, started_offset: null }))).toMatchObject({
    min: null,
    max: null,
    first_at: null,
    last_at: null,
    started_offset: null,
  });
});

test('the body of the current statistics, from the exact sums', () => {
  expect(statsBody(row())).toBe(BODY);
  expect(statsBody(row({ session: '3', count: '0', sum: '0', sum_sq: '0', min: null, max: null, first_at: null, last_at: null }))).toBe(
    '{"name":"widget","count":0,"mean":null,"stddev":null,"min":null,"max":null,"first_at":null,"last_at":null,"session":3}',
  );
});

test('rows are the same when every column is', () => {
  expect(sameRow(row(), row())).toBe(true);
  expect(sameRow(row(), row({ started_offset: null }))).toBe(false);
  expect(sameRow(row(), row({ last_at: '2026-12-07 18:01:00.000001+00' }))).toBe(false);
});

test('a row read again unchanged gets the body kept for it; any change makes a new one', () => {
  const bodies = new StatsBodies();
  const first = bodies.of(row());
  expect([first.text, first.bytes]).toEqual([BODY, BODY.length]);
  expect(bodies.of(row())).toBe(first);
  const pushed = bodies.of(row({ count: '4', sum: '12.5', sum_sq: '45.25', max: '5' }));
  expect(pushed.text).toBe(
    '{"name":"widget","count":4,"mean":3.125,"stddev":1.243734296383275,"min":1.5,"max":5,' +
      '"first_at":"2026-12-07T18:00:29.123Z","last_at":"2026-12-07T18:01:00.000Z","session":2}',
  );
  expect(bodies.of(row({ count: '4', sum: '12.5', sum_sq: '45.25', max: '5' }))).toBe(pushed);
  expect(bodies.of(row()).text).toBe(BODY);
  expect(bodies.size).toBe(1);
});

test('a body length counts bytes, not characters', () => {
  const body = new StatsBodies().of(row({ name: 'café ☕' }));
  expect(body.bytes).toBe(Buffer.byteLength(body.text));
  expect(body.bytes).toBe(body.text.length + 3);
});

test('at most maxNames bodies are kept: the one kept first goes', () => {
  const bodies = new StatsBodies(2);
  const a = bodies.of(row({ name: 'a' }));
  const b = bodies.of(row({ name: 'b' }));
  bodies.of(row({ name: 'c' }));
  expect(bodies.size).toBe(2);
  expect(bodies.of(row({ name: 'b' }))).toBe(b);
  const again = bodies.of(row({ name: 'a' }));
  expect(again).not.toBe(a);
  expect(again.text).toBe(a.text);
  expect(bodies.size).toBe(2);
});
