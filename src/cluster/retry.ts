/**
 * The only retry layer (the clients are built with `maxRetries: 0`, rest-transport.ts), and its one
 * loop, `retry()`: run an attempt; when it fails, ask `classify`; try again what is retryable after
 * a capped, jittered exponential backoff (`RetryPolicy`, as Elasticsearch CCR's `computeDelay`),
 * in a sleep the caller's signal cuts short; hand back what is fatal. The shard task (every
 * request), the follower index's start, the auto-follow poller and the cluster state store's writes
 * all retry through it.
 *
 * Each call keeps its own attempt counter, so one struggling request does not slow the others, and
 * a success ends it: the next request starts from the first delay again.
 */
import { classify } from './classify.js';
import { abortError, sleep as realSleep, type Sleep } from '../util/sleep.js';

/** The first delay's ceiling, unless a policy says otherwise; it doubles with every attempt. */
const BASE_DELAY_MS = 50;

export class RetryPolicy {
  readonly #maxRetryDelayMs: number;
  readonly #random: () => number;
  readonly #baseDelayMs: number;

  constructor(maxRetryDelayMs: number, random: () => number = Math.random, baseDelayMs = BASE_DELAY_MS) {
    this.#maxRetryDelayMs = maxRetryDelayMs;
    this.#random = random;
    this.#baseDelayMs = baseDelayMs;
  }

  /** Delay before retry number `attempt` (1-based): in [cap/2, cap], cap = min(max, base·2^(attempt-1)), base 50 ms by default. */
  delayMs(attempt: number): number {
    const exponent = Math.min(Math.max(attempt - 1, 0), 30);
    const cap = Math.min(this.#maxRetryDelayMs, this.#baseDelayMs * 2 ** exponent);
    return Math.round(cap / 2 + this.#random() * (cap / 2));
  }
}

/** A failed attempt that will be tried again after `delayMs`. */
export interface RetriedFailure {
  readonly error: unknown;
  /** `fatal` only with `retryFatal`. */
  readonly action: 'retry' | 'fatal';
  readonly reason: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly delayMs: number;
}

interface RetryOptions {
  /** Cuts the sleep short and ends the loop: `retry` then rejects with an AbortError. */
  readonly signal: AbortSignal;
  readonly policy: RetryPolicy;
  readonly sleep?: Sleep;
  /**
   * Also retry, with the same backoff, what `classify` calls fatal: for a loop that must never end
   * on an error (the auto-follow poller: one broken leader must not stop auto-follow). Without it a
   * fatal error ends the loop at once.
   */
  readonly retryFatal?: boolean;
  /**
   * Gives up after this many attempts, rejecting with the last error: for a caller that has its own
   * answer to an error that lasts (the state store: the follower pauses and probes). Unbounded if absent.
   */
  readonly maxAttempts?: number;
  /** Each failure that will be retried, before its sleep: to count, log or report it. */
  readonly onRetry?: (failure: RetriedFailure) => void;
}

/**
 * Runs `attempt` (given its number, from 1) until it resolves, and resolves with its value. Rejects
 * with the attempt's own error when `classify` calls it fatal (unless `retryFatal`) or the
 * `maxAttempts`-th attempt fails, and with an
 * AbortError once `signal` is aborted. An attempt that failed as aborted while `signal` is not is
 * retried: shared work (a refresh, a uuid read) was cut short on another caller's behalf, not ours.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal, policy, onRetry } = options;
  const sleep = options.sleep ?? realSleep;
  for (let n = 1; ; n += 1) {
    if (signal.aborted) throw abortError();
    try {
      return await attempt(n);
    } catch (err) {
      if (signal.aborted) throw abortError();
      const verdict = classify(err);
      if (verdict.action === 'fatal' && options.retryFatal !== true) throw err;
      if (options.maxAttempts !== undefined && n >= options.maxAttempts) throw err;
      const delayMs = policy.delayMs(n);
      const reason = verdict.action === 'aborted' ? 'aborted by another caller' : verdict.reason;
      onRetry?.({ error: err, action: verdict.action === 'fatal' ? 'fatal' : 'retry', reason, attempt: n, delayMs });
      await sleep(delayMs, signal);
    }
  }
}
