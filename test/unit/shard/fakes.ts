/**
 * Fakes of the shard task's ports. They exist to drive what a real node cannot be made to do on
 * demand: exactly N failures, a 429 storm, a follower that stalls, a poll that times out now. The
 * leader is an in-memory seq_no history; the follower applies `version_type=external` the way
 * Elasticsearch does.
 */
import { externalVersion } from '../../../src/shard/external-version.js';
import { setImmediate as nextTick } from 'node:timers/promises';
import { ClusterResponseError } from '../../../src/cluster/errors.js';
import type { BulkItemResult, ExternalOp, SeqNoHit } from '../../../src/cluster/types.js';
import type { FollowerShardWriter, LeaderCheckpoint, LeaderShardReader } from '../../../src/shard/ports.js';
import { DEFAULT_FOLLOW_PARAMS, type FollowParams } from '../../../src/shard/follow-params.js';
import { ShardFollowTask, type ShardTaskState } from '../../../src/shard/shard-follow-task.js';
import { abortError, type Sleep } from '../../../src/util/sleep.js';
import { silentLogger } from '../../../src/util/logger.js';

// ---- waiting ------------------------------------------------------------------------------------

/** Polls `cond` once per event-loop turn until it holds, or fails after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 2000, what: string | (() => string) = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await nextTick();
  }
}

/**
 * Lets `n` event-loop turns pass. Every fake settles within one or two turns, so this is how a test
 * shows that something does *not* happen (no new read while the buffer is full); it never stands in
 * for waiting on a condition, which is `until`'s job.
 */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) await nextTick();
}

/** Resolves with `promise`, or rejects naming `what` if it has not settled after `timeoutMs`. */
export async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- errors -------------------------------------------------------------------------------------

export function responseError(statusCode: number, esType: string, alias = 'leader', operation = 'search'): ClusterResponseError {
  return new ClusterResponseError({ alias, operation, statusCode, esType, reason: `${esType} (fake)` });
}

// ---- sleep --------------------------------------------------------------------------------------

/** A `Sleep` that resolves at once, or, with `hold`, only when released or aborted. */
export class FakeSleep {
  readonly calls: Array<{ readonly ms: number; readonly signal: AbortSignal | undefined }> = [];
  hold = false;
  readonly #held: Array<() => void> = [];

