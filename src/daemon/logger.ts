/**
 * The daemon's real logger: winston behind the `Logger` port, writing to stderr (stdout stays free
 * for command output) and optionally to a file. Everything goes through one redaction step first,
 * because logs are copied into tickets and chat: a password must never reach them, whether it sits
 * under a `password` key, inside an error message, or in a URL's `user:pass@`.
 */
import winston from 'winston';
import { type Logger, type LogLevel, type LogMeta, LOG_LEVELS } from '../util/logger.js';
import { REDACTED, SecretRegistry } from '../util/secrets.js';

export type LogFormat = 'text' | 'json';

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly file?: string;
  readonly format: LogFormat;
  /** Secret strings to remove from every entry; read at each entry, so later `add`s count. */
  readonly secrets?: SecretRegistry;
  /** Console destination; stderr unless a test captures it. */
  readonly stream?: NodeJS.WritableStream;
}

export interface DaemonLogger extends Logger {
  /** Flushes and closes the transports (the file above all). Later entries are dropped. */
  close(): Promise<void>;
}

/** Keys whose values are secrets whatever they contain (case-insensitive, at any depth). */
const SECRET_KEY = /passw(or)?d|api[_-]?key|token|authorization|secret|credential|cookie/i;

/** `scheme://user:pass@` → `scheme://`; stops at characters that cannot be in the user-info. */
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** Deeper structures are cut: a log entry is not the place for a whole object graph. */
const MAX_DEPTH = 8;

const WINSTON_LEVELS: Record<LogLevel, number> = Object.fromEntries(
  LOG_LEVELS.map((level, index) => [level, index]),
) as Record<LogLevel, number>;

export function createLogger(options: LoggerOptions): DaemonLogger {
  const secrets = options.secrets ?? new SecretRegistry();
  const format = winston.format.combine(
    redactFormat(secrets)(),
    winston.format.timestamp(),
    options.format === 'json' ? winston.format.json() : textFormat(),
  );
  const stream = options.stream ?? process.stderr;
  const transports: winston.transport[] = [new winston.transports.Stream({ stream })];
  if (options.file !== undefined) transports.push(new winston.transports.File({ filename: options.file }));

  const root = winston.createLogger({ levels: WINSTON_LEVELS, level: options.level, format, transports });
  // A log file that cannot be written must not crash the daemon; say so once on the console.
  let reportedError = false;
  root.on('error', (err: Error) => {
    if (reportedError) return;
    reportedError = true;
    stream.write(`ccr-follow: logging failed: ${secrets.redact(err.message)}\n`);
  });

  let closing: Promise<void> | undefined;
  const make = (bound: LogMeta): Logger => {
    const log = (level: LogLevel) => (message: string, meta?: LogMeta): void => {
      // After close() the transports are gone; a late entry from a stopping task is dropped.
      if (closing) return;
      root.log({ ...bound, ...meta, level, message });
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
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        // winston's 'finish' waits for every transport, including the file stream, to flush.
        root.once('finish', () => resolve());
        root.end();
      });
      return closing;
    },
  };
}

/** The winston format that applies `redactValue` to the message and every meta field. */
export function redactFormat(secrets: SecretRegistry): winston.Logform.FormatWrap {
  return winston.format((info) => {
    for (const key of Object.keys(info)) {
      if (key !== 'level') info[key] = redactField(key, info[key], secrets, 0, new WeakSet());
    }
    return info;
  });
}

/**
 * A copy of `value` that is safe to write out: secret-named keys replaced, registered secrets and
 * URL credentials removed from strings, errors turned into plain objects (JSON drops them
 * otherwise), cycles and deep nesting cut. Never mutates `value`.
 */
export function redactValue(value: unknown, secrets: SecretRegistry, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return secrets.redact(value).replace(URL_USER_INFO, '$1');
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`; // binary is never useful in a log line
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    const recurse = (item: unknown): unknown => redactValue(item, secrets, depth + 1, seen);
    if (Array.isArray(value)) return value.map(recurse);
    if (value instanceof Set) return [...value].map(recurse);
    const source = value instanceof Map ? Object.fromEntries(value)
      : value instanceof Error ? errorFields(value)
        : (value as Record<string, unknown>);
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(source)) result[key] = redactField(key, item, secrets, depth + 1, seen);
    return result;
  } finally {
    // Only ancestors count as cycles: the same object twice side by side is printed twice.
    seen.delete(value);
  }
}

/** A field's value: hidden whole if the key names a secret, otherwise redacted inside. */
function redactField(key: string, value: unknown, secrets: SecretRegistry, depth: number, seen: WeakSet<object>): unknown {
  if (SECRET_KEY.test(key) && value !== undefined && value !== null) return REDACTED;
  return redactValue(value, secrets, depth, seen);
}

/**
 * JSON drops an error's name, message and stack (not enumerable): copy them out. An error class
 * whose useful fields are getters can expose them through `toJSON()`.
 */
function errorFields(err: Error): Record<string, unknown> {
  const toJSON = (err as { toJSON?: () => unknown }).toJSON;
  const extra = typeof toJSON === 'function' ? toJSON.call(err) : undefined;
  const fields: Record<string, unknown> = {
    ...err,
    ...(extra !== null && typeof extra === 'object' ? extra : {}),
    name: err.name,
    message: err.message,
  };
  if (err.stack !== undefined) fields.stack = err.stack;
  if (err.cause !== undefined) fields.cause = err.cause;
  return fields;
}

/** `2024-05-01T10:00:00.000Z info  message {"meta":"as json"}`: one line per entry. */
function textFormat(): winston.Logform.Format {
  return winston.format.printf((info) => {
    const { level, message, timestamp, ...meta } = info;
    const rest = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
    return `${String(timestamp)} ${level.padEnd(5)} ${String(message)}${rest}`;
  });
}
