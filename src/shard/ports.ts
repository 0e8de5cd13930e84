/**
 * The I/O a shard follow task needs, passed in. `follow/` implements them over the cluster layer;
 * unit tests use fakes only to drive what a real node cannot be made to do.
 */
import type { BulkItemResult, ExternalOp, SeqNoHit } from '../cluster/types.js';
import type { Logger } from '../util/logger.js';
import type { Sleep } from '../util/sleep.js';
import type { SharedReadAhead } from './shared-read-ahead.js';

export interface LeaderCheckpoint {
  readonly globalCheckpoint: number;
  readonly maxSeqNo: number;
}

/**
 * Where a shard's read time went, summed over its read requests (milliseconds): waiting until a
 * leader refresh made the window searchable, the search pages, and the check after them (the
 * index's uuid and metadata versions, the follower's mapping brought up to them).
 */
export interface ReadStageMillis {
  readonly visibilityWait: number;
  readonly search: number;
  readonly confirm: number;
}

/** Where a shard's write time went (milliseconds): waiting for a slot of the follower's bulk budget (or a closed index), and the bulk requests. */
export interface WriteStageMillis {
  readonly queued: number;
  readonly bulk: number;
}

export interface LeaderShardReader {
  /**
   * The leader shard's global checkpoint, as soon as it is above `above`, or whatever it is when
   * `timeoutMs` has passed (docs/architecture.md, shard step 1).
   */
  awaitGlobalCheckpoint(above: number, timeoutMs: number, signal: AbortSignal): Promise<LeaderCheckpoint>;
  /**
   * Every live operation with seq_no in (fromExclusive, toInclusive], sorted by seq_no, where
   * `toInclusive` is at or below a global checkpoint seen before. The implementation guarantees
   * they are visible to search (step 2) and that the follower's mapping already covers them (step 8).
   */
  read(fromExclusive: number, toInclusive: number, signal: AbortSignal): Promise<SeqNoHit[]>;
  /** Where the read time went so far, when the implementation measures it. */
  stageMillis?(): ReadStageMillis;
}

export interface FollowerShardWriter {
  write(ops: readonly ExternalOp[], signal: AbortSignal): Promise<BulkItemResult[]>;
  /** How many bulk requests the follower takes at once now, when something shared decides it. */
  concurrencyLimit?(): number;
  /** Where the write time went so far, when the implementation measures it. */
  stageMillis?(): WriteStageMillis;
}

/** What one delete reconciliation pass found and did (docs/architecture.md, shard step 7). */
export interface ReconcileOutcome {
  /** The leader shard's max seq_no read before counting: everything up to it was reconciled when `clean`. */
  readonly leaderMaxSeqNo: number;
  /** Follower documents beyond the leader's live count: how many deletes to look for. */
  readonly excess: number;
  /** Whether ids had to be scanned (only when the counts disagree). */
  readonly scanned: boolean;
  readonly idsChecked: number;
  readonly deleted: number;
  /** No follower document is known to be missing from the leader any more. */
  readonly clean: boolean;
  /** Documents written to the follower by someone else, found by this pass, and how many were put back. */
  readonly foreignWritesDetected: number;
  readonly foreignWritesRepaired: number;
}

export interface ShardReconciler {
  /**
   * Compares the live document counts of the two shards and, only when the follower holds more,
   * scans follower ids, proves with a realtime get that the leader no longer has them, and deletes
   * them on the follower with an external version at least the leader's max seq_no read before it.
   */
  reconcile(signal: AbortSignal): Promise<ReconcileOutcome>;
}

export interface ShardTaskDeps {
  readonly shard: number;
  readonly reader: LeaderShardReader;
  readonly writer: FollowerShardWriter;
  /** Absent: deletes are not reconciled (e.g. unit tests of the read/write loop). */
  readonly reconciler?: ShardReconciler;
  readonly logger: Logger;
  /** Called whenever the follower checkpoint advances; persisting it (batched) is the owner's job. */
  readonly onCheckpoint: (checkpoint: number) => void;
  readonly now?: () => number;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  /** The follower cluster's shared read-ahead (shared-read-ahead.ts); absent: only the shard's own limits. */
  readonly readAhead?: SharedReadAhead;
  /** For tests: the reconciliation timer (ReconcileScheduler's `schedule`). */
  readonly schedule?: (fn: () => void, ms: number) => () => void;
}
