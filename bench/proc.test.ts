import { spawn } from 'child_process';
import { parseStat, ProcSampler } from './proc';

test('a /proc stat line: utime + stime, cutime + cstime in seconds, the parent pid, a command with spaces and parentheses', () => {
  const line = '8811 (postgres: a (b) c) R 7122 8811 8811 0 -1 4194368 503 0 3 0 250 37 12 8 20 0 1 0 1596349 224452608 3618';
  expect(parseStat(line)).toEqual({ ppid: 7122, cpu: 2.87, childrenCpu: 0.2 });
});

test("a child's label is its command once it runs it, not the command line it was first seen with (before its exec)", async () => {
  const child = spawn('bash', ['-c', 'sleep 0.5; exec sleep 5'], { stdio: 'ignore' });
  try {
    const sampler = new ProcSampler(process.pid, () => [], 60_000);
    sampler.sample();
    const before = sampler.figures().find((f) => f.pid === child.pid);
    expect(before?.label).not.toBe('sleep');
    await new Promise((r) => setTimeout(r, 1500));
    sampler.sample();
    expect(sampler.figures().find((f) => f.pid === child.pid)?.label).toBe('sleep');
  } finally {
    child.kill('SIGKILL');
  }
});
