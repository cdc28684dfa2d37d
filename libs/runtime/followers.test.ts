import type { BatchConsumer } from '../consumer';
import type { Component } from './component';
import { relayAndRecounts } from './followers';

/** A part that logs its start and stop, each settling when the test says (`release`). */
function part(name: string, log: string[], consumers: BatchConsumer[] = []) {
  const waiting: (() => void)[] = [];
  const step = (what: string) => () =>
    new Promise<void>((resolve) => {
      log.push(`${name} ${what}`);
      waiting.push(resolve);
    });
  const component: Component = { start: step('start'), stop: step('stop'), consumers };
  return { component, release: () => waiting.splice(0).forEach((r) => r()) };
}

const tick = () => new Promise((r) => setImmediate(r));

test('the relay has started before any recount starts; all stop at once; the recounts are its consumers', async () => {
  const log: string[] = [];
  const a = {} as BatchConsumer;
  const b = {} as BatchConsumer;
  const relay = part('relay', log);
  const first = part('first', log, [a]);
  const second = part('second', log, [b]);
  const followers = relayAndRecounts(relay.component, [first.component, second.component]);
  expect(followers.consumers).toEqual([a, b]);

  const started = followers.start();
  await tick();
  expect(log).toEqual(['relay start']);
  relay.release();
  await tick();
  expect(log).toEqual(['relay start', 'first start', 'second start']);
  first.release();
  second.release();
  await started;

  const stopped = followers.stop();
  expect(log.slice(3)).toEqual(['relay stop', 'first stop', 'second stop']);
  [relay, first, second].forEach((p) => p.release());
  await stopped;
});
