import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { unsupportedNode } from './e2e/supported-node';

/**
 * Which Node dasy runs on (infra/node.sh; README: Node.js): the machine's when it is 22 or 24, else
 * the Node 24 npm ci installed from the npm registry. Machines with other nodes are made here from
 * stand-ins that only answer `--version`.
 */
const ROOT = path.resolve(__dirname, '..');
const NODE_SH = path.join(ROOT, 'infra', 'node.sh');

/** The node npm ci installed for this platform, of this major (node_modules/node<major>-<os>-<cpu>). */
function installed(major: number): string | undefined {
  const dir = fs.readdirSync(path.join(ROOT, 'node_modules')).find((d) => d.startsWith(`node${major}-`));
  return dir && path.join(ROOT, 'node_modules', dir, 'bin', 'node');
}

let tmp: string;
beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dasy-node-'))));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A folder holding a `node` that says it is this version. */
function fakeNode(version: string, under = ''): string {
  const dir = path.join(tmp, under, version);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'node'), `#!/bin/sh\necho v${version}\n`, { mode: 0o755 });
  return dir;
}

function nodeSh(pathDirs: string[], ...args: string[]) {
  const r = spawnSync(NODE_SH, args, { env: { PATH: [...pathDirs, '/usr/bin', '/bin'].join(':') }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

const haveBoth = installed(24) && installed(22) ? test : test.skip;

haveBoth.each([
  ['20.20.2', '', 24],
  ['26.1.0', '', 24],
  ['18.20.4', '22', 22],
  ['24.22.3', '22', 22],
  ['22.23.5', '24', 24],
])('a machine node v%s, asked for "%s": the installed Node %i', (version, want, major) => {
  expect(nodeSh([fakeNode(version)], 'path', want)).toEqual({ status: 0, stdout: installed(major), stderr: '' });
});

test.each([
  ['24.22.3', ''],
  ['22.12.0', ''],
  ['22.12.0', '22'],
  ['24.1.0', '24'],
])('a machine node v%s, asked for "%s": the machine’s', (version, want) => {
  const dir = fakeNode(version);
  expect(nodeSh([dir], 'path', want)).toEqual({ status: 0, stdout: path.join(dir, 'node'), stderr: '' });
});

// npm runs its scripts with node_modules/.bin first on PATH, where the link to the chosen node lives
haveBoth('a node inside a node_modules folder is not the machine’s', () => {
  const linked = fakeNode('22.23.5', 'node_modules');
  expect(nodeSh([linked, fakeNode('20.20.2')], 'path')).toEqual({ status: 0, stdout: installed(24), stderr: '' });
});

test('check refuses a node on PATH that dasy does not support, saying what to do', () => {
  const r = nodeSh([fakeNode('20.20.2')], 'check');
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^node: dasy needs Node\.js 22 or 24, the node on PATH is v20 \(.*\/20\.20\.2\/node\): run npm ci/);
  expect(nodeSh([fakeNode('24.22.3')], 'check', '22').stderr).toMatch(/^node: this target was asked to run on Node\.js 22 but the node on PATH is v24 /);
  expect(nodeSh([fakeNode('22.23.5')], 'check')).toEqual({ status: 0, stdout: '', stderr: '' });
});

// a platform the pinned packages do not cover: npm ci installed no node, the machine has an old one
test('npm ci where there is neither Node 24 nor 22 stops, saying what to do', () => {
  const root = path.join(tmp, 'elsewhere');
  fs.mkdirSync(path.join(root, 'infra'), { recursive: true });
  fs.mkdirSync(path.join(root, 'node_modules'));
  fs.copyFileSync(NODE_SH, path.join(root, 'infra', 'node.sh'));
  const r = spawnSync(path.join(root, 'infra', 'node.sh'), ['link'], { env: { PATH: [fakeNode('20.20.2'), '/usr/bin', '/bin'].join(':') }, encoding: 'utf8' });
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
  expect(r.stderr).toMatch(
    /^node: dasy needs Node\.js 22 or 24; the machine's node is v20 at .*\/20\.20\.2\/node and npm ci installed none for \w+\/\w+ .*: install Node\.js 24 /,
  );
  expect(fs.existsSync(path.join(root, 'node_modules', '.bin', 'node'))).toBe(false);
});

// make puts the chosen node first on PATH (NODE_MAJOR=22: the 22) and jest's workers run on it
test('the test runner runs on the Node dasy chose', () => {
  const chosen = execFileSync(NODE_SH, ['path', process.env.NODE_MAJOR ?? ''], { encoding: 'utf8' }).trim();
  expect({ runner: fs.realpathSync(process.execPath), version: process.version }).toEqual({
    runner: fs.realpathSync(chosen),
    version: execFileSync(chosen, ['--version'], { encoding: 'utf8' }).trim(),
  });
  expect(['22', '24']).toContain(process.versions.node.split('.')[0]);
});

test.each([
  ['v24.22.3', undefined],
  ['v22.23.5', undefined],
  [
    'v20.20.2',
    'the e2e suite runs on Node.js 22 or 24, but this jest runs on v20.20.2 (/usr/bin/node): run it through make (make test-e2e) or npx jest, which start node_modules/.bin/node',
  ],
  [
    'v26.0.0',
    'the e2e suite runs on Node.js 22 or 24, but this jest runs on v26.0.0 (/usr/bin/node): run it through make (make test-e2e) or npx jest, which start node_modules/.bin/node',
  ],
])('the e2e suite on %s: refused with %j', (version, refusal) => {
  expect(unsupportedNode(version, '/usr/bin/node')).toBe(refusal);
});
