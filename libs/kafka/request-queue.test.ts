/**
 * patches/kafkajs+2.2.4.patch, network/requestQueue: a connection's request queue keeps no timer
 * while nothing waits in it (kafkajs's re-armed a check every millisecond for as long as the
 * connection lived), and a request held back by the broker's throttling is still sent once the
 * throttle ends.
 */
import RequestQueue from 'kafkajs/src/network/requestQueue';
import { KAFKAJS_PATCH } from './kafkajs-check';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const queues: RequestQueue[] = [];

function queue(): RequestQueue {
  const q = new RequestQueue({ clientId: 'test', broker: 'localhost:9092', logger: silent, maxInFlightRequests: null, requestTimeout: 30_000 });
  queues.push(q);
  return q;
}

// an unpatched queue re-arms its timer for ever: cleared here, so that a failure ends the run
afterEach(() => queues.splice(0).forEach((q) => q.throttleCheckTimeoutId && clearTimeout(q.throttleCheckTimeoutId)));

/** A request that expects no answer: it completes as soon as it is sent. */
function request(correlationId: number, sent: number[]) {
  return {
    entry: { correlationId, apiName: 'Test', apiKey: 0, apiVersion: 0, resolve: () => undefined, reject: () => undefined },
    expectResponse: false,
    sendRequest: () => void sent.push(correlationId),
  };
}

test('the patched request queue carries the marker', () => {
  expect(RequestQueue.DASY_PATCH).toBe(KAFKAJS_PATCH);
});

test('a queue with nothing pending keeps no timer after a check', () => {
  const q = queue();
  q.checkPendingRequests();
  expect(q.throttleCheckTimeoutId).toBeNull();
  q.scheduleCheckPendingRequests();
  expect(q.throttleCheckTimeoutId).toBeNull();
});

test('a request held back by throttling is sent when the throttle ends, and the timer goes with it', async () => {
  const q = queue();
  const sent: number[] = [];
  q.maybeThrottle(40);
  q.push(request(1, sent));
  expect(sent).toEqual([]);
  expect(q.pending).toHaveLength(1);
  expect(q.throttleCheckTimeoutId).not.toBeNull();
  await new Promise((resolve) => setTimeout(resolve, 150));
  expect(sent).toEqual([1]);
  expect(q.pending).toHaveLength(0);
  expect(q.throttleCheckTimeoutId).toBeNull();
});

test('an unthrottled request is sent at once and leaves no timer', () => {
  const q = queue();
  const sent: number[] = [];
  q.push(request(7, sent));
  expect(sent).toEqual([7]);
  expect(q.throttleCheckTimeoutId).toBeNull();
});
