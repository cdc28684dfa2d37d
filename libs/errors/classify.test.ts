import { DatabaseError } from 'pg';
import { asDbError } from '../db/pool';
import { StoredOffsetMismatch } from '../db/offsets';
import { classify, isRetriable, sqlState } from './classify';
import { DasyError, KafkaError, PoisonMessageError, StoppedError, UnavailableError } from './index';

function pgError(code: string): DatabaseError {
  const e = new DatabaseError('server says no', 0, 'error');
  e.code = code;
  return e;
}

describe('classify: by class and code, never by message', () => {
  test.each([
    ['40001', 'postgresql-unavailable'], // serialization failure: retry the transaction
    ['40P01', 'postgresql-unavailable'], // deadlock
    ['57P01', 'postgresql-unavailable'], // admin shutdown
    ['08006', 'postgresql-unavailable'], // connection failure
    ['53300', 'postgresql-unavailable'], // too many connections
    ['22021', 'data'], // invalid byte sequence
    ['22003', 'data'], // numeric value out of range
    ['23505', 'data'], // unique violation
    ['23514', 'data'], // check violation
    ['22001', 'data'], // string too long for varchar(n)
    ['54000', 'data'], // program limit: index row size over the btree's maximum
    ['54001', 'data'], // statement too complex
    ['21000', 'fatal'], // a statement touching a row twice: a bug of the batch, retried
    ['57014', 'fatal'], // cancelled (statement_timeout): load, not the message
    ['XX000', 'fatal'], // internal error
    ['42804', 'fatal'], // datatype mismatch: a bug, the same for every message
    ['42P01', 'schema'], // undefined table
    ['3F000', 'schema'], // undefined schema
    ['42601', 'fatal'], // syntax error: a bug
    ['28P01', 'fatal'], // password refused: waiting will not help
  ])('PostgreSQL %s is %s', (code, failure) => {
    expect(classify(pgError(code))).toBe(failure);
    expect(sqlState(pgError(code))).toBe(code);
  });

  test('what the driver raises without a code is a lost connection, made so at the pool boundary', () => {
    const lost = asDbError(new Error('Connection terminated unexpectedly'));
    expect(lost).toBeInstanceOf(UnavailableError);
    expect(classify(lost)).toBe('postgresql-unavailable');
    // the server's answers and the caller's own bugs pass unchanged
    const answer = pgError('23505');
    expect(asDbError(answer)).toBe(answer);
    const bug = new TypeError('x is not a function');
    expect(asDbError(bug)).toBe(bug);
    expect(classify(bug)).toBe('fatal');
    // a refused socket (Node's system error) is a lost connection too
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect' });
    expect(classify(refused)).toBe('postgresql-unavailable');
    expect(classify(asDbError(refused))).toBe('postgresql-unavailable');
  });

  test("the Kafka port's errors: by their retriable flag (made from the client's at the port, libs/kafka/errors.ts)", () => {
    expect(classify(new KafkaError('Connection error', { cause: undefined, retriable: true }))).toBe('kafka-unavailable');
    expect(classify(new KafkaError('too large', { cause: undefined, retriable: false, type: 'MESSAGE_TOO_LARGE' }))).toBe('fatal');
    expect(classify(new UnavailableError('Kafka did not acknowledge', new KafkaError('timed out', { cause: undefined, retriable: true })))).toBe(
      'kafka-unavailable',
    );
  });

  test("dasy's own errors say what they are", () => {
    expect(classify(new StoredOffsetMismatch({ group: 'g', topic: 't', partition: 0 }, 5n, 7n))).toBe('fenced');
    expect(classify(new StoppedError('stopped'))).toBe('stopped');
    expect(classify(new PoisonMessageError('not JSON'))).toBe('data');
    expect(classify(new UnavailableError('down', undefined, 'kafka'))).toBe('kafka-unavailable');
    expect(classify(new UnavailableError('wrapped', pgError('57P01')))).toBe('postgresql-unavailable');
    expect(classify(new UnavailableError('wrapped', pgError('28P01')))).toBe('fatal');
    expect(classify(new DasyError('a bug'))).toBe('fatal');
    expect(classify('a string')).toBe('fatal');
    expect([isRetriable(new UnavailableError('down', undefined, 'postgresql')), isRetriable(new DasyError('bug'))]).toEqual([true, false]);
  });
});
