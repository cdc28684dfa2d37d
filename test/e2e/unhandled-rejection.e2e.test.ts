import { spawn } from 'child_process';
import * as path from 'path';
import { ROOT } from './harness';

/**
 * A part whose loop died on a promise nobody awaited ends with exit 1, so that its supervisor
 * restarts it, instead of staying up doing nothing (libs/runtime/main.ts). The process here is
 * dasy's own entry (runMain, the built code) with a timer that would keep it up forever.
 */
test('an unhandled rejection ends the process with exit 1 and one error line naming the part', async () => {
  const main = path.join(ROOT, 'dist', 'libs', 'runtime', 'main.js');
  const script = `
    const { runMain } = require(${JSON.stringify(main)});
    runMain(async () => {
      setInterval(() => undefined, 60_000); // what a live consumer's sockets do: keep the process up
      void Promise.reject(new Error('the fetch loop died'));
      await new Promise(() => undefined);
    });`;
  const child = spawn(process.execPath, ['-e', script, 'dasy', 'products-consumer'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const gaveUp = setTimeout(() => child.kill('SIGKILL'), 20_000); // still up: the bug this test is about
  const { code, signal } = await exited;
  clearTimeout(gaveUp);
  const lines = stderr
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^\S+ /, '').replace(/ \{.*$/, ''));
  expect({ code, signal, lines }).toEqual({
    code: 1,
    signal: null,
    lines: ['ERROR dasy products-consumer: unhandled rejection: the fetch loop died; exiting so that it is restarted'],
  });
});
