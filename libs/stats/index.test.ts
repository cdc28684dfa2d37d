import { chanMerge, EMPTY, mean, Moments, stddev, summarize, variance, view, welford } from './index';

/** Naive two-pass reference in floating point, computed independently of the code under test. */
function naive(xs: number[]) {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const m2 = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0);
  return { count: n, mean, stddev: Math.sqrt(m2 / n), min: Math.min(...xs), max: Math.max(...xs) };
}

function expectClose(s: Moments, xs: number[]) {
  const r = naive(xs);
  const v = view(s);
  expect(v.count).toBe(r.count);
  expect(v.mean).toBeCloseTo(r.mean, 12);
  expect(v.stddev).toBeCloseTo(r.stddev, 12);
  expect([v.min, v.max]).toEqual([r.min, r.max]);
}

/** Deterministic pseudo-random scores in [0, 5]. */
function scores(n: number, seed: number): number[] {
  let x = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out.push(Math.round((x / 2 ** 32) * 5 * 1000) / 1000);
  }
  return out;
}

// Exactness against a rational reference, for any scores, is libs/stats/properties.test.ts.
describe('welford', () => {
  test('n = 0: empty summary, nulls in the view', () => {
    expect(summarize([])).toBe(EMPTY);
    expect([mean(EMPTY), variance(EMPTY), stddev(EMPTY)]).toEqual([null, null, null]);
    expect(view(EMPTY)).toEqual({ count: 0, mean: null, stddev: null, min: null, max: null });
  });

  test('n = 1: mean is the value, stddev 0', () => {
    expect(view(welford(EMPTY, 3.5))).toEqual({ count: 1, mean: 3.5, stddev: 0, min: 3.5, max: 3.5 });
    expect(view(welford(EMPTY, Number.MIN_VALUE))).toEqual({ count: 1, mean: Number.MIN_VALUE, stddev: 0, min: Number.MIN_VALUE, max: Number.MIN_VALUE });
  });

  test('a known small set: 2,4,4,4,5,5,7,9 has mean 5, variance 4 and population stddev 2', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect([s.count, mean(s), variance(s), stddev(s), s.min, s.max]).toEqual([8, 5, 4, 2, 2, 9]);
  });

  test('matches the naive two-pass computation on 10,000 values', () => {
    const xs = scores(10000, 7);
    expectClose(summarize(xs), xs);
  });

  test('identical values: the mean is the value itself and stddev exactly 0 (no rounding drift)', () => {
    const s = summarize(Array(1000).fill(0.1));
    expect([mean(s), stddev(s)]).toEqual([0.1, 0]);
  });

  test('the boundaries 0 and 5; -0 counts as 0', () => {
    expect(view(summarize([0, 5]))).toEqual({ count: 2, mean: 2.5, stddev: 2.5, min: 0, max: 5 });
    expect(summarize([-0]).sum).toEqual(summarize([0]).sum);
  });

  test('does not mutate its input', () => {
    const s = welford(EMPTY, 1);
    welford(s, 2);
    expect(view(s)).toEqual({ count: 1, mean: 1, stddev: 0, min: 1, max: 1 });
    expect(EMPTY).toEqual({ count: 0, sum: { num: 0n, exp: 0 }, sumSq: { num: 0n, exp: 0 }, min: null, max: null });
  });

  test('a non-finite value is refused', () => {
    expect(() => welford(EMPTY, Infinity)).toThrow(RangeError);
    expect(() => welford(EMPTY, NaN)).toThrow(RangeError);
  });
});

describe('chanMerge', () => {
  test('merging two halves equals the summary of the whole, exactly', () => {
    const xs = scores(5000, 11);
    expect(chanMerge(summarize(xs.slice(0, 1234)), summarize(xs.slice(1234)))).toEqual(summarize(xs));
  });

  test('n = 0 on either side is the identity', () => {
    const s = summarize([1, 2, 3]);
    expect(chanMerge(EMPTY, s)).toEqual(s);
    expect(chanMerge(s, EMPTY)).toEqual(s);
    expect(chanMerge(EMPTY, EMPTY)).toEqual(EMPTY);
  });

  test('n = 1 with n = 1', () => {
    const s = chanMerge(summarize([1]), summarize([4]));
    expect([s.count, mean(s), variance(s), stddev(s), s.min, s.max]).toEqual([2, 2.5, 2.25, 1.5, 1, 4]);
  });

  test('a Welford step is a merge with a one-value summary', () => {
    const s = summarize([0.5, 4.25, 3]);
    expect(view(welford(s, 1.75))).toEqual(view(chanMerge(s, summarize([1.75]))));
  });

  test('large stored row plus small batch (the consumer case)', () => {
    const xs = scores(100000, 5);
    const merged = chanMerge(summarize(xs.slice(0, 99990)), summarize(xs.slice(99990)));
    expectClose(merged, xs);
    expect(view(merged)).toEqual(view(summarize(xs)));
  });
});
