/**
 * When a shard task reconciles (docs/architecture.md, shard step 7). Deletes cannot be read, so
 * once the shard is caught up a reconciliation pass compares it with the leader: soon after the
 * leader changed (its max seq_no above what the last clean pass covered), at most once per
 * `reconcile_interval`; with no leader change, `IDLE_RECONCILE_FACTOR` intervals apart, for
 * writes made to the follower itself. One pass at a time; the task runs it and says when it ended.
 */

/** With no leader change, reconcile (and audit for foreign writes) this many intervals apart. */
export const IDLE_RECONCILE_FACTOR = 6;

export interface ReconcileSchedulerOptions {
  readonly intervalMs: number;
  /** Called when a pass that was not due yet becomes due: the task checks again (`shouldStart`). */
  readonly onDue: () => void;
  readonly now?: () => number;
  /** For tests: arms a timer, returns its cancel. */
  readonly schedule?: (fn: () => void, ms: number) => () => void;
}

export class ReconcileScheduler {
  readonly #o: ReconcileSchedulerOptions;
  readonly #schedule: (fn: () => void, ms: number) => () => void;
  #inFlight = false;
  #stopped = false;
  /** The armed timer: when it fires, and how to cancel it. */
  #timer: { readonly dueAt: number; readonly cancel: () => void } | undefined;
  #lastStartedAt = -Infinity;
  /** Leader max seq_no up to which the last clean pass left nothing to delete. */
  #reconciledUpTo = -1;

  constructor(options: ReconcileSchedulerOptions) {
    this.#o = options;
    this.#schedule = options.schedule ?? ((fn, ms) => {
      const timer = setTimeout(fn, ms);
      return () => clearTimeout(timer);
    });
  }

  /** When the armed timer fires, if one is armed (for stats and tests). */
  get dueAt(): number | undefined {
    return this.#timer?.dueAt;
  }

  get inFlight(): boolean {
    return this.#inFlight;
  }

  /**
   * Asked whenever the shard is caught up, with the leader's max seq_no as last seen. True: a pass
   * is due and counts as started now; the caller runs it and then calls `finished`. False: none is
   * due yet (a timer calls `onDue` when one is), one is running, or the scheduler is stopped.
   */
  shouldStart(leaderMaxSeqNo: number): boolean {
    if (this.#stopped || this.#inFlight) return false;
    const leaderChanged = leaderMaxSeqNo > this.#reconciledUpTo;
    const dueAt = this.#lastStartedAt + this.#o.intervalMs * (leaderChanged ? 1 : IDLE_RECONCILE_FACTOR);
    // A timer already armed for this time or earlier serves.
    if (this.#timer && this.#timer.dueAt <= dueAt) return false;
    this.#cancelTimer();
    const wait = dueAt - this.#now();
    if (wait > 0) {
      const cancel = this.#schedule(() => {
        this.#timer = undefined;
        this.#o.onDue();
      }, wait);
      this.#timer = { dueAt, cancel };
      return false;
    }
    this.#inFlight = true;
    this.#lastStartedAt = this.#now();
    return true;
  }

  /**
   * The pass `shouldStart` allowed has ended. `cleanUpTo`: the leader max seq_no it reconciled up
   * to when it left nothing known to delete; undefined when it was not clean, failed or was stopped.
   */
  finished(cleanUpTo?: number): void {
    this.#inFlight = false;
    if (cleanUpTo !== undefined) this.#reconciledUpTo = Math.max(this.#reconciledUpTo, cleanUpTo);
  }

  /** No pass starts any more; an armed timer is cancelled. */
  stop(): void {
    this.#stopped = true;
    this.#cancelTimer();
  }

  #cancelTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }
}
