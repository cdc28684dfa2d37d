import { STALLED_AFTER_MS, verdict } from './index';

test('a group is caught up, lagging while it commits, or stalled since its last commit', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  expect(verdict(0n, null, now)).toBe('caught up');
  expect(verdict(0n, new Date(now - 3_600_000), now)).toBe('caught up');
  expect(verdict(1500n, new Date(now - 1000), now)).toBe('lagging 1500');
  const last = new Date(now - STALLED_AFTER_MS - 1);
  expect(verdict(7n, last, now)).toBe(`stalled since ${last.toISOString()} (lag 7)`);
  expect(verdict(7n, null, now)).toBe('stalled: nothing applied yet (lag 7)');
});
