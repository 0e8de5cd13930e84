/**
 * Lag of a paused follower. While paused no shard task runs, so nothing watches the leader; this
 * probe asks the leader for its shards' global checkpoints every `intervalMs` (one `_stats` call
 * for the whole index) and remembers, per shard, when it first saw the leader durable above the
 * follower's checkpoint. The follower index overlays that on the stopped tasks' last stats, so
 * `lag_operations` and `lag_millis` keep their meaning while paused, at the probe's resolution
 * (a change is dated when the probe first sees it: up to `intervalMs` late). A failed poll keeps
 * the last known values (the next poll tries again): lag reported while the leader is unreachable
 * is the last seen, never invented. With the leader cluster's shared checkpoint probe
 * (cluster-probes.ts), the poll is a read in its tick lane: paused followers cost no request of
 * their own.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import type { ShardStats } from '../shard/shard-stats.js';
import type { Logger } from '../util/logger.js';
import { sleep } from '../util/sleep.js';
import type { ShardSeqNoState } from '../cluster/types.js';
import type { IndexProbe } from './index-batch-probe.js';

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
    probe?: IndexProbe<ShardSeqNoState[]>,
  ) {
    this.#done = this.#run(client, index, intervalMs, probe);
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

  async #run(client: ClusterClient, index: string, intervalMs: number, probe: IndexProbe<ShardSeqNoState[]> | undefined): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        if (probe) {
          // Registered with the probe's tick for as long as it runs, taking each answer as it comes:
          // the read ends only with an error (then the sleep below) or the abort.
          await probe.read(index, 'tick', signal, (states) => {
            this.#recordAll(states);
            return false;
          });
          continue;
        }
        this.#recordAll(await client.shardSeqNos(index, signal));
      } catch {
        // Safe to ignore: the probe only reports; the last known values stay and the next poll retries.
      }
      await sleep(intervalMs, signal).catch(() => undefined);
    }
  }

  #recordAll(states: readonly ShardSeqNoState[]): void {
    for (const s of states) this.#record(s.shard, s.globalCheckpoint);
    this.#lastAnswerAt = this.now();
  }

  #record(shard: number, globalCheckpoint: number): void {
    const before = this.#shards.get(shard);
    const leaderGlobalCheckpoint = Math.max(globalCheckpoint, before?.leaderGlobalCheckpoint ?? -1);
    const behind = leaderGlobalCheckpoint > (this.checkpoints[shard] ?? -1);
    this.#shards.set(shard, { leaderGlobalCheckpoint, behindSince: behind ? (before?.behindSince ?? this.now()) : undefined });
  }
}

/**
 * The paused-lag probe of one paused follower, if any: started when it pauses, stopped when it
 * resumes or closes, and laid over the stopped tasks' last stats. Best effort: without a leader
 * connection, a paused follower reports its last known lag.
 */
export class PausedLag {
  #entry: { readonly abort: AbortController; probe?: PausedLagProbe } | undefined;

  constructor(
    private readonly connect: (signal: AbortSignal) => Promise<ClusterClient>,
    private readonly leaderIndex: string,
    private readonly logger: Logger,
    /** The leader cluster's shared checkpoint probe, once connected; absent: the index's own `_stats` request. */
    private readonly probeFor?: (leader: ClusterClient) => IndexProbe<ShardSeqNoState[]>,
  ) {}

  /** `checkpoints`: the follower's checkpoints as the pause left them. No-op when running. */
  start(checkpoints: Readonly<Record<number, number>>): void {
    if (this.#entry) return;
    const entry: { readonly abort: AbortController; probe?: PausedLagProbe } = { abort: new AbortController() };
    this.#entry = entry;
    this.connect(entry.abort.signal).then((leader) => {
      if (!entry.abort.signal.aborted) entry.probe = new PausedLagProbe(leader, this.leaderIndex, { ...checkpoints }, undefined, undefined, this.probeFor?.(leader));
    }, (err: unknown) => this.logger.debug(`paused-lag probe not started: ${(err as Error).message}`));
  }

  async stop(): Promise<void> {
    const entry = this.#entry;
    this.#entry = undefined;
    entry?.abort.abort();
    await entry?.probe?.close();
  }

  /** A stopped task's last stats, with lag from what the leader holds now (paused followers only). */
  /** When the probe last had an answer from the leader (epoch ms), if it ran. */
  get lastAnswerAt(): number | undefined {
    return this.#entry?.probe?.lastAnswerAt;
  }

  overlay(stats: ShardStats): ShardStats {
    const probe = this.#entry?.probe;
    const seen = probe?.shard(stats.shard_id);
    if (!probe || !seen) return stats;
    const leaderGlobalCheckpoint = Math.max(stats.leader_global_checkpoint, seen.leaderGlobalCheckpoint);
    const probeLag = seen.behindSince === undefined ? 0 : probe.now() - seen.behindSince;
    return {
      ...stats,
      leader_global_checkpoint: leaderGlobalCheckpoint,
      lag_operations: Math.max(0, leaderGlobalCheckpoint - stats.follower_global_checkpoint),
      lag_millis: Math.max(stats.lag_millis, probeLag),
    };
  }
}
