/**
 * One budget of bulk requests in flight per follower cluster, shared by every shard of every
 * follower index writing to it, its size found by `AdaptiveConcurrency` from the follower's own
 * answers (README, "Performance"). Shards still keep `max_outstanding_write_requests` each as a
 * ceiling; the budget decides how many of all their bulks the follower gets at once, first come
 * first served.
 */
import PQueue from 'p-queue';
import { classify } from '../cluster/classify.js';
import type { BulkItemResult } from '../cluster/types.js';
import { AdaptiveConcurrency, type AdaptiveConcurrencyOptions } from '../shard/adaptive-concurrency.js';
import { SharedReadAhead } from '../shard/shared-read-ahead.js';

export interface WriteBudgetStats {
  /** Bulk requests the follower cluster is sent at once, at most. */
  readonly limit: number;
  readonly in_flight: number;
  /** Bulk requests waiting for a slot. */
  readonly waiting: number;
  /**
   * What all shards writing here hold (buffered, being read, in bulks not yet answered) in windows
   * (one read or bulk request's worth of operations), and shards waiting for their turn to read.
   */
  readonly read_ahead_windows: number;
  readonly shards_waiting_to_read: number;
  readonly last_change: { readonly from: number; readonly to: number; readonly at: string; readonly reason: string };
}

export class WriteBudget {
  readonly #queue: PQueue;
  readonly #control: AdaptiveConcurrency;
  readonly #now: () => number;
  /** How far the shards writing here may read ahead of these bulks, all together. */
  readonly readAhead = new SharedReadAhead(() => this.#control.limit);

  constructor(options: AdaptiveConcurrencyOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#control = new AdaptiveConcurrency(options);
    this.#queue = new PQueue({ concurrency: this.#control.limit });
  }

  /** Bulk requests the follower cluster is sent at once now. */
  get limit(): number {
    return this.#control.limit;
  }

  /** Runs one bulk request of `operations` operations when a slot is free, and learns from its answer. */
  run(operations: number, bulk: () => Promise<BulkItemResult[]>, signal: AbortSignal): Promise<BulkItemResult[]> {
    return this.#queue.add(async () => {
      const started = this.#now();
      let throttled: boolean;
      try {
        const results = await bulk();
        throttled = results.some((r) => r.outcome === 'failed' && isOverload(r.error));
        this.#learn(started, operations, throttled);
        return results;
      } catch (err) {
        // Only an overload says something about the limit; an outage or an abort does not.
        if (isOverload(err)) this.#learn(started, operations, true);
        throw err;
      }
    }, { signal });
  }

  stats(): WriteBudgetStats {
    const change = this.#control.lastChange;
    return {
      limit: this.#control.limit,
      in_flight: this.#queue.pending,
      waiting: this.#queue.size,
      read_ahead_windows: Math.round(this.readAhead.heldWindows * 100) / 100,
      shards_waiting_to_read: this.readAhead.waiting,
      last_change: { from: change.from, to: change.to, at: new Date(change.at).toISOString(), reason: change.reason },
    };
  }

  #learn(started: number, operations: number, throttled: boolean): void {
    const limit = this.#control.record({ latencyMs: this.#now() - started, operations, throttled, saturated: this.#queue.size > 0 });
    if (this.#queue.concurrency !== limit) this.#queue.concurrency = limit;
  }
}

/** One WriteBudget per follower cluster alias, made on first use. */
export class WriteBudgets {
  readonly #budgets = new Map<string, WriteBudget>();

  constructor(private readonly options: AdaptiveConcurrencyOptions = {}) {}

  of(alias: string): WriteBudget {
    let budget = this.#budgets.get(alias);
    if (!budget) {
      budget = new WriteBudget(this.options);
      this.#budgets.set(alias, budget);
    }
    return budget;
  }

  stats(alias: string): WriteBudgetStats | undefined {
    return this.#budgets.get(alias)?.stats();
  }
}

function isOverload(err: unknown): boolean {
  const c = classify(err);
  return c.action === 'retry' && c.kind === 'overloaded';
}
