/**
 * Everything ccr-follow must remember across restarts, behind one interface. The embedded backend
 * keeps it in a local directory (`file-state-store.ts`); a later one keeps the same records in a
 * system index on the follower cluster so several daemons can share them (docs/architecture.md,
 * "Where state lives"). So callers see records and keys only: nothing outside `state/` may assume
 * files.
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
  /**
   * The uuids of the leader and follower indices when this follow first ran: an index deleted and
   * created again under its name (also while the daemon was down) gets a new uuid and a new history.
   */
  readonly indexUuids?: { readonly leader: string; readonly follower: string };
  /** Present when this follow is a fail-back: the old leader index following the promoted one. */
  readonly failback?: FailbackPoint;
}

/**
 * What a fail-back follow needs beyond an ordinary follow (README, "Fail back"): the version base
 * its writes go above (every version the old leader index held is below it), and per shard the
 * follower `_seq_no` the foreign-write audit starts above (the old leader's own history before the
 * fail-back is not judged).
 */
export interface FailbackPoint {
  readonly versionBase: number;
  readonly auditFrom: Readonly<Record<number, number>>;
  /** Lost writes the fail-back found (and saved to its file). */
  readonly lostWrites: number;
  /** ISO 8601. */
  readonly at: string;
}

/** Shard id → follower checkpoint: the highest seq_no applied with nothing missing below it; -1 = nothing yet. */
export type ShardCheckpoints = Readonly<Record<number, number>>;

/**
 * An auto-follow pattern (CCR's `PUT /_ccr/auto_follow/<name>`): which leader indices to follow,
 * into which cluster, under which name, with which parameters.
 */
export interface AutoFollowPatternRecord {
  /** Unique; validated by the auto-follow part (no `/`, so it is a safe key here). */
  readonly name: string;
  readonly remoteCluster: string;
  readonly followerCluster: string;
  /** Wildcard patterns (`logs-*`) matched against leader index and data stream names. */
  readonly leaderIndexPatterns: readonly string[];
  readonly leaderIndexExclusionPatterns: readonly string[];
  /** Follower index name template, with `{{leader_index}}`. */
  readonly followIndexPattern: string;
  /** Only the follow parameters the user gave, already parsed to numbers; the rest take defaults. */
  readonly params: Readonly<Record<string, number>>;
  /** Index settings every follower it creates is given (flat names; follower-settings.ts says which), when any. */
  readonly settings?: Readonly<Record<string, string | number | boolean | null>>;
  readonly status: FollowStatus;
  /** ISO 8601 time of the first put: when two patterns match one index, the earlier one follows it. */
  readonly createdAt: string;
  /** ISO 8601 time of the last put or resume: indices created before it are left alone. */
  readonly activeSince: string;
}

/**
 * What a pattern did with one leader index, so that it never considers it again:
 * - `existing`: it existed when the pattern was put or resumed (or was created before that);
 * - `followed`: the pattern started a follower for it (`followerIndex`);
 * - `skipped`: it matched but is not this pattern's to follow (`reason` says why);
 * - `failed`: following it failed with an error that retrying would not fix (`reason`).
 */
export type HandledOutcome = 'existing' | 'followed' | 'skipped' | 'failed';

export interface HandledLeaderIndex {
  readonly leaderIndex: string;
  readonly outcome: HandledOutcome;
  readonly followerIndex?: string;
  /** The data stream the leader index is a backing index of. */
  readonly dataStream?: string;
  readonly reason?: string;
  /** ISO 8601. */
  readonly at: string;
}

/** One shard of a promoted index: where it stood on the leader's history and on its own. */
export interface PromotedShard {
  /** The follower checkpoint: every leader operation up to this `_seq_no` had been applied. */
  readonly leaderCheckpoint: number;
  /** The promoted index's own `max_seq_no` then: its own writes after promotion lie above it. */
  readonly maxSeqNo: number;
}

/**
 * Where a follower index was promoted to an ordinary writable index (`ccr-follow promote`): the
 * point a fail-back starts from instead of copying everything. Keyed like the follower it was.
 */
/**
 * A cluster-metadata pattern: which of a leader cluster's templates, pipelines and lifecycle
 * policies its follower cluster keeps in step (src/cluster-metadata/ reads it), and what its
 * rounds put there.
 */
