/**
 * Follows one leader shard into the follower shard of the same number (docs/architecture.md, "The
 * shard follower, step by step"). Shaped like Elasticsearch's `ShardFollowNodeTask`: two
 * coordinators, `coordinateReads()` and `coordinateWrites()`, each issuing requests while its
 * budget allows, and every completion calls both again. Node needs no locks: all state is plain
 * fields of this object.
 *
 * States (`ShardTaskStates`):
 * - `created`  — built, nothing sent. Left by `start()` (→ running) or `stop()` (→ stopped).
 * - `running`  — polling, reading, writing. Left by `stop()` (→ stopping) or a fatal error (→ failed).
 * - `stopping` — reads aborted and the buffer dropped; writes already sent may land. Left when the
 *                last request settles (→ stopped), or a fatal error meanwhile (→ failed).
 * - `stopped`  — final. The checkpoint covers exactly what was applied.
 * - `failed`   — final, carries the error. The task reports it (`failed` event); the owning
 *                IndexFollower decides what happens to the index.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { classify } from '../cluster/classify.js';
import { errorSummary, IllegalReplicationStateError } from '../cluster/errors.js';
import type { ExternalOp, SeqNoHit } from '../cluster/types.js';
import { sleep as realSleep, type Sleep } from '../util/sleep.js';
import type { Logger } from '../util/logger.js';
import { DEFAULT_FOLLOW_PARAMS, type FollowParams } from './follow-params.js';
import type { FollowerShardWriter, LeaderCheckpoint, LeaderShardReader, ShardReconciler, ShardTaskDeps } from './ports.js';
import { externalVersion } from './external-version.js';
import { ReconcileScheduler } from './reconcile-scheduler.js';
import { retry, RetryPolicy } from '../cluster/retry.js';
import { SeqNoTracker } from './seq-no-tracker.js';
import type { ReadAheadShare } from './shared-read-ahead.js';
import { WriteBuffer } from './write-buffer.js';
import type { ShardExceptionEntry, ShardProgress, ShardStats } from './shard-stats.js';

export const ShardTaskStates = {
  created: 'created',
  running: 'running',
  stopping: 'stopping',
  stopped: 'stopped',
  failed: 'failed',
} as const;
export type ShardTaskState = (typeof ShardTaskStates)[keyof typeof ShardTaskStates];

/** A seq_no window (fromExclusive, toInclusive] read as one request. */
interface ReadWindow {
  readonly from: number;
  readonly to: number;
  /** Operations of this window not yet acknowledged by the follower. */
  remaining: number;
}

interface BufferedHit {
  readonly hit: SeqNoHit;
  readonly window: ReadWindow;
  readonly sizeInBytes: number;
}

export interface ShardTaskEvents {
  'state-change': [{ from: ShardTaskState; to: ShardTaskState }];
  failed: [Error];
}

const RECENT_EXCEPTIONS = 10;
/** Bound on the time-lag bookkeeping; dropping middle marks only coarsens it, never hides lag. */
const MAX_LAG_MARKS = 1000;
/** How long a stop waits for bulk requests already sent before aborting them. */
const DEFAULT_STOP_GRACE_MS = 30_000;
/**
 * With max_outstanding_read_requests at CCR's default, reads stay this many windows ahead of the
 * writes they feed: at most this many reads in flight, and no new one while the buffer and the
 * reads in flight already hold this many write requests' worth of operations. CCR's 12 reads per
 * shard only filled the buffer faster than any follower writes it (36 searches in flight for three
 * shards, each taking seconds, and hundreds of MB buffered), and many small reads made the lag worse.
 */
const READS_AHEAD = 2;

export class ShardFollowTask extends EventEmitter<ShardTaskEvents> {
  readonly shard: number;
  readonly #params: FollowParams;
  readonly #reader: LeaderShardReader;
  readonly #writer: FollowerShardWriter;
  readonly #reconciler: ShardReconciler | undefined;
  readonly #logger: Logger;
  readonly #onCheckpoint: (checkpoint: number) => void;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  readonly #retry: RetryPolicy;
  /** Reads in flight at most, and operations buffered or being read at most (see READS_AHEAD). */
  readonly #maxReads: number;
  readonly #maxAheadOps: number;
  /** This shard's part of the follower cluster's shared read-ahead; absent: only its own limits. */
  readonly #readAhead: ReadAheadShare | undefined;

