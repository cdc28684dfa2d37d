import { errorMessage } from '../../libs/errors';
import { Logger } from '../../libs/log';
import { EventProducer, Placement } from './producer';
import { ApiError } from './validate';

/**
 * The api's writes to Kafka, one event each, answered 503 when Kafka has not acknowledged the event
 * by the request's deadline. That Kafka does not acknowledge is said once, and that it does again once.
 */
export class EventSender {
  private kafkaDown = false;

  constructor(
    private readonly producer: EventProducer,
    private readonly log: Logger,
    /** the deadline's length, for the 503's message */
    private readonly timeoutMs: number,
  ) {}

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
      if (this.kafkaDown) {
        this.kafkaDown = false;
        this.log.warn('Kafka acknowledges again');
      }
      return placement;
    } catch (err) {
      if (!this.kafkaDown) this.log.warn(`Kafka does not acknowledge (${errorMessage(err)}); answering 503 until it does`);
      this.kafkaDown = true;
      if (err instanceof ApiError) throw err;
      throw new ApiError(503, 'unavailable', 'the event could not be written to Kafka; it may not have been recorded, retry later');
    } finally {
      clearTimeout(timer);
    }
  }
}
