/**
 * Auto-follow stats with CCR's names. Like CCR's, the counters and recent errors live in memory
 * and start again at zero with the daemon; what each pattern did with each leader index is in its
 * persisted handled set (shown by `GET /_ccr/auto_follow/<name>`).
 */

/** One entry of `recent_auto_follow_errors`, shaped as CCR's. */
export interface AutoFollowErrorView {
  /** `<pattern>:<leader index>`, or `<pattern>` for an error that concerns the whole leader cluster. */
  readonly leader_index: string;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly auto_follow_exception: { readonly type: string; readonly reason: string };
}

export interface PatternStatsView {
  readonly number_of_successful_follow_indices: number;
  readonly number_of_failed_follow_indices: number;
  readonly recent_auto_follow_errors: AutoFollowErrorView[];
}

/** Most recent errors kept per pattern; one per leader index, the latest (as CCR keys them). */
const MAX_RECENT_ERRORS = 20;

export class PatternStats {
  #successful = 0;
  #failed = 0;
  readonly #errors = new Map<string, AutoFollowErrorView>();

  constructor(readonly pattern: string) {}

  followed(): void {
    this.#successful += 1;
  }

  /** A leader index given up on (it will not be tried again); the error is also recorded. */
  failed(leaderIndex: string, error: { type: string; reason: string }, at: number): void {
    this.#failed += 1;
    this.error(leaderIndex, error, at);
  }

  /**
   * An error worth showing; `leaderIndex` undefined when it concerns the whole leader cluster.
   * Returns false when it repeats the latest error recorded for the same index.
   */
  error(leaderIndex: string | undefined, error: { type: string; reason: string }, at: number): boolean {
    const key = leaderIndex === undefined ? this.pattern : `${this.pattern}:${leaderIndex}`;
    const repeated = this.#errors.get(key)?.auto_follow_exception.reason === error.reason;
    this.#errors.delete(key); // re-inserted last: the map keeps time order
    this.#errors.set(key, { leader_index: key, timestamp: at, auto_follow_exception: { type: error.type, reason: error.reason } });
    while (this.#errors.size > MAX_RECENT_ERRORS) this.#errors.delete(this.#errors.keys().next().value!);
    return !repeated;
  }

  view(): PatternStatsView {
    return {
      number_of_successful_follow_indices: this.#successful,
      number_of_failed_follow_indices: this.#failed,
      recent_auto_follow_errors: [...this.#errors.values()],
    };
  }
}

export interface AutoFollowedClusterView {
  readonly cluster_name: string;
  readonly time_since_last_check_millis: number | null;
  /** The poller's state (`waiting`, `polling`...): not a CCR field. */
  readonly state: string;
}

/** The `auto_follow_stats` section of `GET /_ccr/stats`. */
export interface AutoFollowStatsView {
  readonly number_of_failed_follow_indices: number;
  readonly number_of_failed_remote_cluster_state_requests: number;
  readonly number_of_successful_follow_indices: number;
  readonly recent_auto_follow_errors: AutoFollowErrorView[];
  readonly auto_followed_clusters: AutoFollowedClusterView[];
}

export function combineStats(patterns: readonly PatternStatsView[], failedDiscoveries: number, clusters: AutoFollowedClusterView[]): AutoFollowStatsView {
  return {
    number_of_failed_follow_indices: patterns.reduce((sum, p) => sum + p.number_of_failed_follow_indices, 0),
    number_of_failed_remote_cluster_state_requests: failedDiscoveries,
    number_of_successful_follow_indices: patterns.reduce((sum, p) => sum + p.number_of_successful_follow_indices, 0),
    recent_auto_follow_errors: patterns.flatMap((p) => p.recent_auto_follow_errors).sort((a, b) => a.timestamp - b.timestamp),
    auto_followed_clusters: clusters,
  };
}
