/**
 * Lag of a paused follower. While paused no shard task runs, so nothing watches the leader; this
 * probe asks the leader for its shards' global checkpoints every `intervalMs` (one `_stats` call
 * for the whole index) and remembers, per shard, when it first saw the leader durable above the
 * follower's checkpoint. The follower index overlays that on the stopped tasks' last stats, so
 * `lag_operations` and `lag_millis` keep their meaning while paused, at the probe's resolution
 * (a change is dated when the probe first sees it: up to `intervalMs` late). A failed poll keeps
 * the last known values (the next poll tries again): lag reported while the leader is unreachable
 * is the last seen, never invented.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import { sleep } from '../util/sleep.js';

export interface PausedShardLag {
  readonly leaderGlobalCheckpoint: number;
  /** When the leader was first seen durable above the follower's checkpoint; undefined if it never was. */
  readonly behindSince: number | undefined;
}

export class PausedLagProbe {
  readonly #abort = new AbortController();
  readonly #shards = new Map<number, PausedShardLag>();
  readonly #done: Promise<void>;
  #lastAnswerAt: number | undefined;

  /** `checkpoints`: the follower's persisted checkpoint per shard, fixed while paused. */
  constructor(
    client: ClusterClient,
    index: string,
    readonly checkpoints: Readonly<Record<number, number>>,
    intervalMs = 1000,
    readonly now: () => number = Date.now,
  ) {
    this.#done = this.#run(client, index, intervalMs);
  }

  /** When the leader last answered (epoch ms); undefined if it never did. */
  get lastAnswerAt(): number | undefined {
    return this.#lastAnswerAt;
  }

  shard(shard: number): PausedShardLag | undefined {
    return this.#shards.get(shard);
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  async #run(client: ClusterClient, index: string, intervalMs: number): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        for (const s of await client.shardSeqNos(index, signal)) this.#record(s.shard, s.globalCheckpoint);
        this.#lastAnswerAt = this.now();
      } catch {
        // Safe to ignore: the probe only reports; the last known values stay and the next poll retries.
      }
      await sleep(intervalMs, signal).catch(() => undefined);
    }
  }

  #record(shard: number, globalCheckpoint: number): void {
    const before = this.#shards.get(shard);
    const leaderGlobalCheckpoint = Math.max(globalCheckpoint, before?.leaderGlobalCheckpoint ?? -1);
    const behind = leaderGlobalCheckpoint > (this.checkpoints[shard] ?? -1);
    this.#shards.set(shard, { leaderGlobalCheckpoint, behindSince: behind ? (before?.behindSince ?? this.now()) : undefined });
  }
}
