/** Typed configuration from the environment (settings.ts), strict parsers (parse.ts). */
export { describeSettings, IDLE_IN_TRANSACTION_DEFAULT_MS, loadConfig, SETTINGS } from './settings';
export { DEV_SETTINGS, loadDevConfig } from './dev-settings';
export type { DevConfig } from './dev-settings';
export type { DasyConfig, Setting } from './settings';
export {
  databaseName,
  DEFAULTS,
  parseBrokers,
  parseConsumerTuning,
  parseInteger,
  parseLogLevel,
  parseOnOff,
  parsePort,
  parsePositiveInt,
  withDatabase,
} from './parse';
export type { ConsumerTuning, LogLevel } from './parse';
export { intOption } from './cli';
