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
 * Errors never end the loop (a daemon with one unreachable leader keeps serving the others):
 * `classify` decides how long to wait. Retryable → the next interval, as usual. Fatal (say, auth
 * refused) → exponentially longer, up to `MAX_BACKOFF_MS`, so a broken leader is not hammered
 * while someone fixes it. Aborted while stopping → the end.
 */
import { classify, type Classification } from '../cluster/classify.js';
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

const MAX_BACKOFF_MS = 60_000;

export interface LeaderPollerOptions {
  readonly leader: string;
  readonly intervalMs: number;
  /** One round: discover, decide, follow. Must honour `signal`. */
  readonly round: (signal: AbortSignal) => Promise<void>;
  /** A round failed (not counting a stop); the poller goes on. */
  readonly onError: (err: unknown, verdict: Exclude<Classification, { action: 'aborted' }>) => void;
  readonly logger: Logger;
  readonly onStateChange?: (change: { from: LeaderPollerState; to: LeaderPollerState }) => void;
  readonly sleep?: Sleep;
  readonly now?: () => number;
}

export class LeaderPoller {
  readonly #o: LeaderPollerOptions;
  readonly #abort = new AbortController();
  #state: LeaderPollerState = LeaderPollerStates.idle;
  #loop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #lastRoundEndedAt: number | undefined;
  #consecutiveFatal = 0;

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
    for (;;) {
      const delay = await this.#roundThenDelay(signal);
      if (signal.aborted) break;
      this.#enter(LeaderPollerStates.waiting);
      // A sleep cut short by stop() rejects with an AbortError: that is the way out, not an error.
      await sleep(delay, signal).catch(() => undefined);
      if (signal.aborted) break;
      this.#enter(LeaderPollerStates.polling);
    }
    this.#enter(LeaderPollerStates.stopped);
  }

  /** Runs one round and returns how long to wait before the next. */
  async #roundThenDelay(signal: AbortSignal): Promise<number> {
    try {
      await this.#o.round(signal);
      this.#consecutiveFatal = 0;
      return this.#o.intervalMs;
    } catch (err) {
      const verdict = classify(err);
      if (verdict.action === 'aborted') {
        if (signal.aborted) return 0;
        // Aborted by something other than our stop (a request's own timeout): try again next time.
        this.#o.onError(err, { action: 'retry', kind: 'timeout', reason: 'a request was aborted' });
        return this.#o.intervalMs;
      }
      this.#o.onError(err, verdict);
      if (verdict.action === 'retry') return this.#o.intervalMs;
      this.#consecutiveFatal += 1;
      return Math.min(MAX_BACKOFF_MS, this.#o.intervalMs * 2 ** Math.min(this.#consecutiveFatal, 10));
    } finally {
      this.#lastRoundEndedAt = this.#now();
    }
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
