/**
 * One follower index: owns its shard tasks, the shared leader watcher, mapping sync and checkpoint
 * persistence; decides what a shard's failure means for the index (docs/architecture.md, shard
 * step 9).
 *
 * Its status lives in one place, the phase (`IndexFollowerStates`), which is also the status the
 * follower is meant to have: `starting` and `active` mean following, `paused` not. The phase
 * changes only in serialised transitions (pause, resume, close, a fatal error, the state
 * unwritable, the state probe), one at a time, and only through the `#enter…()` helpers, which
 * check the move is allowed (TRANSITIONS), log it and emit `state-change`:
 * - `starting` — reading leader metadata and checkpoints (retried while the leader is unreachable).
 *                → `active`; → `paused` (pause(), a fatal error, the state unwritable); → `closed`.
 * - `active`   — shard tasks running. → `paused` (same three reasons); → `closed`.
 * - `paused`   — no task runs; checkpoints persisted. Carries its reason (`PauseReason`): the user,
 *                a fatal error (with the error), or checkpoints that cannot be saved. → `starting`
 *                by resume(), or by itself once the state is writable again; → `paused` when a
 *                user pauses a follower paused by the state (the user's pause wins); → `closed`.
 * - `closed`   — the daemon is shutting down or the follow was removed; final.
 *
 * `record` is the follower's record as stored. A user's pause or resume writes it first and
 * changes the phase only once the write succeeded: refused, it changes nothing and says why. A
 * fatal error pauses at once (the shards cannot go on); if its record cannot be stored then, the
 * failure is logged, shown in stats (`state_exception`) and the write tried again every few
 * seconds. Every write goes through `StoredRecord` (stored-record.ts), which also re-reads a record
 * that changed in the state and applies the change to it once.
 *
 * A follower built from a record that says paused starts `paused` (a fatal error when the record
 * keeps one, else the user); one that says active starts `starting`, and begin() starts it.
 */
import { EventEmitter } from 'node:events';
import type { ClusterClient } from '../cluster/cluster-client.js';
import { classify, kindOf } from '../cluster/classify.js';
import { ClusterIndexNotFoundError, ClusterShardUnavailableError, errorSummary, type ErrorSummary } from '../cluster/errors.js';
import type { MetadataVersions, ShardSeqNoState } from '../cluster/types.js';
import type { RequestStats } from '../cluster/request-counts.js';
import { retry, RetryPolicy } from '../cluster/retry.js';
import { DEFAULT_FOLLOW_PARAMS, type FollowParams } from '../shard/follow-params.js';
import { ShardFollowTask } from '../shard/shard-follow-task.js';
import type { ShardStats } from '../shard/shard-stats.js';
import {
  type FatalException, type FollowerRecord, followerKey, type FollowStatus, type StateStore, StateWriteError,
} from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import type { Sleep } from '../util/sleep.js';
import { CatchUpLogger } from './catch-up-logger.js';
import { CheckpointBatcher } from './checkpoint-batcher.js';
import type { ClusterProbes } from './cluster-probes.js';
import { FollowerMaxSeqNos } from './follower-seq-nos.js';
import { FollowError } from './follow-errors.js';
import { IndexIdentity } from './index-identity.js';
import { LeaderIndexWatcher } from './leader-index-watcher.js';
import { MetadataSync } from './metadata-sync.js';
import { PausedLag } from './paused-lag-probe.js';
import { StateProbe } from './state-probe.js';
import { type RecordChange, StoredRecord } from './stored-record.js';
import type { WriteBudget, WriteBudgets, WriteBudgetStats } from './write-budget.js';
import { WriteGate } from './write-gate.js';
import { FollowerShardWriterImpl, LeaderShardReaderImpl } from './shard-io.js';
import { ShardReconcilerImpl, type ShardReconcilerOptions } from './shard-reconciler.js';
import type { IndexProbe } from './index-batch-probe.js';

/** How often the leader's metadata versions are checked when no documents flow. */
const METADATA_POLL_MS = 2000;
/**
 * While a follower's state cannot be written (its checkpoints, or the record of a pause), how
 * often it tries again: one small write, cheap enough to make recovery quick.
 */
const STATE_PROBE_MS = 2000;

export const IndexFollowerStates = { starting: 'starting', active: 'active', paused: 'paused', closed: 'closed' } as const;
export type IndexFollowerState = (typeof IndexFollowerStates)[keyof typeof IndexFollowerStates];

