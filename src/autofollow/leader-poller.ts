/**
 * Runs one discovery round against one leader cluster every interval, for all the patterns of
 * that cluster together, until stopped. It owns the loop, the timing and what an error means for
 * the loop; the round itself (what to follow) is passed in.
 *
 * States (`LeaderPollerStates`):
 * - `idle`     — built, not started. → `polling` by start(); → `stopped` by stop().
 * - `polling`  — a round runs. → `waiting` when it ends, whatever its outcome; → `stopping` by stop().
 * - `waiting`  — sleeping until the next round is due. → `polling` when it is; → `stopping` by stop().
 * - `stopping` — the signal is aborted; the current round or sleep is ending. → `stopped`.
 * - `stopped`  — final.
 *
 * Errors never end the loop (a daemon with one unreachable leader keeps serving the others): a
 * failed round is tried again through `retry()` (cluster/retry.ts), fatal errors too
 * (`retryFatal`), after a backoff that starts at the interval and doubles up to `MAX_BACKOFF_MS`,
 * so a leader that is down or refuses us is not hammered while someone fixes it. Every failure is
 * reported (`onError`, with `classify`'s verdict); a round that succeeds starts the backoff over.
 * Aborted while stopping → the end.
 */
import { retry, RetryPolicy } from '../cluster/retry.js';
import type { Logger } from '../util/logger.js';
import { sleep as realSleep, type Sleep } from '../util/sleep.js';

export const LeaderPollerStates = {
  idle: 'idle',
  polling: 'polling',
  waiting: 'waiting',
  stopping: 'stopping',
  stopped: 'stopped',
} as const;
export type LeaderPollerState = (typeof LeaderPollerStates)[keyof typeof LeaderPollerStates];

const TRANSITIONS: Readonly<Record<LeaderPollerState, readonly LeaderPollerState[]>> = {
  idle: ['polling', 'stopped'],
  polling: ['waiting', 'stopping'],
  waiting: ['polling', 'stopping'],
  stopping: ['stopped'],
  stopped: [],
};

/** The longest wait after failed rounds (or the interval, if that is longer). */
const MAX_BACKOFF_MS = 60_000;

export interface LeaderPollerOptions {
  readonly leader: string;
  readonly intervalMs: number;
  /** One round: discover, decide, follow. Must honour `signal`. */
  readonly round: (signal: AbortSignal) => Promise<void>;
  /** A round failed (not counting a stop); the poller goes on. `action` and `reason` are classify's. */
  readonly onError: (err: unknown, verdict: { readonly action: 'retry' | 'fatal'; readonly reason: string }) => void;
  readonly logger: Logger;
  readonly onStateChange?: (change: { from: LeaderPollerState; to: LeaderPollerState }) => void;
  readonly sleep?: Sleep;
  /** For tests: the jitter of the backoff after failed rounds. */
  readonly random?: () => number;
  readonly now?: () => number;
}

export class LeaderPoller {
  readonly #o: LeaderPollerOptions;
  readonly #abort = new AbortController();
  #state: LeaderPollerState = LeaderPollerStates.idle;
  #loop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #lastRoundEndedAt: number | undefined;

  constructor(options: LeaderPollerOptions) {
    this.#o = options;
  }

  get leader(): string {
    return this.#o.leader;
  }

  get state(): LeaderPollerState {
    return this.#state;
  }

  /** Milliseconds since the last round ended, or null before the first one. */
  timeSinceLastCheck(): number | null {
    return this.#lastRoundEndedAt === undefined ? null : this.#now() - this.#lastRoundEndedAt;
  }

  start(): void {
    this.#enter(LeaderPollerStates.polling);
    this.#loop = this.#run();
  }

  /** Idempotent: aborts the round or sleep in progress and resolves once the loop has ended. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#state === LeaderPollerStates.idle) {
        this.#enter(LeaderPollerStates.stopped);
        return;
      }
      this.#enter(LeaderPollerStates.stopping);
      this.#abort.abort();
      await this.#loop;
    })();
    return this.#stopping;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const sleep = this.#o.sleep ?? realSleep;
    const policy = new RetryPolicy(Math.max(MAX_BACKOFF_MS, this.#o.intervalMs), this.#o.random, this.#o.intervalMs);
    for (;;) {
      try {
        await retry(async (attempt) => {
          if (attempt > 1) this.#enter(LeaderPollerStates.polling);
          try {
            await this.#o.round(signal);
          } finally {
            this.#lastRoundEndedAt = this.#now();
          }
        }, {
          signal, policy, sleep, retryFatal: true,
          onRetry: ({ error, action, reason }) => {
            this.#o.onError(error, { action, reason });
            this.#enter(LeaderPollerStates.waiting);
          },
        });
      } catch {
        // With retryFatal, only stop() ends retry(): its abort.
        break;
      }
      if (signal.aborted) break;
      this.#enter(LeaderPollerStates.waiting);
      // A sleep cut short by stop() rejects with an AbortError: that is the way out, not an error.
      await sleep(this.#o.intervalMs, signal).catch(() => undefined);
      if (signal.aborted) break;
      this.#enter(LeaderPollerStates.polling);
    }
    this.#enter(LeaderPollerStates.stopped);
  }

  #enter(to: LeaderPollerState): void {
    const from = this.#state;
    if (!TRANSITIONS[from].includes(to)) {
      throw new Error(`auto-follow poller of [${this.#o.leader}]: illegal transition ${from} → ${to}`);
    }
    this.#state = to;
    this.#o.logger.debug('auto-follow poller state', { leader: this.#o.leader, from, to });
    this.#o.onStateChange?.({ from, to });
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }
}
