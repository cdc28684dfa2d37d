/**
 * A namespaced logger writing one line per event to stderr. Normal operation logs nothing:
 * the default level is `warn` (DASY_LOG_LEVEL=info|debug for more). Progress for humans is a
 * separate concern (libs/progress), shown only on a TTY.
 */
import { LogLevel } from '../config/parse';
import { SETTINGS } from '../config/settings';

export type { LogLevel };
const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  debug(message: string, extra?: Record<string, unknown>): void;
  namespace(name: string): Logger;
  readonly level: LogLevel;
}

/** DASY_LOG_LEVEL; a bad value is refused by loadConfig at start (one line), so here it falls back. */
function configuredLevel(): LogLevel {
  try {
    return SETTINGS.logLevel.parse(process.env[SETTINGS.logLevel.variable]);
  } catch {
    return 'warn';
  }
}

export function createLogger(
  name = 'dasy',
  level: LogLevel = configuredLevel(),
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const emit = (at: LogLevel, message: string, extra?: Record<string, unknown>) => {
    if (ORDER[at] > ORDER[level]) return;
    let line = `${new Date().toISOString()} ${at.toUpperCase()} ${name}: ${message}`;
    if (extra && Object.keys(extra).length) line += ' ' + safeJson(extra);
    write(line);
  };
  return {
    level,
    error: (m, e) => emit('error', m, e),
    warn: (m, e) => emit('warn', m, e),
    info: (m, e) => emit('info', m, e),
    debug: (m, e) => emit('debug', m, e),
    namespace: (sub) => createLogger(`${name}:${sub}`, level, write),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v));
  } catch {
    return '[unserialisable]';
  }
}
