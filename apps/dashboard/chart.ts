/**
 * The arithmetic of the page's flow chart (applied rows/s and lag over the last minutes), pure so
 * it is unit-tested here and runs in the browser as written: page.ts inlines each function's source
 * (one definition, no bundler). So each one uses only its parameters and the language's globals.
 */

/** One snapshot as the chart keeps it: when (ms), rows applied per second, total lag. */
export interface FlowSample {
  t: number;
  applied: number;
  lag: number;
}

export interface PlotBox {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/**
 * Append a snapshot's sample to the ring (at most `capacity`, the oldest dropped); a sample not
 * newer than the last is dropped (two viewers' streams can deliver one cached snapshot twice).
 */
export function pushSample(ring: FlowSample[], sample: FlowSample, capacity: number): FlowSample[] {
  if (ring.length && ring[ring.length - 1].t >= sample.t) return ring;
  ring.push(sample);
  if (ring.length > capacity) ring.splice(0, ring.length - capacity);
  return ring;
}

/** The smallest 1, 2 or 5 × 10^k at or above `max`, at least 1: an axis top that reads well. */
export function niceCeiling(max: number): number {
  if (!(max > 1)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

/**
 * Pixel points of one series: time `from`..`to` across the box left to right, 0..`max` from its
 * bottom to its top. Samples before `from` are left out; a value above `max` is drawn at the top.
 */
export function seriesPoints(samples: FlowSample[], key: 'applied' | 'lag', box: PlotBox, from: number, to: number, max: number): { x: number; y: number }[] {
  const span = Math.max(1, to - from);
  const height = box.bottom - box.top;
  return samples
    .filter((s) => s.t >= from && s.t <= to)
    .map((s) => ({
      x: box.left + ((s.t - from) / span) * (box.right - box.left),
      y: box.bottom - (Math.min(Math.max(s[key], 0), max) / max) * height,
    }));
}
