import { BATCH_MAX, validateBatch } from './push-batch';
import { ApiError } from './validate';

const refusal = (body: unknown) => {
  try {
    validateBatch(body);
  } catch (err) {
    return [(err as ApiError).statusCode, (err as ApiError).body().error];
  }
  throw new Error('not refused');
};

test('each push is validated as a single push; a refused one names its index and field', () => {
  const items = validateBatch([{ name: ' A ', score: 5, username: 'ann' }, { name: 'B', score: -1 }, 7, null, [], { score: 1 }, { name: 'C', score: 0 }]);
  expect(items.map((i) => ('push' in i ? i.push : [i.error.statusCode, i.error.body().error]))).toEqual([
    { name: 'A', score: 5, username: 'ann' },
    [400, { code: 'out_of_range', message: 'push 1: score must be from 0 to 5', field: '1.score' }],
    [400, { code: 'invalid_body', message: 'push 2 must be a JSON object', field: '2' }],
    [400, { code: 'invalid_body', message: 'push 3 must be a JSON object', field: '3' }],
    [400, { code: 'invalid_body', message: 'push 4 must be a JSON object', field: '4' }],
    [400, { code: 'missing', message: 'push 5: name is required', field: '5.name' }],
    { name: 'C', score: 0, username: null },
  ]);
});

test('the batch itself: an array of 1 to BATCH_MAX pushes', () => {
  expect(BATCH_MAX).toBe(1000);
  expect(validateBatch(Array.from({ length: BATCH_MAX }, () => ({ name: 'n', score: 1 })))).toHaveLength(BATCH_MAX);
  expect(refusal(Array.from({ length: BATCH_MAX + 1 }, () => ({ name: 'n', score: 1 })))).toEqual([
    400,
    { code: 'too_many_pushes', message: 'a batch holds at most 1000 pushes, not 1001', field: null },
  ]);
  expect(refusal([])).toEqual([400, { code: 'empty', message: 'a batch must hold at least one push', field: null }]);
  for (const body of [undefined, null, { name: 'n', score: 1 }, 'x']) {
    expect(refusal(body)).toEqual([400, { code: 'invalid_body', message: 'the request body must be a JSON array of pushes', field: null }]);
  }
});
