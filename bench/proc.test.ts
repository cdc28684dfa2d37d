import { parseStat } from './proc';

test('a /proc stat line: utime + stime, cutime + cstime in seconds, the parent pid, a command with spaces and parentheses', () => {
  const line = '8811 (postgres: a (b) c) R 7122 8811 8811 0 -1 4194368 503 0 3 0 250 37 12 8 20 0 1 0 1596349 224452608 3618';
  expect(parseStat(line)).toEqual({ ppid: 7122, cpu: 2.87, childrenCpu: 0.2 });
});