export interface MetadataPatternRecord {
  /** Unique among cluster-metadata patterns; the same rule as auto-follow pattern names. */
  readonly name: string;
  readonly remoteCluster: string;
  readonly followerCluster: string;
  /** Per item kind (`index_template`, `component_template`, `ingest_pipeline`, `lifecycle_policy`): name patterns. */
  readonly include: Readonly<Record<string, readonly string[]>>;
  /** Per item kind: name patterns left out. */
  readonly exclude: Readonly<Record<string, readonly string[]>>;
  readonly status: FollowStatus;
  /** ISO 8601 time of the first put. */
  readonly createdAt: string;
  /** `<kind>/<name>` of each item a round put → fingerprints of the leader's item and of the follower's as read back. */
  readonly synced: Readonly<Record<string, {
    readonly leaderFingerprint: string;
    readonly followerFingerprint: string;
    /** What the put left out while following, by where it goes back, with the leader's value (restored by promote). */
    readonly heldBack?: Readonly<Record<string, unknown>>;
  }>>;
}

export interface PromotionRecord {
  readonly leaderCluster: string;
  readonly leaderIndex: string;
  readonly followerCluster: string;
  readonly followerIndex: string;
  /** The uuids of both indices as the follow knew them, when it recorded them. */
  readonly indexUuids?: { readonly leader: string; readonly follower: string };
  /** ISO 8601. */
  readonly promotedAt: string;
  readonly shards: Readonly<Record<number, PromotedShard>>;
  /** What the promotion may have cost: the leader's writes the follower may not have had. */
  readonly recoveryPoint?: RecoveryPoint;
  /** The promotion of many followers at once (`promote --all`) this one was part of. */
  readonly run?: PromotionRun;
}

/**
 * The recovery point of one promoted follower (README, "Disaster day"): what ccr-follow last saw of
 * the leader, what the follower had applied, and so what may be missing.
 */
export interface RecoveryPoint {
  /** When ccr-follow last read the leader's checkpoints (ISO 8601); absent: not since the daemon started. */
  readonly leaderSeenAt?: string;
  /** Per shard, the leader's global checkpoint last seen. */
  readonly leaderCheckpoints: Readonly<Record<number, number>>;
  /** Leader operations the follower had applied (every `_seq_no` up to its checkpoint, all shards). */
  readonly operationsApplied: number;
  /** Operations the leader had made durable that the follower had not applied: at least this many are missing. */
  readonly operationsMissingAtLeast: number;
  /**
   * Seconds of the leader's writes that may be missing: from the last moment the follower is known
   * to have held everything the leader had, to the promotion. Absent when unknown (the leader was
   * not seen since the daemon started).
   */
  readonly secondsPossiblyMissing?: number;
}

/** The totals of a promotion of many followers, kept on each record it wrote. */
export interface PromotionRun {
  /** ISO 8601: when the request came in. */
  readonly startedAt: string;
  readonly followers: number;
  readonly operationsMissingAtLeast: number;
  /** The largest of the followers' `secondsPossiblyMissing`; absent when every one is unknown. */
  readonly secondsPossiblyMissing?: number;
  /** Followers whose seconds are unknown. */
  readonly unknownFollowers: number;
}

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
  /**
   * Sets aside the follower's checkpoints that `loadCheckpoints` rejected with a
   * `StateCorruptError`, so that it starts again from -1; the backend keeps them for inspection
   * where it can, and answers where (undefined: nothing was there). Re-reading from -1 is safe:
   * operations are re-applied with external versions (docs/architecture.md, shard step 5).
   */
  discardCheckpoints(key: FollowerKey): Promise<string | undefined>;
  /** Every auto-follow pattern, in no particular order. */
  listAutoFollowPatterns(): Promise<AutoFollowPatternRecord[]>;
  getAutoFollowPattern(name: string): Promise<AutoFollowPatternRecord | undefined>;
  /** Creates or replaces the pattern `record.name`; its handled indices are kept. */
  putAutoFollowPattern(record: AutoFollowPatternRecord): Promise<void>;
  /** Removes the pattern and its handled indices; no error if it does not exist. */
  deleteAutoFollowPattern(name: string): Promise<void>;
  /** `[]` when none were saved. */
  loadHandledIndices(name: string): Promise<HandledLeaderIndex[]>;
  /**
   * Replaces the pattern's handled indices. Rejects with `AutoFollowPatternNotFoundError` when the
   * pattern does not exist, so a round finishing after a delete cannot bring the set back.
   */
  saveHandledIndices(name: string, indices: readonly HandledLeaderIndex[]): Promise<void>;
  /** Creates or replaces the promotion record of `followerKey(record.followerCluster, record.followerIndex)`. */
  putPromotion(record: PromotionRecord): Promise<void>;
  getPromotion(key: FollowerKey): Promise<PromotionRecord | undefined>;
  /** Every promotion record, in no particular order. */
  listPromotions(): Promise<PromotionRecord[]>;
  /** Every cluster-metadata pattern, in no particular order. */
  listMetadataPatterns(): Promise<MetadataPatternRecord[]>;
  /** Creates or replaces the cluster-metadata pattern `record.name`. */
  putMetadataPattern(record: MetadataPatternRecord): Promise<void>;
  /** No error if it does not exist. */
  deleteMetadataPattern(name: string): Promise<void>;
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

