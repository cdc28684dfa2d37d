import { decodeProductValue, encodeProductValue } from './product-value';

test('a product value round-trips, whatever its characters (but NUL)', () => {
  for (const [name, description] of [
    ['Blue Mug', 'A mug, "blue"; 250 ml\nDishwasher safe'],
    ['Ünïcødé ☕', ''],
    ['x', '𝄞 emoji 🎉 and CJK 漢字'],
  ]) {
    const value = encodeProductValue(name, description);
    expect(value[0]).toBe(1);
    const decoded = decodeProductValue(value);
    expect({ name: decoded.name.toString('utf8'), description: decoded.description.toString('utf8') }).toEqual({ name, description });
  }
});

test('a value that cannot be one is refused with a reason (a dead letter, not a crash)', () => {
  const bad = (bytes: number[]) => () => decodeProductValue(Buffer.from(bytes));
  expect(bad([2, 65, 0, 66])).toThrow('unknown value format 2');
  expect(bad([1, 65, 66])).toThrow('value has no end of name');
  expect(bad([1, 65, 0, 66, 0, 67])).toThrow('description holds a NUL character');
  expect(bad([1, 0xff, 0xfe, 0, 66])).toThrow('value is not valid UTF-8');
});