  #state: ShardTaskState = ShardTaskStates.created;
  #failure: Error | undefined;
  readonly #readAbort = new AbortController();
  readonly #writeAbort = new AbortController();
  readonly #inflight = new Set<Promise<void>>();
  #stopPromise: Promise<void> | undefined;

  readonly #tracker: SeqNoTracker;
  readonly #buffer = new WriteBuffer<BufferedHit>();
  #lastRequestedSeqNo: number;
  #leaderGlobalCheckpoint: number;
  #leaderMaxSeqNo = -1;
  #pollInFlight = false;
  #outstandingReads = 0;
  #outstandingWrites = 0;
  /** Operations in bulk requests not yet answered (waiting for a slot of the follower's budget, or sent). */
  #writingOps = 0;
  /** Read and write requests whose last attempt failed, being retried. */
  #failingRequests = 0;
  /** Sum of the seq_no spans of reads in flight: the most operations they can still bring. */
  #inflightReadSpan = 0;
  #readStoppedBy: string | undefined;
  readonly #reconcileSchedule: ReconcileScheduler;

  // Stats: the fields above plus these counters, read together by stats().
  #successfulReadRequests = 0;
  #failedReadRequests = 0;
  #operationsRead = 0;
  #bytesRead = 0;
  #totalReadTimeMillis = 0;
  #successfulWriteRequests = 0;
  #failedWriteRequests = 0;
  #operationsWritten = 0;
  #totalWriteTimeMillis = 0;
  #lastReadAt: number;
  /** (global checkpoint, when first seen) pairs above our checkpoint, oldest first: time lag. */
  readonly #unappliedSince: { globalCheckpoint: number; seenAt: number }[] = [];
  #peakBufferCount = 0;
  #peakBufferBytes = 0;
  #operationsDeleted = 0;
  #foreignWritesDetected = 0;
  #foreignWritesRepaired = 0;
  #reconciliations = 0;
  #reconciliationScans = 0;
  #reconcileIdsChecked = 0;
  #failedReconciliations = 0;
  #lastReconciliation: string | undefined;
  readonly #recentExceptions: ShardExceptionEntry[] = [];

