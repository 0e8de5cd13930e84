/**
 * How many requests the daemon sends one cluster, and why: every request of a `ClusterClient`
 * is counted under the purpose of the client view that sent it (`ClusterClient.forPurpose`).
 * Totals for Prometheus (which computes its own rates), and the rate over the last
 * `RATE_WINDOW_S` whole seconds for `stats`, so an idle daemon's cost can be read at a glance.
 */

/** Why a request was sent: the shared checkpoint probe, metadata (probe and sync), reads of operations (with their refreshes and uuid checks), delete reconciliation, bulk writes, anything else (starts, auto-follow, control requests). */
export const REQUEST_PURPOSES = ['checkpoints', 'metadata', 'reads', 'reconciliation', 'writes', 'other'] as const;
export type RequestPurpose = (typeof REQUEST_PURPOSES)[number];

export type PerPurpose = Readonly<Record<RequestPurpose, number>>;

export interface RequestStats {
  /** Requests per second over the last RATE_WINDOW_S whole seconds. */
  readonly per_second: PerPurpose;
  /** Requests since the daemon started. */
  readonly total: PerPurpose;
}

/** The rate is averaged over this many whole seconds. */
export const RATE_WINDOW_S = 10;

function zeros(): Record<RequestPurpose, number> {
  return Object.fromEntries(REQUEST_PURPOSES.map((p) => [p, 0])) as Record<RequestPurpose, number>;
}

export class RequestCounts {
  readonly #now: () => number;
  readonly #total = zeros();
  /** Requests per purpose in each second (epoch seconds) of the window and the current one. */
  readonly #seconds = new Map<number, Record<RequestPurpose, number>>();
  #rate: { readonly second: number; readonly perSecond: PerPurpose } | undefined;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  count(purpose: RequestPurpose): void {
    this.#total[purpose] += 1;
    const second = Math.floor(this.#now() / 1000);
    let bucket = this.#seconds.get(second);
    if (bucket === undefined) {
      bucket = zeros();
      this.#seconds.set(second, bucket);
      this.#forgetBefore(second - RATE_WINDOW_S);
    }
    bucket[purpose] += 1;
  }

  stats(): RequestStats {
    const current = Math.floor(this.#now() / 1000);
    return { per_second: this.#perSecond(current), total: { ...this.#total } };
  }

  /**
   * The rate over the whole seconds before `current`: they no longer change, so it is summed once
   * per second (every follower of a cluster shows its counts, and stats list hundreds of them).
   */
  #perSecond(current: number): PerPurpose {
    if (this.#rate?.second === current) return this.#rate.perSecond;
    this.#forgetBefore(current - RATE_WINDOW_S);
    const sum = zeros();
    // Whole seconds only: the current one has not ended yet.
    for (const [second, bucket] of this.#seconds) {
      if (second >= current) continue;
      for (const p of REQUEST_PURPOSES) sum[p] += bucket[p];
    }
    const perSecond = zeros();
    for (const p of REQUEST_PURPOSES) perSecond[p] = sum[p] / RATE_WINDOW_S;
    this.#rate = { second: current, perSecond };
    return perSecond;
  }

  #forgetBefore(second: number): void {
    for (const s of this.#seconds.keys()) if (s < second) this.#seconds.delete(s);
  }
}
