import { errorMessage } from '../../libs/errors';
import { Logger } from '../../libs/log';
import { OutageNotice, outageNotice } from '../../libs/resilience/outage';
import { QueueFullError, Settled, WithdrawnError } from './batcher';
import { EventProducer, Placement } from './producer';
import { ApiError } from './validate';

/**
 * Kafka did not acknowledge an event: a 503. `mayBeInKafka` says whether it may still land there
 * (it was in a send that had not come back); when false it was never sent and never will be.
 */
export class NotSentError extends ApiError {
  constructor(
    readonly mayBeInKafka: boolean,
    message: string,
  ) {
    super(503, 'unavailable', message);
  }
}

/**
 * The api's writes to Kafka, one event each, answered 503 when Kafka has not acknowledged the event
 * by the request's deadline: an event still queued then is withdrawn (never sent afterwards), and a
 * full queue answers 503 at once. That Kafka does not acknowledge is said once, and that it does
 * again once.
 */
export class EventSender {
  private readonly kafka: OutageNotice;
  private readonly waiting = new Set<Waiting>();

  constructor(
    private readonly producer: EventProducer,
    log: Logger,
    /** the deadline's length, for the 503's message */
    private readonly timeoutMs: number,
  ) {
    this.kafka = outageNotice(log, 'Kafka', 0, 0, {
      down: (reason) => `Kafka does not acknowledge (${reason}); answering 503 until it does`,
      up: 'Kafka acknowledges again',
    });
  }

  /** Send one event; rejects with NotSentError when Kafka has not acknowledged it by the deadline. */
  async send(topic: string, key: string, value: Buffer, deadline: number): Promise<Placement> {
    const [sent] = await this.sendAll(topic, [{ key, value }], deadline);
    if (sent instanceof NotSentError) throw sent;
    return sent;
  }

  /**
   * Send a group of events of one topic (a batch of pushes) with one deadline and one timer; resolves
   * once each is acknowledged or refused, or at the deadline, with each one's placement or its
   * NotSentError: an event still queued then is withdrawn (never sent afterwards).
   */
  sendAll(topic: string, events: readonly { key: string; value: Buffer }[], deadline: number): Promise<(Placement | NotSentError)[]> {
    if (!events.length) return Promise.resolve([]);
    return new Promise((resolve) => {
      const results = new Array<Placement | NotSentError | undefined>(events.length);
      let left = events.length;
      let done = false;
      let givingUp = false;
      const wait: Waiting = { deadline, timer: undefined, giveUp: () => undefined };
      const finish = () => {
        done = true;
        clearTimeout(wait.timer);
        this.waiting.delete(wait);
        resolve(results as (Placement | NotSentError)[]);
      };
      const settle = (i: number, outcome: Settled<Placement>) => {
        if (done || results[i] !== undefined) return;
        if (outcome.ok) this.kafka.ok();
        results[i] = outcome.ok
          ? outcome.value
          : this.notSent(
              givingUp && outcome.error instanceof WithdrawnError
                ? new NotSentError(false, `Kafka did not take the event in time; it was not sent and will not be: retry`)
                : outcome.error,
            );
        if (--left === 0) finish();
      };
      const queued = this.producer.sendAll(topic, events, deadline, settle);
      if (done) return; // every event refused at once (a full queue)
      wait.giveUp = () => {
        givingUp = true;
        queued.withdraw();
        if (done) return;
        // the rest were in a send that has not come back
        const late = new NotSentError(true, `Kafka did not acknowledge the event within ${this.timeoutMs / 1000} s`);
        for (let i = 0; i < results.length; i++) if (results[i] === undefined) results[i] = this.notSent(late);
        finish();
      };
      wait.timer = setTimeout(wait.giveUp, Math.max(0, deadline - Date.now()));
      this.waiting.add(wait);
    });
  }

  /** Why an event was not sent, as its request's 503; that Kafka does not acknowledge is noted (once). */
  private notSent(err: unknown): NotSentError {
    if (err instanceof QueueFullError) {
      return new NotSentError(false, `${err.maxQueued} events wait for Kafka already (DASY_API_SEND_QUEUE); this one was not sent: retry later`);
    }
    this.kafka.failed(errorMessage(err));
    if (err instanceof NotSentError) return err;
    if (err instanceof WithdrawnError) return new NotSentError(false, 'the api is stopping; the event was not sent: retry');
    return new NotSentError(true, 'the event could not be written to Kafka; it may not have been recorded, retry later');
  }

  /**
   * The api is stopping: every event not acknowledged yet is given up within `ms` rather than at
   * its request's deadline, so a stop during a Kafka outage does not wait the whole push timeout.
   */
  hurry(ms: number): void {
    const by = Date.now() + ms;
    for (const w of this.waiting) {
      if (w.deadline <= by) continue;
      clearTimeout(w.timer);
      w.timer = setTimeout(w.giveUp, ms);
    }
  }
}

/** An event waiting for Kafka's acknowledgement, and how its request gives up on it. */
interface Waiting {
  deadline: number;
  timer: NodeJS.Timeout | undefined;
  giveUp: () => void;
}
