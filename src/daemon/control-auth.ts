/**
 * Who may use the control API. The API can start, pause and remove replication, so:
 *
 * - it listens on loopback unless told otherwise, and `checkControlBinding` refuses to listen
 *   anywhere else without a token: an address other machines reach must not be open to all of them;
 * - with `daemon.control.token` set, every request carries `Authorization: Bearer <token>`, checked
 *   by `ControlAuth` in constant time over SHA-256 digests, so neither the token's characters nor
 *   its length can be learnt from response times;
 * - refusals are logged (method, path, peer and why), never with what the client sent as a token,
 *   and at most `REFUSALS_LOGGED_PER_WINDOW` per minute, so a scanner cannot flood the log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from '../util/logger.js';
import { ConfigError } from './config-error.js';

/**
 * What a token may look like: printable ASCII without spaces (it travels in an HTTP header and in
 * a URL fragment), and long enough not to be guessed; `openssl rand -hex 32` makes a good one.
 * 16 is also well above the SecretRegistry's minimum, so the logger always redacts it.
 */
export const CONTROL_TOKEN_PATTERN = /^[\x21-\x7e]{16,1024}$/;
export const CONTROL_TOKEN_RULE = 'expected at least 16 printable ASCII characters without spaces (e.g. the output of `openssl rand -hex 32`)';

/** Whether `host` (an address or a name from `daemon.control.host`) only reaches this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return true;
  const kind = isIP(bare);
  if (kind === 4) return bare.startsWith('127.');
  if (kind === 6) {
    // The URL parser writes IPv6 in its shortest form: 0:0:0:0:0:0:0:1 → ::1, and an IPv4-mapped
    // loopback address such as ::ffff:127.0.0.1 → ::ffff:7f00:1 (loopback too).
    let canonical: string;
    try {
      canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
    } catch {
      return false; // a zone id (fe80::1%eth0): link-local, not loopback
    }
    return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical);
  }
  // Any other name may resolve to an address other machines reach: treat it as exposed.
  return false;
}

/**
 * Throws a `ConfigError` when the control API would listen beyond this machine with no token:
 * anyone who could reach the port could then stop replication or start following anything.
 */
export function checkControlBinding(control: { readonly host: string; readonly token?: string }): void {
  if (control.token !== undefined || isLoopbackHost(control.host)) return;
  throw new ConfigError({
    path: 'daemon.control.host',
    rule: 'the control API may listen on an address other machines can reach only with a token: set daemon.control.token '
      + '(e.g. "${CCR_FOLLOW_CONTROL_TOKEN}"), or listen on 127.0.0.1',
    received: control.host,
  });
}

/** Why a request was refused; the client sees the matching sentence, the log the code. */
export type AuthRefusal = 'missing' | 'malformed' | 'wrong';

const REASONS: Readonly<Record<AuthRefusal, string>> = {
  missing: 'missing authentication token: this control API needs the header `Authorization: Bearer <token>` (daemon.control.token)',
  malformed: 'malformed Authorization header: expected `Authorization: Bearer <token>`',
  wrong: 'invalid authentication token',
};

export function refusalReason(refusal: AuthRefusal): string {
  return REASONS[refusal];
}

/** Refusals logged one by one per window; the rest are counted and reported with the next. */
const REFUSALS_LOGGED_PER_WINDOW = 10;
const REFUSAL_LOG_WINDOW_MS = 60_000;
/** Paths are logged up to this length: they come from the client. */
const MAX_LOGGED_PATH = 200;

export interface RefusedRequest {
  readonly method: string;
  readonly url: string;
  readonly remoteAddress: string | undefined;
}

export class ControlAuth {
  readonly #digest: Buffer;
  readonly #logger: Logger;
  readonly #now: () => number;
  #windowStart = -Infinity;
  #loggedInWindow = 0;
  #suppressed = 0;

  constructor(token: string, logger: Logger, now: () => number = Date.now) {
    this.#digest = sha256(token);
    this.#logger = logger;
    this.#now = now;
  }

  /** undefined when `authorization` carries the token; otherwise why not. */
  check(authorization: string | string[] | undefined): AuthRefusal | undefined {
    if (authorization === undefined || authorization === '') return 'missing';
    // Node joins repeated headers for most names, but not for all: refuse anything ambiguous.
    if (Array.isArray(authorization)) return 'malformed';
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) return 'malformed';
    // Digests have the same length whatever was sent, so timingSafeEqual never throws and the
    // comparison time does not depend on how long the given token is or where it differs.
    return timingSafeEqual(sha256(match[1]!), this.#digest) ? undefined : 'wrong';
  }

  /** Logs a refused request without anything the client sent as a credential. */
  logRefusal(refusal: AuthRefusal, req: RefusedRequest): void {
    const now = this.#now();
    if (now - this.#windowStart >= REFUSAL_LOG_WINDOW_MS) {
      this.#windowStart = now;
      this.#loggedInWindow = 0;
    }
    if (this.#loggedInWindow >= REFUSALS_LOGGED_PER_WINDOW) {
      this.#suppressed += 1;
      return;
    }
    this.#loggedInWindow += 1;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    // The query string is left out: a client may have put a token there.
    const path = req.url.split('?')[0]!;
    this.#logger.warn(`control API: refused ${req.method} ${JSON.stringify(truncate(path))} from ${req.remoteAddress ?? 'unknown'}: ${refusal} token`, {
      refusal, ...(suppressed > 0 ? { refusals_not_logged: suppressed } : {}),
    });
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function truncate(text: string): string {
  return text.length > MAX_LOGGED_PATH ? `${text.slice(0, MAX_LOGGED_PATH)}…` : text;
}
