import { pipelineLine, RunSample } from './pipeline-line';

const MB = 1048576;
const stage = (name: string, lag: bigint, applied: bigint) => ({ name, lag, applied });

test('while the file is read: the share read, the records rate, each lag, and the longer of the two estimates', () => {
  const first: RunSample = { at: 0, read: { bytes: 0, totalBytes: 10 * MB, records: 0 }, stages: [stage('rows', 0n, 0n), stage('totals', 0n, 0n)] };
  const now: RunSample = {
    at: 10_000,
    read: { bytes: 4 * MB, totalBytes: 10 * MB, records: 40_000 },
    stages: [stage('rows', 10_000n, 30_000n), stage('totals', 5n, 0n)],
  };
  // reading: 6 MiB left at 0.4 MiB/s = 15 s; applying: 10,000 at 3,000/s = 3.4 s
  expect(pipelineLine('ingest orders', first, now)).toBe(
    'ingest orders · read 40% of 10.0 MiB · 4,000 records/s · rows lag 10,000 · totals lag 5 · 3,000 rows/s applied · about 15 s left',
  );
});

test('once the file is read: the lag left at the rate applied so far', () => {
  const first: RunSample = { at: 0, stages: [stage('rows', 100n, 0n)] };
  const now: RunSample = { at: 2000, read: { bytes: 5, totalBytes: 5, records: 1000 }, readDone: true, stages: [stage('rows', 500n, 1000n)] };
  expect(pipelineLine('ingest', first, now)).toBe('ingest · read 1,000 records · rows lag 500 · 500 rows/s applied · about 1 s left');
});

test('nothing applied yet with a lag: the time left is not known; caught up: none left', () => {
  const first: RunSample = { at: 0, stages: [stage('rows', 0n, 0n)] };
  expect(pipelineLine('x', first, { at: 1000, stages: [stage('rows', 7n, 0n)] })).toBe('x · rows lag 7 · 0 rows/s applied · time left unknown');
  expect(pipelineLine('x', first, { at: 1000, stages: [stage('rows', 0n, 9n)] })).toBe('x · rows lag 0 · about 0 s left');
});
