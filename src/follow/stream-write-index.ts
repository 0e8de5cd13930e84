/**
 * After a promotion, a followed data stream becomes writable under its name. On the follower
 * cluster the stream is an alias over the follower indices of its backing indices (the
 * auto-follow part adds it, see src/autofollow/stream-aliases.ts), with no write index, since a
 * follower must not take writes. Once they are ordinary indices, the follower of the leader's
 * newest backing index (the stream's write index there) becomes the alias's write index, so
 * applications keep writing to the stream's name. That index is the one with the highest
 * generation, the number a backing index's name ends with (`.ds-<stream>-<date>-000042`).
 *
 * What stays different from a data stream: the alias does not roll over by itself, and a
 * document needs no `@timestamp` (README, "Disaster day").
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import { followerKey } from '../state/state-store.js';

/** One followed backing index of a data stream. */
export interface StreamFollower {
  readonly stream: string;
  readonly followerCluster: string;
  readonly leaderIndex: string;
  readonly followerIndex: string;
}

export interface StreamOutcome {
  /** `cluster/stream` on the follower side. */
  readonly stream: string;
  readonly result: 'writable' | 'would_be_writable' | 'failed';
  /** The follower index that takes the stream's writes. */
  readonly writeIndex?: string;
  readonly reason?: string;
}

export interface StreamWriteOptions {
  /** `cluster/index` of every index that is an ordinary index now (or, on a dry run, would be). */
  readonly ordinary: ReadonlySet<string>;
  /** `cluster/index` of every index this promotion dealt with: streams with none are left alone. */
  readonly touched: ReadonlySet<string>;
  readonly dryRun: boolean;
  readonly connect: (alias: string) => Promise<ClusterClient>;
}

export async function makeStreamsWritable(followers: readonly StreamFollower[], options: StreamWriteOptions): Promise<StreamOutcome[]> {
  const streams = new Map<string, StreamFollower[]>();
  for (const f of followers) {
    const key = followerKey(f.followerCluster, f.stream);
    streams.set(key, [...(streams.get(key) ?? []), f]);
  }
  const outcomes: StreamOutcome[] = [];
  for (const [stream, members] of [...streams].sort(([a], [b]) => a.localeCompare(b))) {
    if (!members.some((m) => options.touched.has(followerKey(m.followerCluster, m.followerIndex)))) continue;
    const newest = [...members].sort(byGeneration).at(-1)!;
    if (!options.ordinary.has(followerKey(newest.followerCluster, newest.followerIndex))) {
      outcomes.push({ stream, result: 'failed', reason: `the follower of its newest backing index, [${newest.followerIndex}], was not promoted` });
      continue;
    }
    if (options.dryRun) {
      outcomes.push({ stream, result: 'would_be_writable', writeIndex: newest.followerIndex });
      continue;
    }
    const readMembers = members.filter((m) => m !== newest && options.ordinary.has(followerKey(m.followerCluster, m.followerIndex)));
    try {
      const client = await options.connect(newest.followerCluster);
      // One request, applied atomically: the ordinary members (already there, unless the alias
      // was never completed) and the write index.
      await client.updateAliases([
        ...(readMembers.length === 0 ? [] : [{ add: { indices: readMembers.map((m) => m.followerIndex), alias: newest.stream } }]),
        { add: { index: newest.followerIndex, alias: newest.stream, is_write_index: true } },
      ]);
      outcomes.push({ stream, result: 'writable', writeIndex: newest.followerIndex });
    } catch (err) {
      outcomes.push({ stream, result: 'failed', writeIndex: newest.followerIndex, reason: (err as Error).message });
    }
  }
  return outcomes;
}

/** Older generations first; a name without one sorts by name, before any with one. */
function byGeneration(a: StreamFollower, b: StreamFollower): number {
  const gen = (f: StreamFollower): number => Number(/-(\d+)$/.exec(f.leaderIndex)?.[1] ?? -1);
  return gen(a) - gen(b) || a.leaderIndex.localeCompare(b.leaderIndex);
}