/** Why a follower is paused. */
export type PauseReason =
  | { readonly by: 'user' }
  /**
   * A fatal error of a shard task, of the start or of the metadata watch; persisted as the
   * record's `fatalException`. `error` is absent for a follower restored paused from its record.
   */
  | { readonly by: 'fatal'; readonly exception: FatalException; readonly error?: Error }
  /** Checkpoints cannot be saved: paused in memory only, resumed by itself once they can. */
  | { readonly by: 'state_unwritable'; readonly exception: FatalException; readonly error: StateWriteError };

type Phase =
  | { readonly state: 'starting' }
  | { readonly state: 'active' }
  | { readonly state: 'paused'; readonly reason: PauseReason }
  | { readonly state: 'closed' };

const TRANSITIONS: Readonly<Record<IndexFollowerState, readonly IndexFollowerState[]>> = {
  starting: ['active', 'paused', 'closed'],
  active: ['paused', 'closed'],
  paused: ['starting', 'paused', 'closed'],
  closed: [],
};

export interface IndexFollowerEvents {
  'state-change': [{ from: IndexFollowerState; to: IndexFollowerState; reason?: PauseReason }];
}

export interface IndexFollowerDeps {
  /** The client of a cluster alias; connecting may fail while a cluster is down (then retried). */
  readonly connect: (alias: string, signal: AbortSignal) => Promise<ClusterClient>;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly params: FollowParams;
  /** For tests: how often checkpoints are persisted while they move. */
  readonly checkpointIntervalMs?: number;
  /** For tests: the sleep between start attempts. */
  readonly sleep?: Sleep;
  /** For tests: how often a follower whose state cannot be written tries to write it again. */
  readonly stateProbeMs?: number;
  /** The shared bulk budgets per follower cluster (write-budget.ts); absent: each shard's own limit only. */
  readonly writeBudgets?: WriteBudgets;
  /**
   * The shared checkpoint and metadata probes per cluster (cluster-probes.ts), one for all the
   * daemon's followers; absent: each follower polls its own indices.
   */
  readonly probes?: ClusterProbes;
  /**
   * The leader's mapping and settings versions the follower index was just created from (a new
   * follow): its first start need not put them again (a cluster-state update per index on the
   * follower's master, which is what many follows started at once queue on).
   */
  readonly createdFrom?: Pick<MetadataVersions, 'mappingVersion' | 'settingsVersion'>;
}

export interface FollowerIndexStats {
  readonly index: string;
  readonly remote_cluster: string;
  readonly leader_index: string;
  readonly follower_cluster: string;
  readonly status: FollowStatus;
  readonly state: IndexFollowerState;
  readonly total_global_checkpoint_lag: number;
  readonly operations_written: number;
  readonly operations_deleted: number;
  readonly foreign_writes_detected: number;
  readonly fatal_exception?: FatalException;
  /**
   * The last write of this follower's record that failed, while what the record should say is not
   * stored yet (it is tried again every few seconds); absent once a write lands.
   */
  readonly state_exception?: FatalException;
  /**
   * True once the leader's global checkpoint of every shard has been read since the shard tasks
   * started: before that, a shard's `leader_global_checkpoint` is only the follower's own
   * checkpoint, so "caught up" cannot be judged (`start --wait` waits for this).
   */
  readonly leader_checkpoints_seen: boolean;
  /**
   * The follower cluster's shared bulk budget (write-budget.ts) this follower writes through:
   * its current limit and why it last changed. Absent when max_outstanding_write_requests was set.
   */
  readonly write_concurrency?: WriteBudgetStats;
  /**
   * The requests the daemon sends the leader cluster (for all its followers of that cluster, so
   * every follower of one leader reports the same), per second and in total, by purpose.
   * Absent before the follower first connected to its leader.
   */
  readonly leader_requests?: RequestStats;
  /** A fail-back follow (README, "Fail back"): the lost writes it found and saved, its version base, when. */
  readonly failback?: { readonly lost_writes: number; readonly version_base: number; readonly at: string };
  readonly shards: FollowerShardStats[];
}

/** A shard's stats as CCR reports them: the task's own, plus which indices it joins (always set by stats()). */
export interface FollowerShardStats extends ShardStats {
  readonly remote_cluster?: string;
  readonly leader_index?: string;
  readonly follower_index?: string;
  /** The follower shard's own highest seq_no (follower-seq-nos.ts). */
  readonly follower_max_seq_no?: number;
}

