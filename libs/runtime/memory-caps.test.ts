import { applyOwnCaps, capsOf, missingCapFlags } from './memory-caps';

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

describe('applyOwnCaps', () => {
  const saved = {
    execve: Object.getOwnPropertyDescriptor(process, 'execve'),
    execArgv: process.execArgv,
    argv: process.argv,
    nodeOptions: process.env.NODE_OPTIONS,
  };
  let calls: { file: string; args: readonly string[] }[];
  beforeEach(() => {
    calls = [];
    process.execArgv = ['--enable-source-maps'];
    process.argv = ['/bin/node', '/dasy/main.js', 'product-count', '--quiet-ms', '5'];
    delete process.env.NODE_OPTIONS;
    process.execve = ((file: string, args: readonly string[]) => void calls.push({ file, args })) as typeof process.execve;
  });
  afterEach(() => {
    if (saved.execve) Object.defineProperty(process, 'execve', saved.execve);
    Object.assign(process, { execArgv: saved.execArgv, argv: saved.argv });
    if (saved.nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved.nodeOptions;
  });

  test('starts this process again with its own options, the missing caps, then its script and arguments', () => {
    applyOwnCaps({ semiSpaceMb: 16, heapMb: 256 });
    expect(calls).toEqual([
      {
        file: process.execPath,
        args: [
          process.execPath,
          '--enable-source-maps',
          '--max-semi-space-size=16',
          '--max-old-space-size=256',
          '/dasy/main.js',
          'product-count',
          '--quiet-ms',
          '5',
        ],
      },
    ]);
  });

  test('not when NODE_OPTIONS sets both sizes', () => {
    process.env.NODE_OPTIONS = '--max-semi-space-size=8  --max-old-space-size=300';
    applyOwnCaps({ semiSpaceMb: 16, heapMb: 256 });
    expect(calls).toEqual([]);
  });

  test('an exec that fails leaves the command running, uncapped', () => {
    process.execve = () => {
      throw new Error('ENOENT');
    };
    expect(() => applyOwnCaps({ heapMb: 256 })).not.toThrow();
  });
});
