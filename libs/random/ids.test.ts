import { randomId } from './ids';

test('ids are 22 base64url characters (128 bits), all distinct across refills of the pool', () => {
  // 1,000 ids: the pool (256 ids) is refilled three times on the way
  const ids = Array.from({ length: 1000 }, () => randomId());
  for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  expect(new Set(ids).size).toBe(1000);
  // 128 random bits each: every one of the 16 bytes varies across ids
  const bytes = ids.map((id) => Buffer.from(id, 'base64url'));
  for (let i = 0; i < 16; i++) expect(new Set(bytes.map((b) => b[i])).size).toBeGreaterThan(100);
});
