/**
 * The recovery point (RPO) of a promoted follower: how much of the leader's history it may lack.
 * Pure functions over what the follower already knows — its shard stats, its persisted
 * checkpoints and when it last heard from the leader — because on the day this is asked the
 * leader is usually gone and cannot be asked again (README, "Disaster day").
 *
 * Per shard, the follower holds every leader operation up to its checkpoint C. The last leader
 * global checkpoint seen, G, says that operations (C, G] existed and were durable on the leader:
 * G - C operations are missing *at least* (the leader may have written more after it was last
 * seen). In time: the follower is known to have held everything the leader had up to a moment T —
 * the last answer of the leader when it was caught up, or, when it was behind, the moment the
 * first operation it lacks was seen (shard stats' `lag_millis` dates it). Every write the leader
 * acknowledged after T may be missing, up to the promotion (the leader may have failed earlier,
 * so this is a bound, not a measure).
 */
import type { ShardStats } from '../shard/shard-stats.js';
import type { PromotionRun, RecoveryPoint, ShardCheckpoints } from '../state/state-store.js';

/** What the computation reads of one follower; all of it from the daemon itself. */
export interface RecoveryInputs {
  /** The shard tasks' last stats (kept after they stop). */
  readonly shards: readonly Pick<ShardStats, 'shard_id' | 'leader_global_checkpoint' | 'lag_millis'>[];
  /** The persisted checkpoints, after the pause flushed them. */
  readonly checkpoints: ShardCheckpoints;
  /** Epoch ms of the leader's last answer; undefined: none since the daemon started the follower. */
  readonly leaderSeenAt: number | undefined;
  /** Epoch ms the stats were read at (lag_millis is relative to it). */
  readonly statsAt: number;
  /** Epoch ms of the promotion. */
  readonly promotedAt: number;
}

export function recoveryPoint(inputs: RecoveryInputs): RecoveryPoint {
  const leaderCheckpoints: Record<number, number> = {};
  let applied = 0;
  let missing = 0;
  let behindSince: number | undefined;
  // A follower whose tasks never started (the leader was already gone when the daemon started)
  // has checkpoints and no task stats: its shards count with nothing seen beyond them.
  const stats = new Map(inputs.shards.map((s) => [s.shard_id, s]));
  const ids = [...new Set([...stats.keys(), ...Object.keys(inputs.checkpoints).map(Number)])].sort((a, b) => a - b);
  for (const shard of ids) {
    const s = stats.get(shard);
    const checkpoint = inputs.checkpoints[shard] ?? -1;
    // Before the leader answered, a task's leader checkpoint is its own starting point: never below what is applied.
    const seen = Math.max(s?.leader_global_checkpoint ?? -1, checkpoint);
    leaderCheckpoints[shard] = seen;
    applied += checkpoint + 1;
    missing += seen - checkpoint;
    if (s && seen > checkpoint && s.lag_millis > 0) {
      const since = inputs.statsAt - s.lag_millis;
      behindSince = behindSince === undefined ? since : Math.min(behindSince, since);
    }
  }
  const completeUntil = behindSince ?? inputs.leaderSeenAt;
  return {
    ...(inputs.leaderSeenAt === undefined ? {} : { leaderSeenAt: new Date(inputs.leaderSeenAt).toISOString() }),
    leaderCheckpoints,
    operationsApplied: applied,
    operationsMissingAtLeast: missing,
    ...(completeUntil === undefined ? {} : { secondsPossiblyMissing: roundSeconds(Math.max(0, inputs.promotedAt - completeUntil)) }),
  };
}

/** The totals over the followers of one promotion run. */
export function runTotals(startedAt: number, points: readonly RecoveryPoint[]): PromotionRun {
  const known = points.map((p) => p.secondsPossiblyMissing).filter((s): s is number => s !== undefined);
  return {
    startedAt: new Date(startedAt).toISOString(),
    followers: points.length,
    operationsMissingAtLeast: points.reduce((sum, p) => sum + p.operationsMissingAtLeast, 0),
    ...(known.length === 0 ? {} : { secondsPossiblyMissing: Math.max(...known) }),
    unknownFollowers: points.length - known.length,
  };
}

/** Tenths of a second: finer would claim a precision the poll intervals do not have. */
function roundSeconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
