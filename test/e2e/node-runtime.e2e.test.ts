import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createTestEnv, freePort, ROOT, startCli, TestEnv, waitFor } from './harness';

/**
 * Every dasy process runs on the Node dasy chose (infra/node.sh; README: Node.js), whichever
 * `node` the caller's PATH holds: started by make or by the `dasy` command from a shell whose PATH
 * has only the machine's node, the CLI and every part it forks run on the machine's node when it is
 * 22 or 24, else on the Node 24 npm ci installed; and so does the CLI the e2e tests start. Read
 * from the running processes' binaries (/proc/<pid>/exe), as a user would check them.
 */
const NODE_SH = path.join(ROOT, 'infra', 'node.sh');
const CLI_SUFFIX = path.join('dist', 'apps', 'cli', 'main.js');

let t: TestEnv;
let env: NodeJS.ProcessEnv;
let expected: { binary: string; major: string };
beforeAll(async () => {
  t = await createTestEnv('noderuntime');
  // a user's shell: the machine's PATH, without the node_modules folders npm or make put first
  const PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((d) => !d.includes('/node_modules/'))
    .join(':');
  env = { ...t.env, PATH, NODE_MAJOR: '' };
  const machine = execFileSync('bash', ['-c', 'command -v node >/dev/null && node --version || true'], { env, encoding: 'utf8' });
  const machineMajor = /^v(\d+)\./.exec(machine)?.[1];
  const binary = execFileSync(NODE_SH, ['path'], { env, encoding: 'utf8' }).trim();
  expected = { binary: fs.realpathSync(binary), major: machineMajor === '22' || machineMajor === '24' ? machineMajor : '24' };
});
afterAll(async () => t?.cleanup());

/** The processes started by `pid` and their own, all the way down, pid included. */
function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      // the parent pid is the second field after the command's parenthesised name
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // it exited meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]) ?? []));
  return tree;
}

/** The dasy processes of the tree (an argument is the CLI), each with its binary and version. */
function dasyProcesses(pid: number) {
  return processTree(pid).flatMap((p) => {
    const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0$/, '').split('\0');
    if (!argv.slice(1).some((a) => a.endsWith(CLI_SUFFIX))) return [];
    const binary = fs.readlinkSync(`/proc/${p}/exe`);
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    return [{ command: argv.slice(argv.findIndex((a) => a.endsWith(CLI_SUFFIX)) + 1).join(' '), binary, major: /^v(\d+)\./.exec(version)?.[1] }];
  });
}

/** A started command: its process, what it printed so far, its exit, and how to stop it and its parts. */
interface Launched {
  child: ChildProcess;
  output(): string;
  exited: Promise<unknown>;
  stop(): void;
}

/** As a user's shell starts it: its own process group, the PATH above. */
function fromShell(command: string, args: string[], port: number): Launched {
  const child = spawn(command, args, { cwd: ROOT, env: { ...env, PORT: String(port) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return { child, output: () => out, exited, stop: () => process.kill(-child.pid!, 'SIGTERM') }; // make and what it started
}

/** As the e2e tests start the CLI (test/e2e/harness.ts). */
function fromHarness(args: string[], port: number): Launched {
  const cli = startCli(t, args, { PORT: String(port) });
  return { child: cli.child, output: () => cli.stdout() + cli.stderr(), exited: cli.exited, stop: () => cli.child.kill('SIGTERM') };
}

const products = ['products-consumer --consumers 2', 'products-consumer --consumers 1', 'products-consumer --consumers 1'];
const make =
  (...args: string[]) =>
  (port: number) =>
    fromShell('make', ['-s', '--no-print-directory', ...args], port);
const dasy =
  (...args: string[]) =>
  (port: number) =>
    fromShell(path.join(ROOT, 'bin', 'dasy'), args, port);
const harness =
  (...args: string[]) =>
  (port: number) =>
    fromHarness(args, port);

test.each([
  ['make products-consumer CONSUMERS=2', make('products-consumer', 'CONSUMERS=2'), products, /running in group/g, 2],
  ['dasy products-consumer --consumers 2', dasy('products-consumer', '--consumers', '2'), products, /running in group/g, 2],
  ['make api', make('api'), ['api'], /api listening on/g, 1],
  ['the tests’ dasy products-consumer --consumers 2', harness('products-consumer', '--consumers', '2'), products, /running in group/g, 2],
])('%s: every process on the chosen Node', async (name, launch, commands, readyLine, readyCount) => {
  const started = launch(await freePort());
  try {
    await waitFor(
      `${name} to start`,
      async () => {
        if (started.child.exitCode !== null) throw new Error(`it exited (${started.child.exitCode}): ${started.output()}`);
        return (started.output().match(readyLine)?.length ?? 0) >= readyCount;
      },
      90000,
      100,
    );
    const running = dasyProcesses(started.child.pid!);
    expect(running.map((p) => p.command).sort()).toEqual([...commands].sort());
    for (const p of running) expect({ command: p.command, binary: p.binary, major: p.major }).toEqual({ command: p.command, ...expected });
  } finally {
    if (started.child.exitCode === null && started.child.signalCode === null) started.stop();
    await started.exited;
  }
});
