import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { classify } from '../errors/classify';
import { KafkaError, PoisonMessageError } from '../errors';
import { fromClientError, withClientErrors } from './errors';

const failure = (err: unknown) => classify(fromClientError(err));

// Built as kafkajs builds them (src/cluster/index.js, src/retry/index.js); its typings declare
// narrower constructors than its errors.js has.
const GroupCoordinatorNotFound = KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => KafkaJSGroupCoordinatorNotFound;
const NonRetriableError = KafkaJSNonRetriableError as unknown as new (e: Error, options: { cause: Error }) => KafkaJSNonRetriableError;

describe("the port's boundary: kafkajs's errors become dasy's KafkaError, by class, flag and protocol type", () => {
  test('an unreachable or not-ready cluster, whatever its own retriable flag says', () => {
    expect(failure(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBe('kafka-unavailable');
    expect(failure(new KafkaJSRequestTimeoutError('Request Produce timed out'))).toBe('kafka-unavailable');
    expect(failure(new GroupCoordinatorNotFound('Failed to find group coordinator'))).toBe('kafka-unavailable');
    const cause = new KafkaJSConnectionError('Connection error');
    expect(failure(new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 1000 }))).toBe('kafka-unavailable');
    // a non-retriable wrapper of a retriable cause
    expect(failure(new NonRetriableError(cause, { cause }))).toBe('kafka-unavailable');
    // the rest by their own flag
    expect([failure(new KafkaJSError('x', { retriable: true })), failure(new KafkaJSError('x', { retriable: false }))]).toEqual(['kafka-unavailable', 'fatal']);
  });

  test("the protocol's own retriable codes (leader moving) versus a refused request, with its type", () => {
    const moving = fromClientError(
      new KafkaJSProtocolError({ message: 'not the leader', type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true } as never),
    );
    const refused = fromClientError(new KafkaJSProtocolError({ message: 'too large', type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false } as never));
    expect([moving, refused].map((e) => [e instanceof KafkaError, (e as KafkaError).type, classify(e)])).toEqual([
      [true, 'NOT_LEADER_FOR_PARTITION', 'kafka-unavailable'],
      [true, 'MESSAGE_TOO_LARGE', 'fatal'],
    ]);
  });

  test('what is not the client’s passes unchanged; a raw kafkajs error is not classified outside the port', () => {
    const own = new PoisonMessageError('bad');
    const bug = new TypeError('bug');
    expect([fromClientError(own), fromClientError(bug)]).toEqual([own, bug]);
    expect(classify(new KafkaJSConnectionError('Connection error'))).toBe('fatal');
  });

  test("an object's methods answer with dasy's errors, sync or async", async () => {
    const client = {
      value: 3,
      ask: () => Promise.reject(new KafkaJSConnectionError('refused')),
      now: () => {
        throw new KafkaJSProtocolError({ message: 'no', type: 'TOPIC_ALREADY_EXISTS', code: 36, retriable: false } as never);
      },
    };
    const port = withClientErrors(client);
    expect(port.value).toBe(3);
    await expect(port.ask()).rejects.toBeInstanceOf(KafkaError);
    expect(() => port.now()).toThrow(KafkaError);
  });
});
