import { createLogger } from '../log';
import { exitOnUnhandledRejection } from './main';

describe('an unhandled rejection', () => {
  test('is said once, naming the part, and ends the process with exit 1 (its supervisor restarts it)', () => {
    const lines: string[] = [];
    const exits: number[] = [];
    const handler = exitOnUnhandledRejection(
      createLogger('dasy products-consumer', 'warn', (l) => lines.push(l.replace(/^\S+ /, '').replace(/ \{.*$/, ''))),
      (code) => exits.push(code),
    );
    handler(new Error('the fetch loop died'));
    expect({ lines, exits }).toEqual({
      lines: ['ERROR dasy products-consumer: unhandled rejection: the fetch loop died; exiting so that it is restarted'],
      exits: [1],
    });
  });
});
