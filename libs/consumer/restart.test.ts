import { createLogger } from '../log';
import { Restarter } from './restart';

const quiet = createLogger('t', 'error');

test('a crash is restarted with backoff until a start succeeds', async () => {
  let starts = 0;
  const done = new Promise<void>((resolve) => {
    const r = new Restarter({
      start: async () => {
        starts++;
        if (starts < 2) throw new Error('broker not back yet');
        resolve();
      },
      active: () => true,
      log: quiet,
    });
    r.crashed();
  });
  await done;
  expect(starts).toBe(2);
});

test('a crash while a restart is under way calls for one more restart once it ends', async () => {
  let starts = 0;
  let r!: Restarter;
  const second = new Promise<void>((resolve) => {
    r = new Restarter({
      start: async () => {
        starts++;
        if (starts === 1) r.crashed(); // the new runner crashed before start returned
        if (starts === 2) resolve();
      },
      active: () => true,
      log: quiet,
    });
  });
  r.crashed();
  await second;
  expect(starts).toBe(2);
});

test('a stopped consumer is not restarted', async () => {
  let starts = 0;
  const r = new Restarter({ start: async () => void starts++, active: () => false, log: quiet });
  r.crashed();
  await new Promise((resolve) => setTimeout(resolve, 700));
  expect(starts).toBe(0);
});