export class IndexFollower extends EventEmitter<IndexFollowerEvents> {
  /** The record as stored, and the one way to change it (stored-record.ts). */
  readonly #stored: StoredRecord;
  readonly #deps: IndexFollowerDeps;
  readonly #logger: Logger;
  #phase: Phase;
  #tasks: ShardFollowTask[] = [];
  #watcher: LeaderIndexWatcher | undefined;
  #checkpoints: CheckpointBatcher | undefined;
  #startAbort: AbortController | undefined;
  #metadata: MetadataSync | undefined;
  #metadataWatch: Promise<void> | undefined;
  #starting: Promise<void> | undefined;
  /** Serialises every transition, so they never interleave. */
  #transition: Promise<void> = Promise.resolve();
  /** While paused: watches the leader so stats still report lag. */
  readonly #pausedLag: PausedLag;
  /** Set while a write of the state is tried again (state-probe.ts). */
  #stateProbe: StateProbe | undefined;
  /** The failed write of the record that the probe tries again. */
  #unsaved: { readonly change: RecordChange; readonly exception: FatalException } | undefined;
  #catchUp: CatchUpLogger | undefined;
  #identities: IndexIdentity[] = [];
  #followerSeqNos = new FollowerMaxSeqNos();
  /** The leader cluster's client, once connected: its request counts are in stats. */
  #leaderClient: ClusterClient | undefined;

