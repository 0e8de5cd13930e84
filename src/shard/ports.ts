/**
 * The I/O a shard follow task needs, passed in (STYLE.md practice 7). `follow/` implements them
 * over the cluster layer; unit tests use fakes only to drive what a real node cannot be made to do.
 */
import type { BulkItemResult, ExternalOp, SeqNoHit } from '../cluster/types.js';
import type { Logger } from '../util/logger.js';
import type { Sleep } from '../util/sleep.js';

export interface LeaderCheckpoint {
  readonly globalCheckpoint: number;
  readonly maxSeqNo: number;
}

export interface LeaderShardReader {
  /**
   * The leader shard's global checkpoint, as soon as it is above `above`, or whatever it is when
   * `timeoutMs` has passed (DESIGN.md step 1).
   */
  awaitGlobalCheckpoint(above: number, timeoutMs: number, signal: AbortSignal): Promise<LeaderCheckpoint>;
  /**
   * Every live operation with seq_no in (fromExclusive, toInclusive], sorted by seq_no, where
   * `toInclusive` is at or below a global checkpoint seen before. The implementation guarantees
   * they are visible to search (step 2) and that the follower's mapping already covers them (step 8).
   */
  read(fromExclusive: number, toInclusive: number, signal: AbortSignal): Promise<SeqNoHit[]>;
}

export interface FollowerShardWriter {
  write(ops: readonly ExternalOp[], signal: AbortSignal): Promise<BulkItemResult[]>;
}

export interface ShardTaskDeps {
  readonly shard: number;
  readonly reader: LeaderShardReader;
  readonly writer: FollowerShardWriter;
  readonly logger: Logger;
  /** Called whenever the follower checkpoint advances; persisting it (batched) is the owner's job. */
  readonly onCheckpoint: (checkpoint: number) => void;
  readonly now?: () => number;
  readonly sleep?: Sleep;
  readonly random?: () => number;
}
