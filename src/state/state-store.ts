/**
 * Everything ccr-follow must remember across restarts, behind one interface. The embedded backend
 * keeps it in a local directory (`file-state-store.ts`); a later one keeps the same records in a
 * system index on the follower cluster so several daemons can share them (DESIGN.md, "Past one
 * daemon"). So callers see records and keys only: nothing outside `state/` may assume files.
 */

/** `${followerCluster}/${followerIndex}`: unique, since aliases and index names cannot hold `/`. */
export type FollowerKey = string;

export type FollowStatus = 'active' | 'paused';

/** Why a follower was paused by an error rather than by a user (CCR's `fatal_exception`). */
export interface FatalException {
  readonly type: string;
  readonly reason: string;
  /** ISO 8601 time the error was recorded. */
  readonly at: string;
}

export interface FollowerRecord {
  readonly leaderCluster: string;
  readonly leaderIndex: string;
  readonly followerCluster: string;
  readonly followerIndex: string;
  /** Follow parameters (`max_read_request_operation_count`, ...), already parsed to numbers. */
  readonly params: Readonly<Record<string, number>>;
  readonly status: FollowStatus;
  readonly fatalException?: FatalException;
  /** ISO 8601. */
  readonly createdAt: string;
}

/** Shard id → follower checkpoint: the highest seq_no applied with nothing missing below it; -1 = nothing yet. */
export type ShardCheckpoints = Readonly<Record<number, number>>;

export interface StateStore {
  listFollowers(): Promise<FollowerRecord[]>;
  getFollower(key: FollowerKey): Promise<FollowerRecord | undefined>;
  /** Creates or replaces the record under `followerKey(record.followerCluster, record.followerIndex)`. */
  putFollower(record: FollowerRecord): Promise<void>;
  /** Removes the record and its checkpoints; no error if it does not exist. */
  deleteFollower(key: FollowerKey): Promise<void>;
  /** `{}` when none were saved. */
  loadCheckpoints(key: FollowerKey): Promise<ShardCheckpoints>;
  /**
   * Replaces the follower's checkpoints. Rejects when the follower does not exist, so a late save
   * from a stopping task cannot resurrect checkpoints after `deleteFollower` (a later follower of
   * the same name would otherwise resume from them and skip data).
   */
  saveCheckpoints(key: FollowerKey, checkpoints: ShardCheckpoints): Promise<void>;
  /** Waits for pending writes, then releases the store. Idempotent. */
  close(): Promise<void>;
}

export function followerKey(cluster: string, index: string): FollowerKey {
  for (const [what, value] of [['cluster', cluster], ['index', index]] as const) {
    if (value === '' || value.includes('/')) {
      throw new RangeError(`invalid follower ${what} ${JSON.stringify(value)}: expected a non-empty name without "/"`);
    }
  }
  return `${cluster}/${index}`;
}

export function recordKey(record: FollowerRecord): FollowerKey {
  return followerKey(record.followerCluster, record.followerIndex);
}

/** `saveCheckpoints` for a follower that does not exist (never created, or deleted meanwhile). */
export class FollowerNotFoundError extends Error {
  override readonly name = 'FollowerNotFoundError';
  constructor(readonly key: FollowerKey) {
    super(`follower ${key} does not exist`);
  }
}
