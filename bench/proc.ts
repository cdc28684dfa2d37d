import * as fs from 'fs';

/**
 * Linux /proc sampling for the benchmarks: the peak resident set (VmHWM) and the CPU time of a
 * process tree (a command and every process it forks), and the CPU time of other processes
 * (PostgreSQL backends, the Kafka broker) over a run. Sampled every `intervalMs`; a process's
 * last sample before it exits is what counts (VmHWM is a high-water mark, so nothing is missed
 * but its final moments).
 */
const TICKS = 100; // USER_HZ: 100 on every Linux we run on

export interface ProcFigures {
  pid: number;
  /** what the process is: `ingest`, `products-consumer`, `postgres: ...` */
  label: string;
  peakRssMb: number;
  cpuSeconds: number;
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** utime + stime in seconds, and the parent pid. */
function stat(pid: number | 'self'): { cpu: number; ppid: number; childrenCpu: number } | undefined {
  const s = read(`/proc/${pid}/stat`);
  return s === undefined ? undefined : parseStat(s);
}

/**
 * A /proc/<pid>/stat line: its utime + stime, and cutime + cstime (the CPU of its children that
 * ended and were waited for), in seconds.
 */
export function parseStat(line: string): { cpu: number; ppid: number; childrenCpu: number } {
  const rest = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
  return { ppid: Number(rest[1]), cpu: (Number(rest[11]) + Number(rest[12])) / TICKS, childrenCpu: (Number(rest[13]) + Number(rest[14])) / TICKS };
}

/** The CPU seconds of this process's children that ended and were waited for (a psql run's, once it exited). */
export function endedChildrenCpu(): number {
  return stat('self')?.childrenCpu ?? NaN;
}

function hwmMb(pid: number): number | undefined {
  const s = read(`/proc/${pid}/status`);
  const m = s && /VmHWM:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) / 1024 : undefined;
}

function cmdline(pid: number): string {
  return (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
}

/** A short name for a dasy process: the CLI command after main.js. */
export function labelOf(cmd: string): string {
  const m = /main\.js\s+(\S+)/.exec(cmd);
  if (m) return m[1];
  if (cmd.startsWith('postgres')) return 'postgres';
  if (/kafka\.Kafka/.test(cmd)) return 'kafka';
  return cmd.split(' ')[0]?.split('/').pop() || '?';
}

export function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

export function findKafkaPid(): number | undefined {
  for (const pid of allPids()) if (/kafka\.Kafka/.test(cmdline(pid))) return pid;
  return undefined;
}

export const procAvailable = fs.existsSync('/proc/self/status');

export class ProcSampler {
  private readonly seen = new Map<number, ProcFigures>();
  private readonly baseline = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private existing = new Set<number>();

  /**
   * `root`: the tree to follow (its descendants are found through the parent pids).
   * `extra()`: other pids to account for (their CPU is counted from the first sample on).
   */
  constructor(
    private readonly root: number,
    private readonly extra: () => number[] = () => [],
    private readonly intervalMs = 200,
    /** a better label for a pid than its command line (PostgreSQL backends: their application) */
    private readonly labelFor: (pid: number) => string | undefined = () => undefined,
  ) {}

  start(): this {
    if (!procAvailable) return this;
    this.existing = new Set(allPids());
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    if (!procAvailable) return;
    const tree = new Set<number>([this.root]);
    const parents = new Map<number, number>();
    for (const pid of allPids()) {
      const s = stat(pid);
      if (s) parents.set(pid, s.ppid);
    }
    // descendants: repeat until stable (a tree is shallow)
    for (let changed = true; changed;) {
      changed = false;
      for (const [pid, ppid] of parents) {
        if (!tree.has(pid) && tree.has(ppid)) {
          tree.add(pid);
          changed = true;
        }
      }
    }
    const others = this.extra();
    for (const pid of [...tree, ...others]) {
      const s = stat(pid);
      const hwm = hwmMb(pid);
      if (!s) continue;
      if (!this.seen.has(pid)) {
        // a process that existed before the run (the Kafka broker): count its CPU from now on
        this.baseline.set(pid, tree.has(pid) || !this.existing.has(pid) ? 0 : s.cpu);
        this.seen.set(pid, { pid, label: this.labelFor(pid) ?? labelOf(cmdline(pid)), peakRssMb: 0, cpuSeconds: 0 });
      }
      const f = this.seen.get(pid)!;
      // a child seen between its fork and its exec still shows its parent's command line: its
      // label is read again while it runs (a forked part was counted as `ingest` otherwise)
      const cmd = tree.has(pid) && pid !== this.root ? cmdline(pid) : '';
      if (cmd) f.label = this.labelFor(pid) ?? labelOf(cmd);
      f.cpuSeconds = s.cpu - (this.baseline.get(pid) ?? 0);
      if (hwm !== undefined && tree.has(pid)) f.peakRssMb = Math.max(f.peakRssMb, hwm);
    }
  }

  /** The figures so far (as of the last sample), the sampling going on. */
  figures(): ProcFigures[] {
    return [...this.seen.values()].map((f) => ({ ...f }));
  }

  stop(): ProcFigures[] {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.figures();
  }
}

/** Sum figures by label: CPU seconds summed, peak RSS the largest of the label's processes. */
export function byLabel(figures: ProcFigures[]): Record<string, { processes: number; cpuSeconds: number; peakRssMb: number }> {
  const out: Record<string, { processes: number; cpuSeconds: number; peakRssMb: number }> = {};
  for (const f of figures) {
    const o = (out[f.label] ??= { processes: 0, cpuSeconds: 0, peakRssMb: 0 });
    o.processes++;
    o.cpuSeconds = Math.round((o.cpuSeconds + f.cpuSeconds) * 100) / 100;
    o.peakRssMb = Math.max(o.peakRssMb, Math.round(f.peakRssMb));
  }
  return out;
}

/** Busy and total CPU ticks of the whole machine (all CPUs), from /proc/stat. */
export function machineTicks(): { busy: number; total: number } | undefined {
  const line = read('/proc/stat')?.split('\n')[0];
  if (!line?.startsWith('cpu ')) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3] + (f[4] || 0); // idle + iowait
  return { busy: total - idle, total };
}

/** The share of the machine's CPU time that was busy between two readings (0..1). */
export function busyShare(a: ReturnType<typeof machineTicks>, b: ReturnType<typeof machineTicks>): number | undefined {
  if (!a || !b || b.total <= a.total) return undefined;
  return (b.busy - a.busy) / (b.total - a.total);
}
