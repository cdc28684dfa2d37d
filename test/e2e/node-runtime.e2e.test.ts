import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createTestEnv, freePort, ROOT, TestEnv, waitFor } from './harness';

/**
 * Every dasy process runs on the Node dasy chose (infra/node.sh; README: Node.js), whichever
 * `node` the caller's PATH holds: started by make or by the `dasy` command from a shell whose PATH
 * has only the machine's node, the CLI and every part it forks run on the machine's node when it is
 * 22 or 24, else on the Node 24 npm ci installed. Read from the running processes' binaries
 * (/proc/<pid>/exe), as a user would check them.
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

async function stop(child: ChildProcess, exited: Promise<unknown>) {
  if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM'); // its group: make and what it started
  await exited;
}

const products = ['products-consumer --consumers 2', 'products-consumer --consumers 1', 'products-consumer --consumers 1'];

test.each([
  ['make products-consumer CONSUMERS=2', 'make', ['-s', '--no-print-directory', 'products-consumer', 'CONSUMERS=2'], products, /running in group/g, 2],
  ['dasy products-consumer --consumers 2', path.join(ROOT, 'bin', 'dasy'), ['products-consumer', '--consumers', '2'], products, /running in group/g, 2],
  ['make api', 'make', ['-s', '--no-print-directory', 'api'], ['api'], /api listening on/g, 1],
])('%s: every process on the chosen Node', async (_name, command, args, commands, readyLine, readyCount) => {
  const child = spawn(command, args, { cwd: ROOT, env: { ...env, PORT: String(await freePort()) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    await waitFor(
      `${_name} to start`,
      async () => {
        if (child.exitCode !== null) throw new Error(`it exited (${child.exitCode}): ${out}`);
        return (out.match(readyLine)?.length ?? 0) >= readyCount;
      },
      90000,
      100,
    );
    const running = dasyProcesses(child.pid!);
    expect(running.map((p) => p.command).sort()).toEqual([...commands].sort());
    for (const p of running) expect({ command: p.command, binary: p.binary, major: p.major }).toEqual({ command: p.command, ...expected });
  } finally {
    await stop(child, exited);
  }
});
