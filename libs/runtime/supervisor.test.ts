import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createLogger } from '../log';
import { RestartPolicy } from './restart-policy';
import { PART_SEMI_SPACE_MB } from './memory-caps';
import { childExecArgv, Replica, restartWhen, streamingExecArgv } from './supervisor';
import { productCountConsumer, productCountFollowers, productCountRelay } from '../../apps/components';

/** This process's Node options without a semi-space size, and a call made as if they were `argv`. */
const own = process.execArgv.filter((flag) => !flag.startsWith('--max-semi-space-size'));
const withFlags = (argv: string[], fn: () => string[]) => {
  const saved = process.execArgv;
  process.execArgv = argv;
  try {
    return fn();
  } finally {
    process.execArgv = saved;
  }
};

describe('childExecArgv', () => {
  it("keeps this process's Node options and caps the parts' semi-spaces when the part declares no heap cap", () => {
    expect(withFlags(own, () => childExecArgv(undefined))).toEqual([...own, `--max-semi-space-size=${PART_SEMI_SPACE_MB}`]);
  });

  it('adds the heap cap last, so that it wins over one this process was started with', () => {
    expect(withFlags(own, () => childExecArgv(192))).toEqual([...own, '--max-semi-space-size=16', '--max-old-space-size=192']);
  });

  it('leaves a semi-space size this process was started with to the part', () => {
    expect(withFlags(['--max-semi-space-size=64'], () => childExecArgv(undefined))).toEqual(['--max-semi-space-size=64']);
  });

  it('is declared for the product-count consumer and the relay, whose working sets are a few fetches or pages of names, and for the process of both', () => {
    expect([productCountConsumer.heapMb, productCountRelay.heapMb, productCountFollowers.heapMb]).toEqual([192, 192, 256]);
  });
});

describe('streamingExecArgv', () => {
  it('caps the semi-spaces of the commands that stream a file, and only theirs', () => {
    for (const command of ['ingest', 'delete', 'products-producer']) {
      expect(withFlags(own, () => streamingExecArgv(command))).toEqual([...own, '--max-semi-space-size=16']);
    }
    for (const command of ['api', 'rebuild', 'status', 'products-consumer']) expect(withFlags(own, () => streamingExecArgv(command))).toEqual(own);
  });

  it('leaves a semi-space size this process was started with', () => {
    expect(withFlags(['--max-semi-space-size=64'], () => streamingExecArgv('ingest'))).toEqual(['--max-semi-space-size=64']);
  });
});

describe('Replica restarts', () => {
  /** A part that dies by a signal as soon as it starts (as one that hits its heap cap at once does), `lives` times. */
  async function restartLines(kill: string, lives: number): Promise<string[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dasy-replica-'));
    const script = path.join(dir, 'part.js');
    const starts = path.join(dir, 'starts');
    fs.writeFileSync(script, `require('fs').appendFileSync(${JSON.stringify(starts)}, Date.now() + '\\n'); ${kill}`);
    const lines: string[] = [];
    let replica: Replica | undefined;
    const enough = new Promise<void>((resolve) => {
      const logger = createLogger('t', 'warn', (l) => {
        lines.push(l.replace(/^\S+ /, ''));
        if (lines.length === lives) resolve();
      });
      // each backoff at its ceiling: 200, 400, 800 ms
      replica = new Replica(
        { args: ['part'] },
        { logger, prepared: () => false, cli: script, restarts: new RestartPolicy({ initialMs: 200, random: () => 0.9999 }) },
      );
    });
    await enough;
    await replica!.stop();
    // it did wait that long between one life and the next (a lower bound: the fork takes time too)
    const at = fs.readFileSync(starts, 'utf8').trim().split('\n').map(Number);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    expect(gaps.map((g, i) => g >= [0, 199, 399, 799][i])).toEqual(gaps.map(() => true));
    fs.rmSync(dir, { recursive: true, force: true });
    return lines;
  }

  it('restarts a part that keeps dying by a signal soon after its start with growing backoff, the first time at once', async () => {
    expect(await restartLines("process.kill(process.pid, 'SIGKILL');", 4)).toEqual([
      'WARN t: part exited (SIGKILL); restarting it at once',
      'WARN t: part exited (SIGKILL); restarting it in 199 ms',
      'WARN t: part exited (SIGKILL); restarting it in 399 ms',
      'WARN t: part exited (SIGKILL); restarting it in 799 ms',
    ]);
  });

  it('does the same for a part that exits with an error code', async () => {
    expect(await restartLines('process.exit(1);', 3)).toEqual([
      'WARN t: part exited (1); restarting it at once',
      'WARN t: part exited (1); restarting it in 199 ms',
      'WARN t: part exited (1); restarting it in 399 ms',
    ]);
  });
});

test('the supervisor says when a part is restarted', () => {
  expect([0, 240, 999, 1000, 2449, 10_000].map(restartWhen)).toEqual(['at once', 'in 240 ms', 'in 999 ms', 'in 1.0 s', 'in 2.4 s', 'in 10.0 s']);
});
