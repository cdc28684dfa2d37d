/**
 * A namespaced logger writing one line per event to stderr. Normal operation logs nothing:
 * the default level is `warn` (DASY_LOG_LEVEL=info|debug for more). Progress for humans is a
 * separate concern (libs/progress), shown only on a TTY.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  debug(message: string, extra?: Record<string, unknown>): void;
  namespace(name: string): Logger;
  readonly level: LogLevel;
}

export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.toLowerCase();
  return v in ORDER ? (v as LogLevel) : undefined;
}

export function createLogger(
  name = 'dasy',
  level: LogLevel = parseLogLevel(process.env.DASY_LOG_LEVEL) ?? 'warn',
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
    return JSON.stringify(value, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message } : v));
  } catch {
    return '[unserialisable]';
  }
}
