/**
 * The logging port. Every part receives a `Logger` by injection rather than importing a global
 * one, so tests can hand in `memoryLogger()` and assert on what was said, and only the daemon
 * decides where logs go (see `daemon/logger.ts`).
 */

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogMeta = Record<string, unknown>;

export interface Logger {
  error(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  debug(message: string, meta?: LogMeta): void;
  /** A logger that adds `meta` to every entry (e.g. `{ follower: 'follower/logs' }`). */
  child(meta: LogMeta): Logger;
}

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

const noop = (): void => {};

/** Discards everything: for code paths and tests that do not care about logs. */
export const silentLogger: Logger = {
  error: noop,
  warn: noop,
  info: noop,
  debug: noop,
  child: () => silentLogger,
};

export interface LogEntry {
  readonly level: LogLevel;
  readonly message: string;
  /** The child loggers' meta merged with the call's meta (the call's keys win). */
  readonly meta: LogMeta;
}

export interface MemoryLogger extends Logger {
  /** Every entry from this logger and all its children, oldest first. */
  readonly entries: LogEntry[];
  clear(): void;
}

/** Records entries in memory, for tests. Children share the parent's `entries`. */
export function memoryLogger(): MemoryLogger {
  const entries: LogEntry[] = [];
  const make = (bound: LogMeta): Logger => {
    const log = (level: LogLevel) => (message: string, meta?: LogMeta): void => {
      entries.push({ level, message, meta: { ...bound, ...meta } });
    };
    return {
      error: log('error'),
      warn: log('warn'),
      info: log('info'),
      debug: log('debug'),
      child: (meta) => make({ ...bound, ...meta }),
    };
  };
  return {
    ...make({}),
    entries,
    clear: () => { entries.length = 0; },
  };
}
