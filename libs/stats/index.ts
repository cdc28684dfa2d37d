/**
 * Online statistics of a stream of numbers as (count, mean, M2, min, max), where M2 is the sum
 * of squared deviations from the mean. Welford's update adds one value; Chan et al.'s parallel
 * merge combines two summaries (a batch into a stored row, buckets into a window) without ever
 * rescanning the values. All functions are pure: they return a new summary.
 *
 * Variance is the population variance M2 / count, as the contract asks.
 */
export interface Moments {
  count: number;
  mean: number;
  /** sum of squared deviations from the mean */
  m2: number;
  /** null when count is 0 */
  min: number | null;
  max: number | null;
}

export const EMPTY: Moments = Object.freeze({ count: 0, mean: 0, m2: 0, min: null, max: null });

/** Welford: the summary of `s` plus one value. */
export function welford(s: Moments, x: number): Moments {
  const count = s.count + 1;
  const delta = x - s.mean;
  const mean = s.mean + delta / count;
  return {
    count,
    mean,
    m2: s.m2 + delta * (x - mean),
    min: s.min === null || x < s.min ? x : s.min,
    max: s.max === null || x > s.max ? x : s.max,
  };
}

/** Chan's parallel merge: the summary of the union of the values behind `a` and `b`. */
export function chanMerge(a: Moments, b: Moments): Moments {
  if (b.count === 0) return a.count === 0 ? EMPTY : { ...a };
  if (a.count === 0) return { ...b };
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  return {
    count,
    mean: a.mean + (delta * b.count) / count,
    m2: a.m2 + b.m2 + (delta * delta * a.count * b.count) / count,
    min: minOf(a.min, b.min),
    max: maxOf(a.max, b.max),
  };
}

/** The summary of a list of values (Welford, one pass). */
export function summarize(values: Iterable<number>): Moments {
  let s = EMPTY;
  for (const x of values) s = welford(s, x);
  return s;
}

/** Population variance (M2 / n); null when there are no values. */
export function variance(s: Moments): number | null {
  if (s.count === 0) return null;
  // Rounding can leave a hair below zero for identical values.
  return Math.max(0, s.m2 / s.count);
}

/** Population standard deviation; null when there are no values. */
export function stddev(s: Moments): number | null {
  const v = variance(s);
  return v === null ? null : Math.sqrt(v);
}

/** What the api shows: mean, stddev, min and max are null for an empty summary. */
export interface StatsView {
  count: number;
  mean: number | null;
  stddev: number | null;
  min: number | null;
  max: number | null;
}

export function view(s: Moments): StatsView {
  if (s.count === 0) return { count: 0, mean: null, stddev: null, min: null, max: null };
  return { count: s.count, mean: s.mean, stddev: stddev(s), min: s.min, max: s.max };
}

function minOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return a < b ? a : b;
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}