  readonly sleep: Sleep = (ms, signal) => {
    this.calls.push({ ms, signal });
    if (signal?.aborted) return Promise.reject(abortError());
    if (!this.hold) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(abortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#held.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  };

  releaseAll(): void {
    this.hold = false;
    for (const release of this.#held.splice(0)) release();
  }
}

// ---- leader -------------------------------------------------------------------------------------

interface LiveDoc {
  readonly seqNo: number;
  readonly sourceJson: string;
}

interface PollWaiter {
  readonly above: number;
  readonly resolve: (c: LeaderCheckpoint) => void;
}

type ErrorFactory = () => unknown;

/**
 * One leader shard: a seq_no history in which only each document's latest operation is live, so
 * overwritten, deleted and no-op seq_nos have no document. `read` answers from the live documents
 * as they are at the time of the call, as a search does.
 */
export class FakeLeader implements LeaderShardReader {
  #maxSeqNo = -1;
  #globalCheckpoint = -1;
  readonly #live = new Map<string, LiveDoc>();
  readonly #waiters = new Set<PollWaiter>();
  readonly #readFailures: ErrorFactory[] = [];
  #failAllReads: ErrorFactory | undefined;
  #holdReads = false;
  readonly #heldReads: Array<() => void> = [];

  readonly readCalls: Array<{ readonly from: number; readonly to: number; readonly signal: AbortSignal }> = [];
  /** Seq_nos of the hits each read call answered, by call index. */
  readonly readAnswers: number[][] = [];
  readonly pollCalls: Array<{ readonly above: number; readonly timeoutMs: number; readonly signal: AbortSignal }> = [];
  readsInFlight = 0;
  maxReadsInFlight = 0;
  /** Contract breaches seen: a read above any global checkpoint handed out. */
  readonly violations: string[] = [];
  #highestCheckpointHandedOut = -1;

  get globalCheckpoint(): number {
    return this.#globalCheckpoint;
  }

  get maxSeqNo(): number {
    return this.#maxSeqNo;
  }

  get pendingPolls(): number {
    return this.#waiters.size;
  }

  /** Indexes (or overwrites) `id`; returns its seq_no. */
  index(id: string, sourceJson = JSON.stringify({ id, at: this.#maxSeqNo + 1 })): number {
    this.#maxSeqNo += 1;
    this.#live.set(id, { seqNo: this.#maxSeqNo, sourceJson });
    return this.#maxSeqNo;
  }

  /** A seq_no that leaves no live document (a no-op, or a delete of a document never seen). */
  noop(): number {
    this.#maxSeqNo += 1;
    return this.#maxSeqNo;
  }

  /** Raises the global checkpoint (default: to max_seq_no) and answers waiting polls. */
  advance(to = this.#maxSeqNo): void {
    if (to > this.#maxSeqNo) throw new Error(`fake leader: global checkpoint ${to} above max_seq_no ${this.#maxSeqNo}`);
    this.#globalCheckpoint = Math.max(this.#globalCheckpoint, to);
    for (const waiter of [...this.#waiters]) {
      if (this.#globalCheckpoint > waiter.above) {
        this.#waiters.delete(waiter);
        waiter.resolve(this.#checkpointNow());
      }
    }
  }

  /** Ends every waiting poll as if `read_poll_timeout` had passed. */
  timeoutPolls(): void {
    for (const waiter of [...this.#waiters]) {
      this.#waiters.delete(waiter);
      waiter.resolve(this.#checkpointNow());
    }
  }

  /** The next `n` read calls fail with `make()`. */
  failNextReads(n: number, make: ErrorFactory): void {
    for (let i = 0; i < n; i += 1) this.#readFailures.push(make);
  }

  /** Every read call fails with `make()` (until `undefined` is passed). */
  failAllReads(make: ErrorFactory | undefined): void {
    this.#failAllReads = make;
  }

  /** Read calls stay in flight until `releaseReads()` or their signal aborts. */
  holdReads(): void {
    this.#holdReads = true;
  }

  releaseReads(): void {
    this.#holdReads = false;
    for (const release of this.#heldReads.splice(0)) release();
  }

  liveDocs(): ReadonlyMap<string, LiveDoc> {
    return this.#live;
  }

  /** Live seq_nos at or below `seqNo`, ascending. */
  liveSeqNosUpTo(seqNo: number): Array<{ id: string; seqNo: number }> {
    return [...this.#live].filter(([, d]) => d.seqNo <= seqNo).map(([id, d]) => ({ id, seqNo: d.seqNo })).sort((a, b) => a.seqNo - b.seqNo);
  }

  awaitGlobalCheckpoint(above: number, timeoutMs: number, signal: AbortSignal): Promise<LeaderCheckpoint> {
    this.pollCalls.push({ above, timeoutMs, signal });
    if (signal.aborted) return Promise.reject(abortError());
    if (this.#globalCheckpoint > above) return Promise.resolve(this.#checkpointNow());
    return new Promise<LeaderCheckpoint>((resolve, reject) => {
      const waiter: PollWaiter = {
        above,
        resolve: (c) => {
          signal.removeEventListener('abort', onAbort);
          resolve(c);
        },
      };
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(abortError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  async read(fromExclusive: number, toInclusive: number, signal: AbortSignal): Promise<SeqNoHit[]> {
    const call = this.readCalls.push({ from: fromExclusive, to: toInclusive, signal }) - 1;
    if (toInclusive > this.#highestCheckpointHandedOut) {
      this.violations.push(`read (${fromExclusive}, ${toInclusive}] above the global checkpoint handed out (${this.#highestCheckpointHandedOut})`);
    }
    this.readsInFlight += 1;
    this.maxReadsInFlight = Math.max(this.maxReadsInFlight, this.readsInFlight);
    try {
      await nextTick(); // a read spans at least one event-loop turn, so reads really overlap
      if (this.#holdReads) await this.#held(signal);
      if (signal.aborted) throw abortError();
      const failure = this.#readFailures.shift() ?? this.#failAllReads;
      if (failure) throw failure();
      const hits: SeqNoHit[] = [...this.#live]
        .filter(([, d]) => d.seqNo > fromExclusive && d.seqNo <= toInclusive)
        .sort(([, a], [, b]) => a.seqNo - b.seqNo)
        .map(([id, d]) => ({
          id,
          routing: undefined,
          seqNo: d.seqNo,
          primaryTerm: 1,
          sourceJson: d.sourceJson,
          sizeInBytes: Buffer.byteLength(d.sourceJson),
        }));
      this.readAnswers[call] = hits.map((h) => h.seqNo);
      return hits;
    } finally {
      this.readsInFlight -= 1;
    }
  }

  #held(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(abortError());
      signal.addEventListener('abort', onAbort, { once: true });
      this.#heldReads.push(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  #checkpointNow(): LeaderCheckpoint {
    this.#highestCheckpointHandedOut = Math.max(this.#highestCheckpointHandedOut, this.#globalCheckpoint);
    return { globalCheckpoint: this.#globalCheckpoint, maxSeqNo: this.#maxSeqNo };
  }
}

// ---- follower -----------------------------------------------------------------------------------

interface HeldWrite {
  readonly ops: readonly ExternalOp[];
  readonly release: () => void;
}

/**
 * One follower shard: id → {version, source}, with `version_type=external` (an op whose version is
 * not above the stored one answers 409, reported as `already_applied`). With `hold`, bulk requests
 * stay in flight, unapplied, until released one by one or all together, or until their signal aborts.
 */
export class FakeFollower implements FollowerShardWriter {
  readonly docs = new Map<string, { version: number; sourceJson: string }>();
  readonly requests: Array<{ readonly ops: readonly ExternalOp[]; readonly signal: AbortSignal }> = [];
  /** How often each id was sent, over all requests. */
  readonly sent = new Map<string, number>();
  /** Decides a failure for one item, or `undefined` to apply it. */
  itemFailure: ((op: ExternalOp, attemptForId: number) => ClusterResponseError | undefined) | undefined;
  writesInFlight = 0;
  maxWritesInFlight = 0;
  /** What `concurrencyLimit()` answers, as a shared budget would; undefined: no such limit. */
  sharedLimit: number | undefined;
  #hold = false;
  readonly #held: HeldWrite[] = [];

  get held(): readonly HeldWrite[] {
    return this.#held;
  }

  hold(): void {
    this.#hold = true;
  }

  /** Lets every held write land, and later ones through at once. */
  releaseAll(): void {
    this.#hold = false;
    for (const w of this.#held.splice(0)) w.release();
  }

  /** Lets the held write at `index` (in arrival order among those still held) land. */
  releaseAt(index: number): readonly ExternalOp[] {
    const [w] = this.#held.splice(index, 1);
    if (!w) throw new Error(`fake follower: no held write #${index}`);
    w.release();
    return w.ops;
  }

  concurrencyLimit(): number {
    return this.sharedLimit ?? Number.POSITIVE_INFINITY;
  }

  async write(ops: readonly ExternalOp[], signal: AbortSignal): Promise<BulkItemResult[]> {
    const copy = [...ops];
    this.requests.push({ ops: copy, signal });
    for (const op of copy) this.sent.set(op.id, (this.sent.get(op.id) ?? 0) + 1);
    this.writesInFlight += 1;
    this.maxWritesInFlight = Math.max(this.maxWritesInFlight, this.writesInFlight);
    try {
      await nextTick();
      if (this.#hold) {
        await new Promise<void>((resolve, reject) => {
          const onAbort = (): void => {
            const i = this.#held.indexOf(entry);
            if (i >= 0) this.#held.splice(i, 1);
            reject(abortError());
          };
          const entry: HeldWrite = {
            ops: copy,
            release: () => {
              signal.removeEventListener('abort', onAbort);
              resolve();
            },
          };
          signal.addEventListener('abort', onAbort, { once: true });
          this.#held.push(entry);
        });
      }
      if (signal.aborted) throw abortError();
      return copy.map((op) => this.#apply(op));
    } finally {
      this.writesInFlight -= 1;
    }
  }

  #apply(op: ExternalOp): BulkItemResult {
    const failure = this.itemFailure?.(op, this.sent.get(op.id) ?? 0);
    if (failure) return { outcome: 'failed', id: op.id, error: failure };
    const existing = this.docs.get(op.id);
    if (existing && existing.version >= op.version) return { outcome: 'already_applied', id: op.id };
    if (op.op === 'delete') this.docs.delete(op.id);
    else this.docs.set(op.id, { version: op.version, sourceJson: Buffer.from(op.sourceJson).toString() });
    return { outcome: 'applied', id: op.id };
  }

  /** Differences from the leader's live documents (empty when equal). */
  diff(leader: FakeLeader): string[] {
    const problems: string[] = [];
    const live = leader.liveDocs();
    for (const [id, d] of live) {
      const mine = this.docs.get(id);
      if (!mine) problems.push(`${id} missing`);
      else if (mine.version !== externalVersion(d.seqNo) || mine.sourceJson !== d.sourceJson) problems.push(`${id} at version ${mine.version}, leader seq_no ${d.seqNo}`);
    }
    for (const id of this.docs.keys()) if (!live.has(id)) problems.push(`${id} not on the leader`);
    return problems;
  }

  /** Whether every live leader doc at or below `seqNo` is here, at that version or newer. */
  covers(leader: FakeLeader, seqNo: number): boolean {
    return leader.liveSeqNosUpTo(seqNo).every(({ id, seqNo: s }) => (this.docs.get(id)?.version ?? -Infinity) >= externalVersion(s));
  }
}

// ---- a task wired to the fakes --------------------------------------------------------------------

export interface Harness {
  readonly task: ShardFollowTask;
  readonly leader: FakeLeader;
  readonly follower: FakeFollower;
  readonly sleep: FakeSleep;
  readonly params: FollowParams;
  /** Every value passed to onCheckpoint, in order. */
  readonly checkpoints: number[];
  readonly transitions: Array<{ from: ShardTaskState; to: ShardTaskState }>;
  readonly failures: Error[];
  /** Breaches of "the checkpoint only covers applied operations", seen at each onCheckpoint call. */
  readonly unsafeCheckpoints: string[];
  /** True when the follower holds every live leader doc and the checkpoint reached the leader's. */
  converged(): boolean;
}

export const TEST_PARAMS: FollowParams = {
  ...DEFAULT_FOLLOW_PARAMS,
  max_read_request_operation_count: 10,
  max_outstanding_read_requests: 3,
  max_write_request_operation_count: 7,
  max_outstanding_write_requests: 2,
};

export function harness(opts: { params?: Partial<FollowParams>; initialCheckpoint?: number; leader?: FakeLeader; now?: () => number } = {}): Harness {
  const leader = opts.leader ?? new FakeLeader();
  const follower = new FakeFollower();
  const sleep = new FakeSleep();
  const params: FollowParams = { ...TEST_PARAMS, ...opts.params };
  const checkpoints: number[] = [];
  const unsafeCheckpoints: string[] = [];
  const task = new ShardFollowTask(
    {
      shard: 0,
      reader: leader,
      writer: follower,
      logger: silentLogger,
      onCheckpoint: (c) => {
        checkpoints.push(c);
        if (!follower.covers(leader, c)) unsafeCheckpoints.push(`checkpoint ${c} covers operations the follower has not applied`);
      },
      sleep: sleep.sleep,
      random: () => 0.5,
      ...(opts.now ? { now: opts.now } : {}),
    },
    params,
    opts.initialCheckpoint ?? -1,
  );
  const transitions: Array<{ from: ShardTaskState; to: ShardTaskState }> = [];
  const failures: Error[] = [];
  task.on('state-change', (change) => transitions.push(change));
  task.on('failed', (err) => failures.push(err));
  return {
    task,
    leader,
    follower,
    sleep,
    params,
    checkpoints,
    transitions,
    failures,
    unsafeCheckpoints,
    converged: () => task.checkpoint === leader.globalCheckpoint && follower.diff(leader).length === 0,
  };
}

/** Fills the leader with `count` operations over `distinctIds` ids (so some are overwritten), every `noopEvery`-th a no-op. */
export function fillLeader(leader: FakeLeader, count: number, opts: { distinctIds?: number; noopEvery?: number; random?: () => number; sourceBytes?: number } = {}): void {
  const random = opts.random ?? Math.random;
  for (let i = 0; i < count; i += 1) {
    if (opts.noopEvery !== undefined && i % opts.noopEvery === opts.noopEvery - 1) {
      leader.noop();
      continue;
    }
    const id = opts.distinctIds === undefined ? `doc-${leader.maxSeqNo + 1}` : `doc-${Math.floor(random() * opts.distinctIds)}`;
    const body = JSON.stringify({ id, at: leader.maxSeqNo + 1 });
    leader.index(id, opts.sourceBytes === undefined ? body : body.padEnd(opts.sourceBytes, ' '));
  }
}
