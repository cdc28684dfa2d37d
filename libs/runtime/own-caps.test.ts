import { capsOf, missingCapFlags } from './own-caps';

const heapMbOf = (command: string) => ({ 'product-count-consumer': 192, 'product-count': 256 })[command];

describe('capsOf', () => {
  test.each([
    ['product-count-consumer', { semiSpaceMb: 16, heapMb: 192 }],
    ['product-count', { semiSpaceMb: 16, heapMb: 256 }],
    ['ingest', { semiSpaceMb: 16 }],
    ['delete', { semiSpaceMb: 16 }],
    ['products-producer', { semiSpaceMb: 16 }],
    ['products-consumer', {}],
    ['api', {}],
    ['--help', {}],
    [undefined, {}],
  ])('%s runs with %j', (command, caps) => {
    expect(capsOf(command, heapMbOf)).toEqual(caps);
  });
});

describe('missingCapFlags', () => {
  test('both flags when no option sets a size', () => {
    expect(missingCapFlags({ semiSpaceMb: 16, heapMb: 192 }, ['--enable-source-maps'])).toEqual(['--max-semi-space-size=16', '--max-old-space-size=192']);
  });
  test('a size the options set already wins, the other cap is added', () => {
    expect(missingCapFlags({ semiSpaceMb: 16, heapMb: 192 }, ['--max-old-space-size=300'])).toEqual(['--max-semi-space-size=16']);
    expect(missingCapFlags({ semiSpaceMb: 16, heapMb: 192 }, ['--max-semi-space-size=64'])).toEqual(['--max-old-space-size=192']);
  });
  test('nothing once both are set (the process started again with them), nor for a command without caps', () => {
    expect(missingCapFlags({ semiSpaceMb: 16, heapMb: 192 }, ['--max-semi-space-size=16', '--max-old-space-size=192'])).toEqual([]);
    expect(missingCapFlags({}, [])).toEqual([]);
  });
});
