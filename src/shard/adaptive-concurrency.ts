/**
 * How many bulk requests one follower cluster is sent at once, found by watching its answers, in
 * the spirit of TCP Vegas and Netflix's concurrency-limits: while requests wait for a slot and the
 * follower answers about as fast per operation as at its best recently, one more request in flight
 * is tried; once it answers twice as slowly, one fewer; a 429 (too many requests) halves the limit.
 *
 * Why: a follower indexes with as many threads as it has cores. Bulk requests beyond that only
 * queue inside it, and each one then takes longer without more documents per second being written
 * — with CCR's 9 writes per shard, three shards kept 27 bulks in flight and every one took seconds
 * (lag) while the follower's CPU went to juggling them. The limit settles where more in flight no
 * longer makes anything faster.
 *
 * Pure: no timers and no I/O; `now` only stamps changes. Latency is compared per operation
 * (milliseconds per thousand operations), since a bulk's time grows with its size; bulks of fewer
 * than `minOperations` are left out of the comparison (their fixed costs dominate).
 */

export interface ConcurrencySample {
  readonly latencyMs: number;
  readonly operations: number;
  /** The follower refused work for being overloaded (a 429 answer or item). */
  readonly throttled: boolean;
  /** Requests were waiting for a slot when this one ended: the limit, not the demand, was binding. */
  readonly saturated: boolean;
}

export interface LimitChange {
  readonly from: number;
  readonly to: number;
  readonly at: number;
  readonly reason: string;
}

export interface AdaptiveConcurrencyOptions {
  readonly initial?: number;
  readonly min?: number;
  readonly max?: number;
  /** Bulks smaller than this do not count for latency (default 64 operations). */
  readonly minOperations?: number;
  /** How many recent rounds the best latency is taken from (default 20). */
  readonly memory?: number;
  readonly now?: () => number;
}

/** A round's latency at most this many times the best recent one: the follower is not queueing. */
const GROW_BELOW = 1.3;
/**
 * A round's latency above this many times the best recent one: requests queue in the follower.
 * (1.5 was tried: on a follower sharing its cores with the leader, rounds 1.5× slower than the best
 * recent one came from noise as often as from queueing, and under a saturating writer the limit fell
 * to 1, replicating under half of what was written. Bulks piling up behind a high limit are held
 * back by the shared read-ahead instead.)
 */
const SHRINK_ABOVE = 2;

export class AdaptiveConcurrency {
  #limit: number;
  readonly #min: number;
  readonly #max: number;
  readonly #minOperations: number;
  readonly #memory: number;
  readonly #now: () => number;
  /** Average milliseconds per thousand operations of the last rounds, newest last. */
  readonly #recentRounds: number[] = [];
  #round = { samples: 0, msPerKiloOps: 0, saturated: 0 };
  /**
   * Requests still to finish before a 429 counts again: those in flight when the limit was halved
   * were sent under the old limit, so their 429s are the same signal, not a new one.
   */
  #throttleGrace = 0;
  #lastChange: LimitChange;

  constructor(options: AdaptiveConcurrencyOptions = {}) {
    this.#max = options.max ?? 64;
    // Two, not one: a follower indexes a bulk on one write thread, so a single bulk in flight leaves
    // the rest of its write pool idle, and a lone slow round (a merge, a GC) would otherwise halve the
    // limit to a point where it can no longer keep up with a busy leader.
    this.#min = Math.min(options.min ?? 2, this.#max);
    this.#limit = clamp(options.initial ?? 2, this.#min, this.#max);
    this.#minOperations = options.minOperations ?? 64;
    this.#memory = options.memory ?? 20;
    this.#now = options.now ?? Date.now;
    this.#lastChange = { from: this.#limit, to: this.#limit, at: this.#now(), reason: 'initial limit' };
  }

  get limit(): number {
    return this.#limit;
  }

  get lastChange(): LimitChange {
    return this.#lastChange;
  }

  /** The best (lowest) recent round latency in ms per thousand operations, if any round completed. */
  get baselineMsPerKiloOps(): number | undefined {
    return this.#recentRounds.length === 0 ? undefined : Math.min(...this.#recentRounds);
  }

  /** Takes one finished request into account; returns the limit from now on. */
  record(sample: ConcurrencySample): number {
    const inGrace = this.#throttleGrace > 0;
    if (inGrace) this.#throttleGrace -= 1;
    if (sample.throttled) {
      if (!inGrace) {
        this.#throttleGrace = this.#limit - 1;
        this.#change(Math.floor(this.#limit / 2), 'the follower answered 429 (too many requests)');
        this.#startRound();
      }
      return this.#limit;
    }
    if (sample.operations < this.#minOperations) return this.#limit;
    const round = this.#round;
    round.samples += 1;
    round.msPerKiloOps += (sample.latencyMs * 1000) / sample.operations;
    if (sample.saturated) round.saturated += 1;
    // A round is as many requests as the limit: about one full turn of every slot.
    if (round.samples >= this.#limit) this.#endRound();
    return this.#limit;
  }

  #endRound(): void {
    const { samples, saturated } = this.#round;
    const latency = this.#round.msPerKiloOps / samples;
    this.#recentRounds.push(latency);
    if (this.#recentRounds.length > this.#memory) this.#recentRounds.shift();
    const best = Math.min(...this.#recentRounds);
    const ratio = latency / best;
    const words = `${fmt(latency)} ms per 1000 operations, ${fmt(ratio)}× the best recent (${fmt(best)})`;
    if (ratio > SHRINK_ABOVE) this.#change(this.#limit - 1, `bulk latency ${words}`);
    else if (ratio <= GROW_BELOW && saturated * 2 >= samples) this.#change(this.#limit + 1, `requests waiting, bulk latency ${words}`);
    this.#startRound();
  }

  #startRound(): void {
    this.#round = { samples: 0, msPerKiloOps: 0, saturated: 0 };
  }

  #change(to: number, reason: string): void {
    const next = clamp(to, this.#min, this.#max);
    if (next === this.#limit) return;
    this.#lastChange = { from: this.#limit, to: next, at: this.#now(), reason };
    this.#limit = next;
  }
}

function clamp(n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, n));
}

function fmt(n: number): string {
  return n >= 10 ? n.toFixed(0) : n.toFixed(2);
}
