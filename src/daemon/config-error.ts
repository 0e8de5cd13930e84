/**
 * A configuration mistake, found before anything starts. Says where (file, line, YAML path), what
 * was expected and what arrived, so the user can fix it without reading code; the CLI prints the
 * message alone, without a stack trace, and exits non-zero. Secret values are never shown.
 */
import { REDACTED } from '../util/secrets.js';

export interface ConfigErrorOptions {
  /** YAML path such as `clusters.leader.url`; empty for the file as a whole. */
  readonly path: string;
  /** What was expected, e.g. `expected an http(s) URL`. */
  readonly rule: string;
  /** The value found; omit when there is none to show (a missing key, an unreadable file). */
  readonly received?: unknown;
  /** Show `received` as `<redacted>` (passwords, API keys, tokens). */
  readonly secret?: boolean;
  /** The config file, when known. */
  readonly source?: string;
  /** 1-based position in the source, when known. */
  readonly line?: number;
  readonly column?: number;
  readonly cause?: unknown;
}

/** Longer received values are cut: the message must stay one readable line. */
const MAX_RECEIVED_LENGTH = 80;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly path: string;
  readonly rule: string;
  /** The received value as shown in the message (`"ftp://x"`, `42`, `<redacted>`), if any. */
  readonly received?: string;
  readonly source?: string;
  readonly line?: number;
  readonly column?: number;

  constructor(options: ConfigErrorOptions) {
    const received = 'received' in options ? describeValue(options.received, options.secret === true) : undefined;
    super(formatMessage(options, received), options.cause === undefined ? undefined : { cause: options.cause });
    this.path = options.path;
    this.rule = options.rule;
    this.received = received;
    this.source = options.source;
    this.line = options.line;
    this.column = options.column;
  }
}

function formatMessage(options: ConfigErrorOptions, received: string | undefined): string {
  // `file:line:column`, as compilers print it, so editors can jump there.
  const position = options.line !== undefined ? `${options.line}:${options.column ?? 1}` : undefined;
  const where = options.source !== undefined
    ? [options.source, position].filter((part) => part !== undefined).join(':')
    : position !== undefined ? `line ${position}` : '';
  return [
    where !== '' ? `${where}: ` : '',
    options.path !== '' ? `${options.path}: ` : '',
    options.rule,
    received !== undefined ? `, got ${received}` : '',
  ].join('');
}

/** How a received value reads in a message: strings quoted, containers named by kind. */
export function describeValue(value: unknown, secret = false): string {
  if (secret) return REDACTED;
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > MAX_RECEIVED_LENGTH ? `${text.slice(0, MAX_RECEIVED_LENGTH - 1)}…` : text;
}
