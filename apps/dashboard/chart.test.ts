import { FlowSample, niceCeiling, pushSample, seriesPoints } from './chart';

const sample = (t: number, applied = 0, lag = 0): FlowSample => ({ t, applied, lag });

test('the ring keeps the last samples, at most its capacity, oldest dropped first', () => {
  const ring: FlowSample[] = [];
  for (let t = 1; t <= 5; t++) expect(pushSample(ring, sample(t), 3)).toBe(ring);
  expect(ring.map((s) => s.t)).toEqual([3, 4, 5]);
  pushSample(ring, sample(6, 7, 8), 3);
  expect(ring).toEqual([sample(4), sample(5), sample(6, 7, 8)]);
});

test('the ring drops a sample not newer than its last (one snapshot delivered twice)', () => {
  const ring = [sample(10, 1, 1)];
  pushSample(ring, sample(10, 2, 2), 5);
  pushSample(ring, sample(9, 3, 3), 5);
  expect(ring).toEqual([sample(10, 1, 1)]);
});

test('an axis tops at the next 1, 2 or 5 times a power of ten, at least 1', () => {
  const tops = [0, -3, NaN, 0.2, 1, 1.01, 2, 2.5, 3, 5, 7, 10, 11, 99, 100, 101, 999, 1000, 1001, 4321, 123456789].map(niceCeiling);
  expect(tops).toEqual([1, 1, 1, 1, 1, 2, 2, 5, 5, 5, 10, 10, 20, 100, 100, 200, 1000, 1000, 2000, 5000, 200000000]);
});

test('points map time across the box and 0..max from its bottom to its top', () => {
  const box = { left: 50, right: 250, top: 10, bottom: 110 };
  const samples = [sample(0, 9, 9), sample(1000, 0, 4), sample(1500, 5, 0), sample(2000, 10, 20), sample(3000, 1, 1)];
  // the first is before the window, the last after it; 20 is above the top and drawn at it
  expect(seriesPoints(samples, 'lag', box, 1000, 2000, 10)).toEqual([
    { x: 50, y: 70 },
    { x: 150, y: 110 },
    { x: 250, y: 10 },
  ]);
  expect(seriesPoints(samples, 'applied', box, 1000, 2000, 10).map((p) => p.y)).toEqual([110, 60, 10]);
  expect(seriesPoints([], 'applied', box, 0, 1, 1)).toEqual([]);
});
