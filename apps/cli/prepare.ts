import type { DasyConfig } from '../../libs/config';
import type { Logger } from '../../libs/log';

/** apps/stack's prepare (topics and migrations), loaded when a command first needs it. */
export async function prepare(config: DasyConfig, logger: Logger): Promise<void> {
  await (await import('../stack')).prepare(config, logger);
}
