import { errorMessage } from '../../libs/errors';
import { Logger } from '../../libs/log';
import { OutageNotice, outageNotice } from '../../libs/runtime/outage';
import { EventProducer, Placement } from './producer';
import { ApiError } from './validate';

/**
 * The api's writes to Kafka, one event each, answered 503 when Kafka has not acknowledged the event
 * by the request's deadline. That Kafka does not acknowledge is said once, and that it does again once.
 */
export class EventSender {
  private readonly kafka: OutageNotice;

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

  /** Send one event; answers 503 when Kafka has not acknowledged it by the deadline. */
  async send(topic: string, key: string, value: Buffer, deadline: number): Promise<Placement> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ApiError(503, 'unavailable', `Kafka did not acknowledge the event within ${this.timeoutMs / 1000} s; it may still be recorded`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      const placement = await Promise.race([this.producer.send(topic, key, value), late]);
      this.kafka.ok();
      return placement;
    } catch (err) {
      this.kafka.failed(errorMessage(err));
      if (err instanceof ApiError) throw err;
      throw new ApiError(503, 'unavailable', 'the event could not be written to Kafka; it may not have been recorded, retry later');
    } finally {
      clearTimeout(timer);
    }
  }
}