/** The key of a follower record, or of the promotion record of the follower it was. */
export function recordKey(record: Pick<FollowerRecord, 'followerCluster' | 'followerIndex'>): FollowerKey {
  return followerKey(record.followerCluster, record.followerIndex);
}

/** `saveCheckpoints` for a follower that does not exist (never created, or deleted meanwhile). */
export class FollowerNotFoundError extends Error {
  override readonly name = 'FollowerNotFoundError';
  constructor(readonly key: FollowerKey) {
    super(`follower ${key} does not exist`);
  }
}

/** `saveHandledIndices` for a pattern that does not exist (never put, or deleted meanwhile). */
export class AutoFollowPatternNotFoundError extends Error {
  override readonly name = 'AutoFollowPatternNotFoundError';
  constructor(readonly pattern: string) {
    super(`auto-follow pattern ${pattern} does not exist`);
  }
}

/**
 * Throws unless `name` can key a pattern's records: non-empty, without `/`. Only what the backends
 * need; the full naming rule is the auto-follow part's (`invalidPatternNameReason`).
 */
export function checkPatternKey(name: string): string {
  if (typeof name !== 'string' || name === '' || name.includes('/')) {
    throw new RangeError(`invalid auto-follow pattern name ${JSON.stringify(name)}: expected a non-empty name without "/"`);
  }
  return name;
}

/**
 * A stored record that cannot be read back: truncated, not JSON, a field missing or of the wrong
 * type, another key's content, or a format this version does not know. `location` names it (a file
 * path for the file backend); `newerFormat` says it was written by a newer ccr-follow, which is no
 * damage and must never be discarded.
 */
export class StateCorruptError extends Error {
  override readonly name = 'StateCorruptError';
  readonly newerFormat: boolean;
  constructor(readonly file: string, readonly detail: string, options?: { cause?: unknown; newerFormat?: boolean }) {
    super(`state file ${file} is unreadable: ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.newerFormat = options?.newerFormat ?? false;
  }
}

/**
 * The state could not be written: the directory (or the index behind the cluster backend) is
 * read-only, full, or refuses this process. `code` says why: the errno name for a directory
 * (`EACCES`, `ENOSPC`, `EROFS`, ...), classify's kind for an index (`security`, `blocked`, ...).
 * `advice`, when given, says what to change (a privilege, a setting). Nothing was changed: a
 * failed write leaves the previous content whole, so the store can be written again as soon as
 * the cause is gone.
 */
export class StateWriteError extends Error {
  override readonly name = 'StateWriteError';
  /** As stats and records show it. */
  readonly type = 'state_write_exception';
  constructor(
    readonly dir: string, readonly code: string, readonly target: string,
    options: { cause: Error; where?: 'directory' | 'index'; advice?: string },
  ) {
    super(`cannot write to the state ${options.where ?? 'directory'} ${dir}: ${code} (${options.cause.message})${options.advice ? `; ${options.advice}` : ''}`,
      { cause: options.cause });
  }
}

/**
 * A conditional write lost: the stored record changed since this store last read it (another
 * daemon, or a write of this one that timed out but landed). Nothing was written; re-read the
 * record (`getFollower`, which also learns its version) and apply the change to what is stored.
 */
export class StateConflictError extends Error {
  override readonly name = 'StateConflictError';
  /** As stats and records show it. */
  readonly type = 'state_conflict_exception';
  constructor(readonly location: string, readonly id: string) {
    super(`state document ${id} in ${location} was changed by another daemon since this one read it; re-read it and try again`);
  }
}
