import { chanMerge, EMPTY, Moments, stddev, summarize, variance, view, welford } from './index';

/** Naive two-pass reference, computed independently of the code under test. */
function naive(xs: number[]) {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const m2 = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0);
  return { count: n, mean, m2, variance: m2 / n, stddev: Math.sqrt(m2 / n), min: Math.min(...xs), max: Math.max(...xs) };
}

function expectClose(s: Moments, xs: number[]) {
  const r = naive(xs);
  expect(s.count).toBe(r.count);
  expect(s.mean).toBeCloseTo(r.mean, 10);
  expect(s.m2).toBeCloseTo(r.m2, 8);
  expect(stddev(s)).toBeCloseTo(r.stddev, 10);
  expect(s.min).toBe(r.min);
  expect(s.max).toBe(r.max);
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

describe('welford', () => {
  test('n = 0: empty summary, nulls in the view', () => {
    expect(summarize([])).toEqual({ count: 0, mean: 0, m2: 0, min: null, max: null });
    expect(variance(EMPTY)).toBeNull();
    expect(stddev(EMPTY)).toBeNull();
    expect(view(EMPTY)).toEqual({ count: 0, mean: null, stddev: null, min: null, max: null });
  });

  test('n = 1: mean is the value, stddev 0', () => {
    const s = welford(EMPTY, 3.5);
    expect(s).toEqual({ count: 1, mean: 3.5, m2: 0, min: 3.5, max: 3.5 });
    expect(view(s)).toEqual({ count: 1, mean: 3.5, stddev: 0, min: 3.5, max: 3.5 });
  });

  test('a known small set: 2,4,4,4,5,5,7,9 has mean 5 and population stddev 2', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.count).toBe(8);
    expect(s.mean).toBe(5);
    expect(s.m2).toBe(32);
    expect(stddev(s)).toBe(2);
    expect([s.min, s.max]).toEqual([2, 9]);
  });

  test('matches the naive two-pass computation on 10,000 values', () => {
    const xs = scores(10000, 7);
    expectClose(summarize(xs), xs);
  });

  test('identical values give stddev exactly 0, never NaN', () => {
    const s = summarize(Array(1000).fill(0.1));
    expect(stddev(s)).toBe(0);
    expect(s.mean).toBeCloseTo(0.1, 12);
  });

  test('the boundaries 0 and 5', () => {
    const s = summarize([0, 5]);
    expect(view(s)).toEqual({ count: 2, mean: 2.5, stddev: 2.5, min: 0, max: 5 });
  });

  test('does not mutate its input', () => {
    const s = welford(EMPTY, 1);
    welford(s, 2);
    expect(s).toEqual({ count: 1, mean: 1, m2: 0, min: 1, max: 1 });
    expect(EMPTY).toEqual({ count: 0, mean: 0, m2: 0, min: null, max: null });
  });
});

describe('chanMerge', () => {
  test('merging two halves equals the summary of the whole', () => {
    const xs = scores(5000, 11);
    const merged = chanMerge(summarize(xs.slice(0, 1234)), summarize(xs.slice(1234)));
    expectClose(merged, xs);
  });

  test('merging many uneven chunks in any order equals the whole', () => {
    const xs = scores(3001, 3);
    const cuts = [0, 1, 2, 10, 11, 500, 501, 2999, 3001];
    const parts: Moments[] = [];
    for (let i = 1; i < cuts.length; i++) parts.push(summarize(xs.slice(cuts[i - 1], cuts[i])));
    expectClose(parts.reduce(chanMerge, EMPTY), xs);
    expectClose([...parts].reverse().reduce(chanMerge, EMPTY), xs);
  });

  test('n = 0 on either side is the identity', () => {
    const s = summarize([1, 2, 3]);
    expect(chanMerge(EMPTY, s)).toEqual(s);
    expect(chanMerge(s, EMPTY)).toEqual(s);
    expect(chanMerge(EMPTY, EMPTY)).toEqual(EMPTY);
  });

  test('n = 1 with n = 1', () => {
    const s = chanMerge(summarize([1]), summarize([4]));
    expect(s).toEqual({ count: 2, mean: 2.5, m2: 4.5, min: 1, max: 4 });
    expect(stddev(s)).toBe(1.5);
  });

  test('a Welford step is a merge with a one-value summary', () => {
    const s = summarize([0.5, 4.25, 3]);
    const a = welford(s, 1.75);
    const b = chanMerge(s, summarize([1.75]));
    expect(a.count).toBe(b.count);
    expect(a.mean).toBeCloseTo(b.mean, 14);
    expect(a.m2).toBeCloseTo(b.m2, 14);
    expect([a.min, a.max]).toEqual([b.min, b.max]);
  });

  test('large stored row plus small batch (the consumer case) stays exact', () => {
    const xs = scores(100000, 5);
    const row = summarize(xs.slice(0, 99990));
    const batch = summarize(xs.slice(99990));
    expectClose(chanMerge(row, batch), xs);
  });
});
