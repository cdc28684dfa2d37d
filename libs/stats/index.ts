import { add, Dyadic, exactOf, mul, roundRatio, roundSqrtRatio, scale, ZERO } from './exact';

export type { Dyadic } from './exact';
export { fromDecimal, toDecimal } from './exact';

/**
 * Online statistics of a stream of numbers, kept exactly: (count, Σx, Σx², min, max) with the
 * sums as exact binary fractions (./exact.ts). Welford's update adds one value; Chan et al.'s
 * parallel merge combines two summaries (a batch into a stored row, buckets into a window) without
 * ever rescanning the values. In exact arithmetic both reduce to adding the sums: Chan's
 * M2 = M2a + M2b + δ²·na·nb/n is Σx² − (Σx)²/n of the union. Floating-point Welford/Chan round at
 * every step (and underflow: the square of a difference of 1e-170 is below the smallest double);
 * here the mean and the standard deviation are rounded once, at the end, correctly: they are the
 * doubles nearest to the exact values, for any finite inputs, subnormals included.
 *
 * All functions are pure: they return a new summary. Variance is the population variance M2 / n,
 * as the contract asks.
 */
export interface Moments {
  count: number;
  /** Σx, exactly */
  sum: Dyadic;
  /** Σx², exactly */
  sumSq: Dyadic;
  /** null when count is 0 */
  min: number | null;
  max: number | null;
}

export const EMPTY: Moments = Object.freeze({ count: 0, sum: ZERO, sumSq: ZERO, min: null, max: null });

/** Welford's update, exact: the summary of `s` plus one finite value. */
export function welford(s: Moments, x: number): Moments {
  const e = exactOf(x === 0 ? 0 : x);
  return {
    count: s.count + 1,
    sum: add(s.sum, e),
    sumSq: add(s.sumSq, mul(e, e)),
    min: s.min === null || x < s.min ? x : s.min,
    max: s.max === null || x > s.max ? x : s.max,
  };
}

/** Chan's parallel merge, exact: the summary of the union of the values behind `a` and `b`. */
export function chanMerge(a: Moments, b: Moments): Moments {
  if (b.count === 0) return a.count === 0 ? EMPTY : a;
  if (a.count === 0) return b;
  return {
    count: a.count + b.count,
    sum: add(a.sum, b.sum),
    sumSq: add(a.sumSq, b.sumSq),
    min: minOf(a.min, b.min),
    max: maxOf(a.max, b.max),
  };
}

/** The summary of a list of values (one pass). */
export function summarize(values: Iterable<number>): Moments {
  let s = EMPTY;
  for (const x of values) s = welford(s, x);
  return s;
}

/** The mean, correctly rounded; null when there are no values. */
export function mean(s: Moments): number | null {
  if (s.count === 0) return null;
  const { num, exp } = s.sum;
  const abs = num < 0n ? -num : num;
  const n = BigInt(s.count);
  const r = exp >= 0 ? roundRatio(abs << BigInt(exp), n) : roundRatio(abs, n << BigInt(-exp));
  return num < 0n ? -r : r;
}

/**
 * n²·variance = n·Σx² − (Σx)², exactly, as an integer over 2^shift (never negative: it is
 * n·M2, a sum of squares).
 */
function scaledM2(s: Moments): { num: bigint; shift: number } {
  const n = BigInt(s.count);
  const d = add(scale(s.sumSq, n), scale(mul(s.sum, s.sum), -1n));
  if (d.num <= 0n) return { num: 0n, shift: 0 };
  return d.exp >= 0 ? { num: d.num << BigInt(d.exp), shift: 0 } : { num: d.num, shift: -d.exp };
}

/** Population variance (M2 / n), correctly rounded; null when there are no values. */
export function variance(s: Moments): number | null {
  if (s.count === 0) return null;
  const { num, shift } = scaledM2(s);
  const n = BigInt(s.count);
  return roundRatio(num, (n * n) << BigInt(shift));
}

/** Population standard deviation, correctly rounded; null when there are no values. */
export function stddev(s: Moments): number | null {
  if (s.count === 0) return null;
  const { num, shift } = scaledM2(s);
  const n = BigInt(s.count);
  return roundSqrtRatio(num, (n * n) << BigInt(shift));
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
  return { count: s.count, mean: mean(s), stddev: stddev(s), min: s.min, max: s.max };
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
