import { mib } from './index';

/** A stage of a pipeline run as a poll saw it: its lag, and how far it has applied (the sum of its stored offsets). */
export interface StageSample {
  name: string;
  lag: bigint;
  applied: bigint;
}

/** How far the producer has read its file. */
export interface ReadSample {
  bytes: number;
  totalBytes: number;
  records: number;
}

export interface RunSample {
  at: number;
  read?: ReadSample;
  /** set once the file is read whole */
  readDone?: boolean;
  stages: StageSample[];
}

/**
 * The one progress line of a pipeline run on a TTY (DESIGN.md §8): how much of the file is read
 * and at what rate, each stage's lag, and an estimate of the time left, from two samples (the
 * run's first and its latest). The estimate is the longer of what reading the rest of the file
 * takes at the rate so far and what applying the first stage's lag takes at its rate so far:
 * later stages follow within a drain.
 */
export function pipelineLine(label: string, first: RunSample, now: RunSample): string {
  const seconds = (now.at - first.at) / 1000;
  const parts = [label];
  let left = 0;
  if (now.read && !now.readDone) {
    const { bytes, totalBytes, records } = now.read;
    const pct = totalBytes > 0 ? Math.floor((bytes * 100) / totalBytes) : 100;
    parts.push(`read ${pct}% of ${mib(totalBytes)}`, `${perSecond(records, seconds)} records/s`);
    if (bytes > 0) left = Math.max(left, ((totalBytes - bytes) * seconds) / bytes);
  } else if (now.read) parts.push(`read ${now.read.records.toLocaleString('en-US')} records`);
  for (const s of now.stages) parts.push(`${s.name} lag ${s.lag.toLocaleString('en-US')}`);
  const head = now.stages[0];
  const headFirst = first.stages.find((s) => s.name === head?.name);
  if (head && headFirst && head.lag > 0n) {
    const rate = Number(head.applied - headFirst.applied) / Math.max(seconds, 0.001);
    parts.push(`${perSecond(Number(head.applied - headFirst.applied), seconds)} rows/s applied`);
    left = Math.max(left, rate > 0 ? Number(head.lag) / rate : Infinity);
  }
  parts.push(left === Infinity ? 'time left unknown' : `about ${Math.ceil(left)} s left`);
  return parts.join(' · ');
}

function perSecond(count: number, seconds: number): string {
  return seconds > 0 ? Math.round(count / seconds).toLocaleString('en-US') : '0';
}
