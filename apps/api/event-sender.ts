import { errorMessage } from '../../libs/errors';
import { Logger } from '../../libs/log';
import { OutageNotice, outageNotice } from '../../libs/resilience/outage';
import { QueueFullError, WithdrawnError } from './batcher';
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
    const queued = this.producer.send(topic, key, value, deadline);
    const wait: Waiting = { deadline, timer: undefined, giveUp: () => undefined };
    const late = new Promise<never>((_, reject) => {
      wait.giveUp = () => {
        const neverSent = queued.withdraw();
        reject(
          new NotSentError(
            !neverSent,
            neverSent
              ? `Kafka did not take the event in time; it was not sent and will not be: retry`
              : `Kafka did not acknowledge the event within ${this.timeoutMs / 1000} s`,
          ),
        );
      };
      wait.timer = setTimeout(wait.giveUp, Math.max(0, deadline - Date.now()));
    });
    queued.result.catch(() => undefined); // a withdrawn event's rejection is answered by `late`
    this.waiting.add(wait);
    try {
      const placement = await Promise.race([queued.result, late]);
      this.kafka.ok();
      return placement;
    } catch (err) {
      if (err instanceof QueueFullError) {
        throw new NotSentError(false, `${err.maxQueued} events wait for Kafka already (DASY_API_SEND_QUEUE); this one was not sent: retry later`);
      }
      this.kafka.failed(errorMessage(err));
      if (err instanceof ApiError) throw err;
      if (err instanceof WithdrawnError) throw new NotSentError(false, 'the api is stopping; the event was not sent: retry');
      throw new NotSentError(true, 'the event could not be written to Kafka; it may not have been recorded, retry later');
    } finally {
      clearTimeout(wait.timer);
      this.waiting.delete(wait);
    }
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