  constructor(deps: ShardTaskDeps, params: FollowParams, initialCheckpoint: number) {
    super();
    this.shard = deps.shard;
    this.#params = params;
    this.#reader = deps.reader;
    this.#writer = deps.writer;
    this.#reconciler = deps.reconciler;
    this.#logger = deps.logger.child({ shard: deps.shard });
    this.#onCheckpoint = deps.onCheckpoint;
    this.#now = deps.now ?? Date.now;
    this.#sleep = deps.sleep ?? realSleep;
    this.#retry = new RetryPolicy(params.max_retry_delay, deps.random);
    // A parameter left at CCR's default is a ceiling the task stays well under; one that was set is used as given.
    const adaptive = params.max_outstanding_read_requests === DEFAULT_FOLLOW_PARAMS.max_outstanding_read_requests;
    this.#maxReads = adaptive ? Math.min(READS_AHEAD, params.max_outstanding_read_requests) : params.max_outstanding_read_requests;
    this.#maxAheadOps = adaptive ? READS_AHEAD * this.#windowOps() : Number.POSITIVE_INFINITY;
    this.#readAhead = deps.readAhead?.join(this.#windowOps());
    this.#tracker = new SeqNoTracker(initialCheckpoint);
    this.#lastRequestedSeqNo = initialCheckpoint;
    this.#leaderGlobalCheckpoint = initialCheckpoint;
    this.#lastReadAt = this.#now();
    this.#reconcileSchedule = new ReconcileScheduler({
      intervalMs: params.reconcile_interval, now: this.#now, onDue: () => this.#coordinateReconcile(),
      ...(deps.schedule ? { schedule: deps.schedule } : {}),
    });
    // Every in-flight request and sleep listens on these signals; dozens at once is expected.
    setMaxListeners(0, this.#readAbort.signal, this.#writeAbort.signal);
  }

  get state(): ShardTaskState {
    return this.#state;
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  get checkpoint(): number {
    return this.#tracker.checkpoint;
  }

  start(): void {
    this.#enter(ShardTaskStates.running, [ShardTaskStates.created]);
    this.#coordinateReads();
  }

  /**
   * Stops reading at once, drops buffered operations (they are re-read from the checkpoint later),
   * lets bulk requests already sent land for up to `graceMs`, then settles. Idempotent.
   */
  stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
    this.#stopPromise ??= this.#drainAndStop(graceMs);
    return this.#stopPromise;
  }

  async #drainAndStop(graceMs: number): Promise<void> {
    if (this.#state === ShardTaskStates.created) {
      this.#enter(ShardTaskStates.stopped, [ShardTaskStates.created]);
      return;
    }
    if (this.#state === ShardTaskStates.running) this.#enter(ShardTaskStates.stopping, [ShardTaskStates.running]);
    this.#readAbort.abort();
    this.#buffer.clear();
    this.#reconcileSchedule.stop();
    // Only the bulks already sent are left of what it held: the others may read into the rest.
    this.#readAhead?.leaveLine();
    this.#readAhead?.report(this.#writingOps);
    const timer = setTimeout(() => this.#writeAbort.abort(), graceMs);
    try {
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    } finally {
      clearTimeout(timer);
    }
    if (this.#state === ShardTaskStates.stopping) this.#enter(ShardTaskStates.stopped, [ShardTaskStates.stopping]);
  }

  // ---- coordinators -------------------------------------------------------------------------

  #coordinateReads(): void {
    if (this.#state !== ShardTaskStates.running) return;
    const maxOps = this.#params.max_read_request_operation_count;
    this.#reportReadAhead();
    let waitingForTurn = false;
    while (this.#lastRequestedSeqNo < this.#leaderGlobalCheckpoint && this.#hasReadBudget()) {
      const from = this.#lastRequestedSeqNo;
      const to = Math.min(from + maxOps, this.#leaderGlobalCheckpoint);
      if (this.#readAhead && !this.#readAhead.tryTake(to - from, () => this.#coordinateReads())) {
        waitingForTurn = true;
        break;
      }
      this.#lastRequestedSeqNo = to;
      this.#track(this.#sendRead(from, to));
    }
    if (!waitingForTurn) this.#readAhead?.leaveLine();
    // Everything known has been requested: ask the leader for more, once, while there is room.
    if (!this.#pollInFlight && this.#lastRequestedSeqNo >= this.#leaderGlobalCheckpoint && this.#pollWorthIssuing()) {
      this.#track(this.#poll());
    }
    this.#coordinateReconcile();
  }

  /**
   * Deletes cannot be read (docs/architecture.md, shard step 7): once the shard is caught up, a
   * reconciliation pass runs when ReconcileScheduler says one is due.
   */
  #coordinateReconcile(): void {
    if (!this.#reconciler || this.#state !== ShardTaskStates.running) return;
    const caughtUp = this.#tracker.checkpoint >= this.#leaderGlobalCheckpoint && this.#outstandingReads === 0
      && this.#outstandingWrites === 0 && this.#buffer.count === 0;
    if (caughtUp && this.#reconcileSchedule.shouldStart(this.#leaderMaxSeqNo)) this.#track(this.#reconcile(this.#reconciler));
  }

  async #reconcile(reconciler: ShardReconciler): Promise<void> {
    let cleanUpTo: number | undefined;
    try {
      const outcome = await this.#withRetries('reconcile', () => this.#tracker.checkpoint, this.#readAbort.signal, () => reconciler.reconcile(this.#readAbort.signal));
      if (outcome === ABORTED) return;
      this.#reconciliations += 1;
      this.#lastReconciliation = new Date(this.#now()).toISOString();
      if (outcome.scanned) this.#reconciliationScans += 1;
      this.#reconcileIdsChecked += outcome.idsChecked;
      this.#operationsDeleted += outcome.deleted;
      this.#foreignWritesDetected += outcome.foreignWritesDetected;
      this.#foreignWritesRepaired += outcome.foreignWritesRepaired;
      if (outcome.clean) cleanUpTo = outcome.leaderMaxSeqNo;
      if (outcome.deleted > 0 || outcome.scanned) {
        this.#logger.info(`reconciled deletes: ${outcome.deleted} deleted after checking ${outcome.idsChecked} ids`, { excess: outcome.excess });
      }
    } finally {
      this.#reconcileSchedule.finished(cleanUpTo);
    }
    this.#coordinateReconcile();
  }

  #coordinateWrites(): void {
    if (this.#state !== ShardTaskStates.running) return;
    // The writer may say how many bulks the follower takes at once now (a shared, adaptive budget):
    // more from this shard would only wait, holding operations read too early.
    const maxWrites = Math.min(this.#params.max_outstanding_write_requests, this.#writer.concurrencyLimit?.() ?? Number.POSITIVE_INFINITY);
    while (this.#buffer.count > 0 && this.#outstandingWrites < maxWrites) {
      const batch = this.#buffer.take(this.#params.max_write_request_operation_count, this.#params.max_write_request_size);
      this.#track(this.#sendWrite(batch));
    }
  }

  /**
   * Both budgets of a read; logs (at debug) which one stopped reading, once per change.
   * The buffer budget also counts what reads already in flight may still bring (their seq_no span,
   * at the average operation size seen so far), so the buffer ends at most one read over its limit
   * however many reads are in flight. (Bulk requests in flight are bounded on their own by
   * max_outstanding_write_requests × max_write_request_size, as in CCR.)
   */
  #hasReadBudget(): boolean {
    let stoppedBy: string | undefined;
    if (this.#outstandingReads >= this.#maxReads) stoppedBy = 'max_outstanding_read_requests';
    else if (this.#committedOps() >= this.#maxAheadOps) stoppedBy = `${READS_AHEAD} write requests' worth of operations buffered or being read`;
    else if (this.#committedOps() >= this.#params.max_write_buffer_count) stoppedBy = 'max_write_buffer_count';
    else if (this.#committedBytes() >= this.#params.max_write_buffer_size) stoppedBy = 'max_write_buffer_size';
    if (stoppedBy !== this.#readStoppedBy) {
      if (stoppedBy) this.#logger.debug(`reads paused: ${stoppedBy} reached`, { buffer_ops: this.#buffer.count, buffer_bytes: this.#buffer.sizeInBytes });
      this.#readStoppedBy = stoppedBy;
    }
    return stoppedBy === undefined;
  }

  /**
   * Tells the shared read-ahead what this shard holds: buffered, being read, or in bulks not yet
   * answered. Nothing while one of its requests is failing (a leader unreachable, a follower index
   * blocked or closed): it may fail for hours, and what it holds must not keep the shards of other
   * indices on the same follower cluster from reading. Its own limits still bound it.
   */
  #reportReadAhead(): void {
    this.#readAhead?.report(this.#failingRequests > 0 ? 0 : this.#committedOps() + this.#writingOps);
  }

  /** The operations of one window: one read, or one write request, whichever is larger. */
  #windowOps(): number {
    return Math.max(this.#params.max_read_request_operation_count, this.#params.max_write_request_operation_count);
  }

  /** Operations buffered, or possibly coming from reads in flight. */
  #committedOps(): number {
    return this.#buffer.count + this.#inflightReadSpan;
  }

  #committedBytes(): number {
    const averageOpBytes = this.#operationsRead === 0 ? 0 : this.#bytesRead / this.#operationsRead;
    return this.#buffer.sizeInBytes + this.#inflightReadSpan * averageOpBytes;
  }

  /**
   * Whether a poll for new operations is worth issuing: only when a read could follow it. Not while
   * every read slot is busy: reads then wait seconds for a leader refresh under load, and polling
   * meanwhile (every 50 ms while checkpoints move) was most of the requests to the leader, for an
   * answer no read could use; the poll after a read ends finds whatever moved since.
   */
  #pollWorthIssuing(): boolean {
    return this.#outstandingReads < this.#maxReads
      && this.#committedOps() < Math.min(this.#params.max_write_buffer_count, this.#maxAheadOps) && this.#committedBytes() < this.#params.max_write_buffer_size;
  }

  // ---- requests -------------------------------------------------------------------------------

  async #poll(): Promise<void> {
    this.#pollInFlight = true;
    try {
      const above = this.#lastRequestedSeqNo;
      const result = await this.#withRetries('read', () => above, this.#readAbort.signal, () =>
        this.#reader.awaitGlobalCheckpoint(above, this.#params.read_poll_timeout, this.#readAbort.signal));
      if (result === ABORTED) return;
      this.#updateLeader(result);
      this.#lastReadAt = this.#now();
    } finally {
      this.#pollInFlight = false;
    }
    this.#coordinateReads();
  }

  async #sendRead(from: number, to: number): Promise<void> {
    this.#outstandingReads += 1;
    this.#inflightReadSpan += to - from;
    const started = this.#now();
    try {
      const fetched = await this.#withRetries('read', () => from, this.#readAbort.signal, () => this.#reader.read(from, to, this.#readAbort.signal));
      if (fetched === ABORTED || this.#state !== ShardTaskStates.running) return;
      // Keep at most max_read_request_size (plus the op that crosses it, so a huge document still
      // moves); the rest of the window is read again by a follow-up request, as CCR does.
      const hits = withinBytes(fetched, this.#params.max_read_request_size);
      const keptTo = hits.length < fetched.length ? hits[hits.length - 1]!.seqNo : to;
      this.#successfulReadRequests += 1;
      this.#operationsRead += hits.length;
      this.#totalReadTimeMillis += this.#now() - started;
      this.#lastReadAt = this.#now();
      if (keptTo < to) this.#track(this.#sendRead(keptTo, to));
      const window: ReadWindow = { from, to: keptTo, remaining: hits.length };
      if (hits.length === 0) {
        this.#completeWindow(window);
      } else {
        const buffered = hits.map((hit) => ({ hit, window, sizeInBytes: hit.sizeInBytes }));
        this.#bytesRead += buffered.reduce((sum, b) => sum + b.sizeInBytes, 0);
        this.#buffer.push(buffered);
        this.#peakBufferCount = Math.max(this.#peakBufferCount, this.#buffer.count);
        this.#peakBufferBytes = Math.max(this.#peakBufferBytes, this.#buffer.sizeInBytes);
      }
    } finally {
      this.#outstandingReads -= 1;
      this.#inflightReadSpan -= to - from;
    }
    this.#coordinateWrites();
    this.#coordinateReads();
  }

  async #sendWrite(batch: BufferedHit[]): Promise<void> {
    this.#outstandingWrites += 1;
    this.#writingOps += batch.length;
    let pending = batch;
    try {
      const done = await this.#withRetries('write', () => pending[0]!.hit.seqNo, this.#writeAbort.signal, async () => {
        const started = this.#now();
        const results = await this.#writer.write(pending.map(toExternalOp), this.#writeAbort.signal);
        if (results.length !== pending.length) throw new IllegalReplicationStateError(`bulk answered ${results.length} items for ${pending.length} operations`);
        this.#successfulWriteRequests += 1;
        this.#totalWriteTimeMillis += this.#now() - started;
        const again: BufferedHit[] = [];
        let againError: unknown;
        for (const [i, result] of results.entries()) {
          const op = pending[i]!;
          if (result.outcome !== 'failed') {
            this.#operationsWritten += 1;
            this.#acknowledge(op);
            continue;
          }
          // A fatal item fails the task at once; a retryable one (throttled, blocked) is sent again.
          if (classify(result.error).action === 'fatal') throw result.error;
          again.push(op);
          againError ??= result.error;
        }
        pending = again;
        // Retry just the items that failed, after a backoff, as one more attempt of this request.
        if (again.length > 0) throw againError;
      });
      if (done === ABORTED) return;
    } finally {
      this.#outstandingWrites -= 1;
      this.#writingOps -= batch.length;
    }
    this.#coordinateWrites();
    // A write made room in the buffer, and the follower may still be behind: reads may resume.
    this.#coordinateReads();
  }

  #acknowledge(op: BufferedHit): void {
    op.window.remaining -= 1;
    if (op.window.remaining === 0) this.#completeWindow(op.window);
  }

  #completeWindow(window: ReadWindow): void {
    if (this.#tracker.markCompleted(window.from, window.to)) {
      const checkpoint = this.#tracker.checkpoint;
      while (this.#unappliedSince.length > 0 && this.#unappliedSince[0]!.globalCheckpoint <= checkpoint) this.#unappliedSince.shift();
      this.#onCheckpoint(checkpoint);
    }
  }

  #updateLeader(leader: LeaderCheckpoint): void {
    if (leader.globalCheckpoint > this.#leaderGlobalCheckpoint) {
      // Operations in (previous, new] were first seen now: the oldest unapplied one dates the lag.
      this.#unappliedSince.push({ globalCheckpoint: leader.globalCheckpoint, seenAt: this.#now() });
      if (this.#unappliedSince.length > MAX_LAG_MARKS) this.#unappliedSince.splice(1, 1);
      this.#leaderGlobalCheckpoint = leader.globalCheckpoint;
    }
    this.#leaderMaxSeqNo = Math.max(this.#leaderMaxSeqNo, leader.maxSeqNo);
  }

  /**
   * Runs `fn` through `retry()` (cluster/retry.ts): what `classify` calls retryable is counted,
   * recorded and tried again after a backoff; a fatal error fails the task; an abort of `signal`
   * (stop, failure) returns ABORTED. Never throws.
   */
  async #withRetries<T>(kind: 'read' | 'write' | 'reconcile', fromSeqNo: () => number, signal: AbortSignal, fn: () => Promise<T>): Promise<T | typeof ABORTED> {
    let failing = false;
    try {
      return await retry(fn, {
        signal, policy: this.#retry, sleep: this.#sleep,
        onRetry: ({ error, reason, attempt }) => {
          if (kind === 'read') this.#failedReadRequests += 1;
          else if (kind === 'write') this.#failedWriteRequests += 1;
          else this.#failedReconciliations += 1;
          this.#recordException(kind, fromSeqNo(), attempt, error, reason);
          if (!failing && kind !== 'reconcile') {
            failing = true;
            this.#failingRequests += 1;
            this.#reportReadAhead();
          }
        },
      });
    } catch (err) {
      if (!signal.aborted) this.#fail(err instanceof Error ? err : new Error(String(err)));
      return ABORTED;
    } finally {
      if (failing) {
        this.#failingRequests -= 1;
        if (this.#state === ShardTaskStates.running) this.#reportReadAhead();
      }
    }
  }

  #recordException(kind: 'read' | 'write' | 'reconcile', fromSeqNo: number, attempt: number, err: unknown, reason: string): void {
    const exception = errorSummary(err);
    this.#recentExceptions.push({ kind, from_seq_no: fromSeqNo, retries: attempt, at: new Date(this.#now()).toISOString(), exception });
    if (this.#recentExceptions.length > RECENT_EXCEPTIONS) this.#recentExceptions.shift();
    // Log the first failure of a request and then every 20th, so a long outage does not flood the log.
    if (attempt === 1 || attempt % 20 === 0) {
      this.#logger.warn(`${kind} failed, retrying (attempt ${attempt}): ${reason}`, { from_seq_no: fromSeqNo });
    }
  }

  #fail(err: Error): void {
    if (this.#state === ShardTaskStates.failed || this.#state === ShardTaskStates.stopped) return;
    this.#failure = err;
    this.#enter(ShardTaskStates.failed, [ShardTaskStates.running, ShardTaskStates.stopping]);
    this.#readAbort.abort();
    this.#writeAbort.abort();
    this.#buffer.clear();
    this.#reconcileSchedule.stop();
    this.#logger.error(`shard follow task failed: ${err.message}`);
    this.emit('failed', err);
  }

  #track(work: Promise<void>): void {
    const guarded = work.catch((err: unknown) => this.#fail(err instanceof Error ? err : new Error(String(err))));
    this.#inflight.add(guarded);
    void guarded.finally(() => this.#inflight.delete(guarded));
  }

  #enter(to: ShardTaskState, allowedFrom: readonly ShardTaskState[]): void {
    const from = this.#state;
    if (!allowedFrom.includes(from)) throw new Error(`shard ${this.shard}: illegal state change ${from} → ${to}`);
    this.#state = to;
    // A stopped or failed task holds nothing (bulks a stopping one already sent are still counted).
    if (to === ShardTaskStates.stopped || to === ShardTaskStates.failed) this.#readAhead?.close();
    this.#logger.debug(`state ${from} → ${to}`);
    this.emit('state-change', { from, to });
  }

  // ---- stats ----------------------------------------------------------------------------------

  /**
   * The few figures that say whether the shard has caught up, without a whole stats snapshot: read
   * every second for every follower (catch-up-logger.ts), so it must stay cheap.
   */
  progress(): ShardProgress {
    const now = this.#now();
    return {
      shard_id: this.shard,
      operations_written: this.#operationsWritten,
      lag_operations: Math.max(0, this.#leaderGlobalCheckpoint - this.#tracker.checkpoint),
      lag_millis: this.#lagMillis(now),
    };
  }

  /** How long the oldest operation seen on the leader but not applied here has waited. */
  #lagMillis(now: number): number {
    return this.#unappliedSince.length === 0 ? 0 : now - this.#unappliedSince[0]!.seenAt;
  }

  /** The reader's and writer's own breakdown of their time, when they measure it. */
  #stageMillis(): Partial<ShardStats> {
    const read = this.#reader.stageMillis?.();
    const write = this.#writer.stageMillis?.();
    return {
      ...(read ? {
        total_read_visibility_wait_millis: Math.round(read.visibilityWait),
        total_read_search_millis: Math.round(read.search),
        total_read_confirm_millis: Math.round(read.confirm),
      } : {}),
      ...(write ? { total_write_queued_millis: Math.round(write.queued), total_write_bulk_millis: Math.round(write.bulk) } : {}),
    };
  }

  /** One consistent snapshot, with CCR's field names (README, "Stats"). */
  stats(): ShardStats {
    const now = this.#now();
    const checkpoint = this.#tracker.checkpoint;
    return {
      shard_id: this.shard,
      state: this.#state,
      leader_global_checkpoint: this.#leaderGlobalCheckpoint,
      leader_max_seq_no: this.#leaderMaxSeqNo,
      follower_global_checkpoint: checkpoint,
      last_requested_seq_no: this.#lastRequestedSeqNo,
      outstanding_read_requests: this.#outstandingReads,
      outstanding_write_requests: this.#outstandingWrites,
      write_buffer_operation_count: this.#buffer.count,
      write_buffer_size_in_bytes: this.#buffer.sizeInBytes,
      peak_write_buffer_operation_count: this.#peakBufferCount,
      peak_write_buffer_size_in_bytes: this.#peakBufferBytes,
      successful_read_requests: this.#successfulReadRequests,
      failed_read_requests: this.#failedReadRequests,
      operations_read: this.#operationsRead,
      bytes_read: this.#bytesRead,
      total_read_time_millis: this.#totalReadTimeMillis,
      successful_write_requests: this.#successfulWriteRequests,
      failed_write_requests: this.#failedWriteRequests,
      operations_written: this.#operationsWritten,
      total_write_time_millis: this.#totalWriteTimeMillis,
      ...this.#stageMillis(),
      read_exceptions: this.#recentExceptions.filter((e) => e.kind === 'read'),
      write_exceptions: this.#recentExceptions.filter((e) => e.kind === 'write'),
      reconcile_exceptions: this.#recentExceptions.filter((e) => e.kind === 'reconcile'),
      operations_deleted: this.#operationsDeleted,
      foreign_writes_detected: this.#foreignWritesDetected,
      foreign_writes_repaired: this.#foreignWritesRepaired,
      reconciliations: this.#reconciliations,
      reconciliation_id_scans: this.#reconciliationScans,
      reconciliation_ids_checked: this.#reconcileIdsChecked,
      failed_reconciliations: this.#failedReconciliations,
      ...(this.#lastReconciliation ? { last_reconciliation: this.#lastReconciliation } : {}),
      time_since_last_read_millis: now - this.#lastReadAt,
      lag_operations: Math.max(0, this.#leaderGlobalCheckpoint - checkpoint),
      lag_millis: this.#lagMillis(now),
      ...(this.#failure ? { fatal_exception: errorSummary(this.#failure) } : {}),
    };
  }
}

const ABORTED = Symbol('aborted');

/** The longest prefix of `hits` within `maxBytes`, plus the hit that crosses it. */
function withinBytes(hits: readonly SeqNoHit[], maxBytes: number): readonly SeqNoHit[] {
  let bytes = 0;
  for (const [i, hit] of hits.entries()) {
    bytes += hit.sizeInBytes;
    if (bytes >= maxBytes) return hits.slice(0, i + 1);
  }
  return hits;
}

function toExternalOp(b: BufferedHit): ExternalOp {
  // The version grows with the leader's seq_no: later operations always win, replays are no-ops.
  return { op: 'index', id: b.hit.id, routing: b.hit.routing, version: externalVersion(b.hit.seqNo), sourceJson: b.hit.sourceBytes ?? b.hit.sourceJson };
}
