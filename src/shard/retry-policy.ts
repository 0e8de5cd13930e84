/**
 * The only retry layer (the clients are built with `maxRetries: 0`, rest-transport.ts): capped,
 * jittered exponential backoff, as Elasticsearch CCR's `computeDelay`. Each in-flight request keeps
 * its own attempt counter, so one struggling request does not slow the others, and a success starts
 * the next request from zero.
 */
const BASE_DELAY_MS = 50;

export class RetryPolicy {
  readonly #maxRetryDelayMs: number;
  readonly #random: () => number;

  constructor(maxRetryDelayMs: number, random: () => number = Math.random) {
    this.#maxRetryDelayMs = maxRetryDelayMs;
    this.#random = random;
  }

  /** Delay before retry number `attempt` (1-based): in [cap/2, cap], cap = min(max, 50ms·2^(attempt-1)). */
  delayMs(attempt: number): number {
    const exponent = Math.min(Math.max(attempt - 1, 0), 30);
    const cap = Math.min(this.#maxRetryDelayMs, BASE_DELAY_MS * 2 ** exponent);
    return Math.round(cap / 2 + this.#random() * (cap / 2));
  }
}
