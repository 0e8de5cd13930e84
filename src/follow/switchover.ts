/**
 * A planned switchover (README, "Switchover"): the leader index stops taking writes, the follower
 * catches up with everything (operations and deletes), is promoted, and the old leader fails back
 * to follow it — an empty difference, since nothing was lost. The write downtime is from the
 * leader's write block to the promoted index being an ordinary writable index. Running it again
 * the other way round is the switch back.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import type { FollowerKey, PromotionRecord } from '../state/state-store.js';
import type { Sleep } from '../util/sleep.js';
import { FollowError } from './follow-errors.js';
import type { FailbackAnswer, FailbackRequest } from './follow-manager.js';
import type { FollowerIndexStats } from './index-follower.js';

export interface SwitchoverRequest {
  readonly leaderCluster: string;
  readonly leaderIndex: string;
  readonly followerCluster: string;
  readonly followerIndex: string;
  /** Passed to the fail-back (which needs one only if the old leader had writes the follower lacks). */
  readonly lostWritesFile?: string;
  /** How long the follower may take to catch up once the leader is blocked (default 60 s). */
  readonly catchUpTimeoutMs?: number;
}

export interface SwitchoverAnswer {
  /** From the leader's write block to the promoted index taking writes. */
  readonly write_downtime_millis: number;
  /** Of it, the wait for the follower to hold everything the leader had. */
  readonly catch_up_millis: number;
  readonly promotion: PromotionRecord;
  readonly failback: FailbackAnswer;
}

/** What the switchover needs of the follow manager, passed in. */
export interface SwitchoverPorts {
  readonly leader: ClusterClient;
  readonly follower: ClusterClient;
  readonly stats: () => FollowerIndexStats;
  readonly promote: () => Promise<PromotionRecord>;
  readonly failback: (req: FailbackRequest) => Promise<FailbackAnswer>;
  readonly sleep: Sleep;
  readonly now: () => number;
}

const POLL_MS = 100;

export async function runSwitchover(req: SwitchoverRequest, key: FollowerKey, ports: SwitchoverPorts): Promise<SwitchoverAnswer> {
  const leaderName = `${req.leaderCluster}/${req.leaderIndex}`;
  const blockedAt = ports.now();
  try {
    await ports.leader.putSettings(req.leaderIndex, { 'index.blocks.write': true });
  } catch (err) {
    throw new FollowError('illegal_state_exception', `cannot switch over: the write block cannot be put on leader index [${leaderName}] (${(err as Error).message}); nothing was changed`, { cause: err });
  }
  try {
    await waitUntilCaughtUp(req, key, ports, blockedAt + (req.catchUpTimeoutMs ?? 60_000));
  } catch (err) {
    // Not promoted: the leader takes writes again, as before the request.
    await ports.leader.putSettings(req.leaderIndex, { 'index.blocks.write': null }).catch(() => undefined);
    throw err;
  }
  const caughtUpAt = ports.now();
  const promotion = await ports.promote();
  const writableAt = ports.now();
  let failback: FailbackAnswer;
  try {
    failback = await ports.failback({
      promotedCluster: req.followerCluster, promotedIndex: req.followerIndex, oldLeaderCluster: req.leaderCluster, oldLeaderIndex: req.leaderIndex,
      ...(req.lostWritesFile === undefined ? {} : { lostWritesFile: req.lostWritesFile }),
    });
  } catch (err) {
    throw new FollowError('illegal_state_exception',
      `switch-over: [${key}] was promoted and takes writes, but the fail-back of [${leaderName}] failed (${(err as Error).message}): run failback ${key} ${leaderName}`, { cause: err });
  }
  return { write_downtime_millis: writableAt - blockedAt, catch_up_millis: caughtUpAt - blockedAt, promotion, failback };
}

/**
 * Until every follower shard holds every operation of the blocked leader shard (its checkpoint at
 * the leader's max seq_no) and the same number of live documents: deletes arrive by the delete
 * reconciliation, after the operations, and a promotion before them would keep what the leader
 * deleted.
 */
async function waitUntilCaughtUp(req: SwitchoverRequest, key: FollowerKey, ports: SwitchoverPorts, deadline: number): Promise<void> {
  const leaderMax = new Map((await ports.leader.shardSeqNos(req.leaderIndex)).map((s) => [s.shard, s.maxSeqNo]));
  let last = 'not checked yet';
  for (;;) {
    const stats = ports.stats();
    if (stats.status !== 'active') throw new FollowError('illegal_state_exception', `cannot switch over: [${key}] is paused${stats.fatal_exception ? ` (${stats.fatal_exception.reason})` : ''}; the leader's write block was lifted`);
    const behind = stats.shards.filter((s) => s.follower_global_checkpoint < (leaderMax.get(s.shard_id) ?? -1));
    if (behind.length === 0 && stats.shards.length === leaderMax.size) {
      await Promise.all([ports.leader.refresh(req.leaderIndex), ports.follower.refresh(req.followerIndex)]);
      const counts = await Promise.all([...leaderMax.keys()].map(async (shard) => [
        shard, await ports.leader.countShard(req.leaderIndex, shard), await ports.follower.countShard(req.followerIndex, shard),
      ] as const));
      const unequal = counts.filter(([, l, f]) => l !== f);
      if (unequal.length === 0) return;
      last = `deletes not applied yet on shard(s) ${unequal.map(([s, l, f]) => `${s} (${f} documents, the leader ${l})`).join(', ')}`;
    } else {
      last = `shard(s) ${behind.map((s) => `${s.shard_id} at ${s.follower_global_checkpoint} of ${leaderMax.get(s.shard_id)}`).join(', ')} behind`;
    }
    if (ports.now() >= deadline) throw new FollowError('illegal_state_exception', `cannot switch over: [${key}] did not catch up in time (${last}); the leader's write block was lifted, nothing else changed`);
    await ports.sleep(POLL_MS);
  }
}
