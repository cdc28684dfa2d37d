import * as fc from 'fast-check';
import { loadDevConfig } from '../libs/config';

/**
 * Settings of every property-based and fuzz test. `make test` runs each with a fixed seed and a
 * bounded number of cases, so a run is reproducible and quick; a longer hunt sets
 * DASY_FUZZ_RUNS (cases per property) and, for other cases, DASY_FUZZ_SEED. A failure prints its
 * seed and path (fast-check), which replays it.
 */
export const FUZZ_SEED = loadDevConfig().fuzzSeed;

export function fuzzRuns(defaultRuns: number): number {
  return loadDevConfig().fuzzRuns ?? defaultRuns;
}

export function fuzzParams<T>(defaultRuns: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  return { seed: FUZZ_SEED, numRuns: fuzzRuns(defaultRuns), ...extra };
}

/** How long a property test may take: longer runs get proportionally more time. */
export function fuzzTimeout(defaultRuns: number, defaultMs: number): number {
  return Math.max(defaultMs, Math.ceil((defaultMs * fuzzRuns(defaultRuns)) / defaultRuns));
}