  constructor(record: FollowerRecord, deps: IndexFollowerDeps) {
    super();
    this.#deps = deps;
    this.#logger = deps.logger.child({ follower: followerKey(record.followerCluster, record.followerIndex), leader: `${record.leaderCluster}/${record.leaderIndex}` });
    this.#stored = new StoredRecord(record, deps.state, this.#logger);
    this.#phase = record.status === 'active' ? { state: IndexFollowerStates.starting }
      : { state: IndexFollowerStates.paused, reason: record.fatalException ? { by: 'fatal', exception: record.fatalException } : { by: 'user' } };
    const probes = deps.probes;
    this.#pausedLag = new PausedLag(
      (signal) => deps.connect(record.leaderCluster, signal), record.leaderIndex, this.#logger, probes ? (leader) => probes.checkpoints(leader) : undefined,
    );
  }

  get key(): string {
    return this.#stored.key;
  }

  /** The record as stored. */
  get record(): FollowerRecord {
    return this.#stored.current;
  }

  get state(): IndexFollowerState {
    return this.#phase.state;
  }

  /** Whether the follower follows (starting, active) or not (paused; closed keeps its last). */
  get status(): FollowStatus {
    return this.#phase.state === IndexFollowerStates.paused ? 'paused' : this.#phase.state === IndexFollowerStates.closed ? this.#stored.current.status : 'active';
  }

  /** Why the follower is paused by an error (a fatal one, or the state unwritable); undefined otherwise. */
  get fatalException(): FatalException | undefined {
    return this.#phase.state === IndexFollowerStates.paused && this.#phase.reason.by !== 'user' ? this.#phase.reason.exception : undefined;
  }

  /** Why the follower is paused; undefined when it is not. */
  get pauseReason(): PauseReason | undefined {
    return this.#phase.state === IndexFollowerStates.paused ? this.#phase.reason : undefined;
  }

  /** Starts following if the record says active (daemon start, or a new follow). */
  begin(): void {
    if (this.#phase.state === IndexFollowerStates.starting && this.#startAbort === undefined) this.#launch();
  }

  /**
   * A user's pause: the record says paused first, then the tasks stop. Refused (a FollowError) when
   * the follower is paused already — unless by the state's error, which a user's pause replaces —
   * or when the record cannot be saved; a refused pause changes nothing.
   */
  pause(): Promise<void> {
    return this.#serialise(async () => {
      const phase = this.#phase;
      if (phase.state === IndexFollowerStates.closed) return;
      if (phase.state === IndexFollowerStates.paused && phase.reason.by !== 'state_unwritable') {
        throw new FollowError('illegal_state_exception', `cannot pause [${this.key}]: it is not following (already paused)`);
      }
      // Paused by the user now, not by an error (the state's is the only one a pause can replace).
      await this.#persistOrRefuse('pause', ({ fatalException: _replaced, ...rest }) => ({ ...rest, status: 'paused' }));
      this.#stopStateProbe(); // a user's pause wins over the automatic resumption
      await this.#stopTasks();
      this.#enterPaused({ by: 'user' });
      this.#startPausedLag();
      this.#logger.info('follower paused', { reason: 'pause requested' });
    });
  }

  /**
   * Resumes a paused follower with `params`: the record says active (its error cleared) first,
   * then the tasks start. Refused (a FollowError) when it is following already, or when the record
   * cannot be saved; a refused resume changes nothing, so the next one can succeed.
   */
  resume(params: FollowParams): Promise<void> {
    return this.#serialise(async () => {
      if (this.#phase.state === IndexFollowerStates.closed) return;
      if (this.#phase.state !== IndexFollowerStates.paused) {
        throw new FollowError('illegal_state_exception', `cannot resume [${this.key}]: it is already following`);
      }
      await this.#persistOrRefuse('resume', ({ fatalException: _cleared, ...rest }) => ({
        ...rest, status: 'active', params: params as unknown as Record<string, number>,
      }));
      this.#stopStateProbe();
      this.#unsaved = undefined;
      await this.#pausedLag.stop();
      this.#logger.info('follower resumed');
      this.#enterStarting();
      this.#launch();
    });
  }

  /**
   * Removes a paused follower for good (unfollow, promote): checked in its turn, so a resume queued
   * before it is seen; then `remove` deletes its state, and only once that succeeded is the follower
   * closed. Refused (a FollowError) while it follows, while its pause is not stored, or when its
   * state cannot be deleted; a refused removal changes nothing.
   */
  retire(remove: () => Promise<void>): Promise<void> {
    return this.#serialise(async () => {
      const by = this.#pausedBy();
      // A pause by the unwritable state is meant to end by itself: only a user's pause unfollows.
      if (by === undefined || by === 'state_unwritable') {
        throw new FollowError('illegal_state_exception', `cannot unfollow [${this.key}] while it is following; pause it first`);
      }
      if (this.#stored.current.status !== 'paused') {
        throw new FollowError('state_write_exception', `cannot unfollow [${this.key}]: its pause is not stored in the state yet (state_exception in its stats); try again once the state takes writes`);
      }
      try {
        await remove();
      } catch (err) {
        throw new FollowError('state_write_exception', `cannot unfollow [${this.key}]: its record cannot be deleted, nothing was changed: ${errorSummary(err).reason}`, { cause: err });
      }
      await this.#closeNow();
    });
  }

  /** Stops everything and persists checkpoints, leaving the recorded status as it is (shutdown). */
  close(): Promise<void> {
    return this.#serialise(() => this.#closeNow());
  }

  get params(): FollowParams {
    return { ...this.#deps.params, ...(this.#stored.current.params as unknown as FollowParams) };
  }

  stats(): FollowerIndexStats {
    const versions = this.#metadata?.followerVersions;
    const paused = this.#phase.state === IndexFollowerStates.paused;
    const fatal = this.fatalException;
    const budget = this.#writeBudget(this.params)?.stats();
    // As in CCR's stats, where only shards carry fatal_exception: an index paused by an error its
    // metadata sync (not a shard) met still shows it on every shard.
    const indexFatal: ErrorSummary | undefined = fatal ? { type: fatal.type, reason: fatal.reason } : undefined;
    const shards = this.#tasks.map((t) => {
      const own = paused ? this.#pausedLag.overlay(t.stats()) : t.stats();
      return {
        remote_cluster: this.#stored.current.leaderCluster,
        leader_index: this.#stored.current.leaderIndex,
        follower_index: this.#stored.current.followerIndex,
        ...own,
        follower_max_seq_no: this.#followerSeqNos.of(own.shard_id),
        ...(indexFatal && own.fatal_exception === undefined ? { fatal_exception: indexFatal } : {}),
        ...(versions ? {
          follower_mapping_version: versions.mappingVersion,
          follower_settings_version: versions.settingsVersion,
          follower_aliases_version: versions.aliasesVersion,
        } : {}),
      };
    });
    return {
      index: this.#stored.current.followerIndex,
      remote_cluster: this.#stored.current.leaderCluster,
      leader_index: this.#stored.current.leaderIndex,
      follower_cluster: this.#stored.current.followerCluster,
      status: this.status,
      state: this.#phase.state,
      total_global_checkpoint_lag: shards.reduce((sum, s) => sum + s.lag_operations, 0),
      operations_written: shards.reduce((sum, s) => sum + s.operations_written, 0),
      operations_deleted: shards.reduce((sum, s) => sum + s.operations_deleted, 0),
      foreign_writes_detected: shards.reduce((sum, s) => sum + s.foreign_writes_detected, 0),
      ...(fatal ? { fatal_exception: fatal } : {}),
      ...(this.#unsaved ? { state_exception: this.#unsaved.exception } : {}),
      ...(budget ? { write_concurrency: budget } : {}),
      ...(this.#leaderClient ? { leader_requests: this.#leaderClient.requestStats() } : {}),
      ...(this.#stored.current.failback ? {
        failback: { lost_writes: this.#stored.current.failback.lostWrites, version_base: this.#stored.current.failback.versionBase, at: this.#stored.current.failback.at },
      } : {}),
      leader_checkpoints_seen: this.#phase.state === IndexFollowerStates.active && shards.length > 0
        && shards.every((s) => this.#watcher?.latest(s.shard_id) !== undefined),
      shards,
    };
  }

  /**
   * When the leader's checkpoints were last read (epoch ms): by the shard tasks, or while paused by
   * the lag probe. Undefined when neither has had an answer since the tasks were last started.
   */
  leaderSeenAt(): number | undefined {
    const times = [this.#watcher?.lastAnswerAt, this.#pausedLag.lastAnswerAt].filter((t): t is number => t !== undefined);
    return times.length === 0 ? undefined : Math.max(...times);
  }

  /** Checkpoints as last recorded (persisted or about to be). */
  checkpoints(): Readonly<Record<number, number>> {
    return this.#checkpoints?.snapshot() ?? {};
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Starts the start: the state is `starting` already (built so, or entered by the caller). */
  #launch(): void {
    this.#startAbort = new AbortController();
    const starting = this.#startTasks(this.#startAbort.signal);
    // #stopTasks awaits #starting, and #onFatal awaits #stopTasks: keep the two chains apart.
    this.#starting = starting.catch(() => undefined);
    starting.catch((err: unknown) => void this.#onFatal(err));
  }

  /** Reads what the tasks need, retrying while the clusters are unreachable, then starts them. */
  async #startTasks(signal: AbortSignal): Promise<void> {
    const { state, logger } = this.#deps;
    const params = this.params;
    const record = this.#stored.current;
    const { leader, follower, shards, uuids } = await retry(async () => {
      const leader = await this.#deps.connect(record.leaderCluster, signal);
      const follower = await this.#deps.connect(record.followerCluster, signal);
      // Together, and the follower's uuid read says whether it exists (one request less per start:
      // hundreds of followers start at once when a daemon starts).
      const [leaderMeta, followerUuid] = await Promise.all([
        leader.indexMetadata(record.leaderIndex, signal),
        follower.indexUuid(record.followerIndex, signal).catch((err: unknown) => {
          if (kindOf(err) !== 'index_not_found') throw err;
          throw new ClusterIndexNotFoundError({
            alias: record.followerCluster, operation: 'find the follower index',
            reason: `follower index [${record.followerIndex}] no longer exists on [${record.followerCluster}]`,
          });
        }),
      ]);
      return { leader, follower, shards: leaderMeta.numberOfShards, uuids: { leader: leaderMeta.uuid, follower: followerUuid } };
    }, {
      signal, policy: new RetryPolicy(params.max_retry_delay), ...(this.#deps.sleep ? { sleep: this.#deps.sleep } : {}),
      onRetry: ({ reason, attempt }) => {
        if (attempt === 1 || attempt % 20 === 0) this.#logger.warn(`cannot start yet, retrying: ${reason}`);
      },
    });
    // Same indices as when this follow first started (a resume or a daemon restart after they were
    // re-created must not continue): the uuids are kept in the follower's record.
    const expected = this.#stored.indexUuids ?? uuids;
    // Confirmed after each read of operations (and by the watch when there is no shared probe).
    const leaderIdentity = new IndexIdentity(leader.forPurpose('reads'), record.leaderIndex, 'leader', expected.leader);
    const followerIdentity = new IndexIdentity(follower.forPurpose('metadata'), record.followerIndex, 'follower', expected.follower);
    this.#leaderClient = leader;
    leaderIdentity.check(uuids.leader);
    followerIdentity.check(uuids.follower);
    if (record.indexUuids === undefined) {
      // Checked from memory while the daemon runs; every later write of the record keeps them too.
      // Stored in its own turn among the transitions (not awaited: a pause waiting for this start
      // must not wait for it), so it never writes over a pause or resume stored meanwhile.
      this.#stored.found(expected);
      void this.#serialise(async () => {
        if (this.#stored.current.indexUuids !== undefined || this.#phase.state === IndexFollowerStates.closed) return;
        await this.#stored.write((r) => r).catch((err: unknown) => this.#logger.warn(`cannot record the index uuids yet: ${(err as Error).message}`));
      });
    }
    const [initial, followerShardSeqNos] = await Promise.all([
      state.loadCheckpoints(this.key),
      follower.shardSeqNos(record.followerIndex, signal).catch(() => []),
    ]);
    const checkpoints = new CheckpointBatcher(
      this.key, state, logger, initial, this.#deps.checkpointIntervalMs, (err) => void this.#onStateUnwritable(err),
    );
    const probes = this.#deps.probes;
    // Each part sends its requests through a view counted under its purpose (request-counts.ts).
    const watcher = new LeaderIndexWatcher(leader.forPurpose('reads'), record.leaderIndex, probes ? { probe: probes.checkpoints(leader) } : {});
    const gate = new WriteGate();
    const metadata = new MetadataSync({
      leader: leader.forPurpose('metadata'), leaderIndex: record.leaderIndex, follower: follower.forPurpose('metadata'), followerIndex: record.followerIndex,
      gate, logger: this.#logger, leaderIdentity, followerIdentity,
      ...(probes ? { probes: { leader: probes.metadata(leader), follower: probes.metadata(follower) } } : {}),
      // Only while the indices are the ones it was created with (checked above), and only the first start.
      ...(this.#deps.createdFrom && this.#metadata === undefined && record.indexUuids === undefined ? { createdFrom: this.#deps.createdFrom } : {}),
    });
    const writes = follower.forPurpose('writes');
    const budget = this.#writeBudget(params);
    const followerSeqNos = new FollowerMaxSeqNos(followerShardSeqNos);
    const tasks: ShardFollowTask[] = [];
    for (let shard = 0; shard < shards; shard += 1) {
      const reader = new LeaderShardReaderImpl(
        leader.forPurpose('reads'), record.leaderIndex, shard, watcher, metadata, params.max_read_request_operation_count, leaderIdentity,
      );
      const reconciler = new ShardReconcilerImpl({
        leader: leader.forPurpose('reconciliation'), leaderIndex: record.leaderIndex, follower: follower.forPurpose('reconciliation'), followerIndex: record.followerIndex, shard,
        repairForeignWrites: params.repair_foreign_writes === 1, logger: this.#logger, leaderIdentity,
        ...(record.failback ? { failback: { versionBase: record.failback.versionBase, auditFrom: record.failback.auditFrom[shard] ?? -1 } } : {}),
        ...(probes ? reconcileShortcuts(watcher, shard, probes.checkpoints(follower), follower.alias, record.followerIndex) : {}),
      });
      // One writer per shard: each keeps its shard's timings (the budget and the gate are the index's).
      const writer = new FollowerShardWriterImpl(writes, record.followerIndex, gate, budget, record.failback?.versionBase ?? 0);
      const task = new ShardFollowTask(
        {
          shard, reader, writer: followerSeqNos.writerFor(shard, writer), reconciler, logger: this.#logger, onCheckpoint: (cp) => checkpoints.update(shard, cp),
          ...(budget ? { readAhead: budget.readAhead } : {}),
        },
        params,
        checkpoints.get(shard),
      );
      task.on('failed', (err) => void this.#onFatal(err));
      tasks.push(task);
    }
    if (signal.aborted) {
      // Never started: stopping them only lets go of their part of the shared read-ahead.
      for (const task of tasks) void task.stop();
      return;
    }
    this.#identities = [leaderIdentity, followerIdentity];
    this.#followerSeqNos = followerSeqNos;
    this.#metadata = metadata;
    // Settings and alias changes must arrive even when no document is written.
    this.#metadataWatch = metadata.watch(METADATA_POLL_MS, signal, (err) => {
      if (classify(err).action === 'fatal') void this.#onFatal(err);
      else this.#logger.warn(`metadata check failed, will retry: ${(err as Error).message}`);
    });
    this.#tasks = tasks;
    this.#watcher = watcher;
    this.#checkpoints = checkpoints;
    this.#enterActive();
    for (const task of tasks) task.start();
    this.#logger.info(`following ${shards} shard(s)`, { checkpoints: checkpoints.snapshot() });
    this.#catchUp = new CatchUpLogger({
      progress: () => this.#tasks.map((t) => t.progress()), leaderSeen: (shard) => this.#watcher?.latest(shard) !== undefined,
    }, this.#logger);
  }

  /**
   * The follower cluster's shared, adaptive bulk budget — unless max_outstanding_write_requests was
   * set to something else than CCR's default: a parameter someone chose is used as given.
   */
  #writeBudget(params: FollowParams): WriteBudget | undefined {
    if (params.max_outstanding_write_requests !== DEFAULT_FOLLOW_PARAMS.max_outstanding_write_requests) return undefined;
    return this.#deps.writeBudgets?.of(this.#stored.current.followerCluster);
  }

  /**
   * A shard (or the start) failed for good: pause the whole index with the reason, as CCR does.
   * The tasks stop whatever the state says; a record that cannot say so is tried again.
   */
  #onFatal(err: unknown): Promise<void> {
    if (classify(err).action === 'aborted') return Promise.resolve();
    const error = err instanceof Error ? err : new Error(String(err));
    const fatal: FatalException = { ...errorSummary(error), at: new Date().toISOString() };
    return this.#serialise(async () => {
      if (this.#phase.state === IndexFollowerStates.closed || this.#phase.state === IndexFollowerStates.paused) return;
      this.#logger.error(`follower paused after a fatal error: ${fatal.reason}`, { type: fatal.type });
      await this.#stopTasks();
      this.#enterPaused({ by: 'fatal', exception: fatal, error });
      this.#startPausedLag();
      await this.#persistOrRetry((r) => ({ ...r, status: 'paused', fatalException: fatal }));
    });
  }

  /**
   * Checkpoints cannot be written (state directory read-only, full, refused): pause rather than run
   * on with progress that a restart would not find. The pause is kept in memory only — the stored
   * record stays `active`, so a daemon restarted meanwhile simply follows on from the last
   * checkpoint it did write — and a probe retries the write every STATE_PROBE_MS, resuming the
   * follower from the checkpoints it had applied as soon as one succeeds. `resume` works too.
   */
  #onStateUnwritable(err: StateWriteError): Promise<void> {
    return this.#serialise(async () => {
      if (this.#phase.state !== IndexFollowerStates.active && this.#phase.state !== IndexFollowerStates.starting) return;
      const reason = `checkpoints cannot be saved: ${err.message}; following resumes by itself once it is writable again`;
      this.#logger.error(`follower paused: ${reason}`, { type: err.type, state_dir: err.dir, code: err.code });
      await this.#stopTasks();
      const exception: FatalException = { type: err.type, reason, at: new Date().toISOString() };
      this.#enterPaused({ by: 'state_unwritable', exception, error: err });
      this.#startPausedLag();
      this.#startStateProbe(async () => {
        if (this.#pausedBy() !== 'state_unwritable') return;
        // The checkpoints applied before the pause: once they land, following can go on from them.
        await this.#deps.state.saveCheckpoints(this.key, this.checkpoints());
        await this.#pausedLag.stop();
        this.#logger.info('state writable again: follower resumed', { checkpoints: this.checkpoints() });
        this.#enterStarting();
        this.#launch();
      });
    });
  }

  /** Only a follower whose tasks ran has shard stats to lay the leader's progress over. */
  #startPausedLag(): void {
    if (this.#tasks.length > 0) this.#pausedLag.start(this.checkpoints());
  }

  #pausedBy(): PauseReason['by'] | undefined {
    return this.#phase.state === IndexFollowerStates.paused ? this.#phase.reason.by : undefined;
  }

  /** Writes the change, or refuses the user's `action` with a FollowError saying why: nothing changed. */
  async #persistOrRefuse(action: 'pause' | 'resume', change: RecordChange): Promise<void> {
    try {
      await this.#stored.write(change);
    } catch (err) {
      const { type, reason } = errorSummary(err);
      this.#logger.error(`cannot ${action}: the follower's record cannot be saved: ${reason}`, { type });
      throw new FollowError('state_write_exception', `cannot ${action} [${this.key}]: its record cannot be saved, nothing was changed: ${reason}`, { cause: err });
    }
  }

  /**
   * Writes the change the phase already made; when it cannot be saved, logs it, shows it in stats
   * (`state_exception`) and tries it again every STATE_PROBE_MS until it lands or a later
   * transition writes the record.
   */
  async #persistOrRetry(change: RecordChange): Promise<void> {
    try {
      await this.#stored.write(change);
    } catch (err) {
      const exception: FatalException = { ...errorSummary(err), at: new Date().toISOString() };
      this.#logger.error(`the follower's record cannot be saved, trying again every ${this.#deps.stateProbeMs ?? STATE_PROBE_MS} ms: ${exception.reason}`, { type: exception.type });
      this.#unsaved = { change, exception };
      this.#startStateProbe(async () => {
        const unsaved = this.#unsaved;
        if (unsaved === undefined) return;
        await this.#stored.write(unsaved.change);
        this.#unsaved = undefined;
        this.#logger.info("the follower's record is saved again");
      });
    }
  }

  /** `attempt` runs in its turn among the transitions, every STATE_PROBE_MS until it resolves. */
  #startStateProbe(attempt: () => Promise<void>): void {
    this.#stateProbe?.stop();
    const probe: StateProbe = new StateProbe(this.#deps.stateProbeMs ?? STATE_PROBE_MS, () => this.#serialise(async () => {
      if (probe.stopped || this.#stateProbe !== probe) return;
      await attempt();
      this.#stateProbe = undefined;
    }), this.#logger);
    this.#stateProbe = probe;
  }

  #stopStateProbe(): void {
    this.#stateProbe?.stop();
    this.#stateProbe = undefined;
  }

  async #closeNow(): Promise<void> {
    if (this.#phase.state === IndexFollowerStates.closed) return;
    this.#stopStateProbe();
    await this.#stopTasks();
    await this.#pausedLag.stop();
    this.#enterClosed();
  }

  async #stopTasks(): Promise<void> {
    this.#catchUp?.stop();
    this.#catchUp = undefined;
    this.#startAbort?.abort();
    await this.#starting;
    const results = await Promise.allSettled(this.#tasks.map((t) => t.stop()));
    await this.#metadataWatch;
    this.#watcher?.close();
    for (const identity of this.#identities) identity.close();
    await this.#checkpoints?.flush();
    for (const r of results) {
      if (r.status === 'rejected') this.#logger.error(`shard task did not stop cleanly: ${String(r.reason)}`);
    }
  }

  // ---- state changes: the only writers of #phase -----------------------------------------------

  #enterStarting(): void {
    this.#assertIn('starting', [IndexFollowerStates.paused]);
    this.#enter({ state: IndexFollowerStates.starting });
  }

  #enterActive(): void {
    this.#assertIn('active', [IndexFollowerStates.starting]);
    this.#enter({ state: IndexFollowerStates.active });
  }

  /** From `starting` or `active`; from `paused` only for a user's pause over a state-unwritable one. */
  #enterPaused(reason: PauseReason): void {
    const phase = this.#phase;
    if (phase.state === IndexFollowerStates.paused && !(reason.by === 'user' && phase.reason.by === 'state_unwritable')) {
      throw new Error(`follower ${this.key}: illegal state change paused (${phase.reason.by}) → paused (${reason.by})`);
    }
    this.#enter({ state: IndexFollowerStates.paused, reason });
  }

  #enterClosed(): void {
    this.#enter({ state: IndexFollowerStates.closed });
  }

  #assertIn(to: IndexFollowerState, from: readonly IndexFollowerState[]): void {
    if (!from.includes(this.#phase.state)) throw new Error(`follower ${this.key}: illegal state change ${this.#phase.state} → ${to}`);
  }

  #enter(next: Phase): void {
    const from = this.#phase.state;
    if (!TRANSITIONS[from].includes(next.state)) throw new Error(`follower ${this.key}: illegal state change ${from} → ${next.state}`);
    this.#phase = next;
    const reason = next.state === IndexFollowerStates.paused ? next.reason : undefined;
    this.#logger.debug(`state ${from} → ${next.state}`, reason ? { reason: reason.by } : {});
    this.emit('state-change', { from, to: next.state, ...(reason ? { reason } : {}) });
  }

  #serialise(step: () => Promise<void>): Promise<void> {
    const next = this.#transition.then(step);
    // Keep the chain alive after a failed step; the caller still sees the failure through `next`.
    this.#transition = next.catch(() => undefined);
    return next;
  }
}

/**
 * What lets an idle reconciliation pass skip its requests (shard-reconciler.ts, "Idle passes"):
 * the leader shard's max seq_no from the index's watcher, the follower's from the follower
 * cluster's shared checkpoint probe.
 */
function reconcileShortcuts(
  watcher: LeaderIndexWatcher, shard: number, followerProbe: IndexProbe<ShardSeqNoState[]>, followerAlias: string, followerIndex: string,
): Pick<ShardReconcilerOptions, 'leaderSeen' | 'followerMaxSeqNo'> {
  return {
    leaderSeen: () => {
      const state = watcher.latest(shard);
      const at = watcher.lastAnswerAt;
      return state === undefined || at === undefined ? undefined : { maxSeqNo: state.maxSeqNo, at };
    },
    followerMaxSeqNo: async (signal) => {
      const state = (await followerProbe.read(followerIndex, 'tick', signal)).find((s) => s.shard === shard);
      if (state === undefined) {
        throw new ClusterShardUnavailableError({ alias: followerAlias, operation: 'read shard sequence numbers', reason: `shard ${shard} of follower index [${followerIndex}] is not started` });
      }
      return state.maxSeqNo;
    },
  };
}
