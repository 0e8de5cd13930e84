/**
 * One follower index: owns its shard tasks, the shared leader watcher, mapping sync and checkpoint
 * persistence; decides what a shard's failure means for the index (docs/architecture.md, shard
 * step 9).
 *
 * States (`IndexFollowerStates`), entered only through the `#enter…()` helpers, which check the
 * move is allowed (TRANSITIONS), log it and emit `state-change`:
 * - `starting` — reading leader metadata and checkpoints (retried while the leader is unreachable).
 *                → `active`; → `paused` (pause(), a fatal error, the state unwritable); → `closed`.
 * - `active`   — shard tasks running. → `paused` (same three reasons); → `closed`.
 * - `paused`   — no task runs; checkpoints persisted. Carries its reason (`PauseReason`): the user,
 *                a fatal error (with the error), or checkpoints that cannot be saved. → `starting`
 *                by resume(), or by itself once the state is writable again; → `paused` when a
 *                user pauses a follower paused by the state (the user's pause wins); → `closed`.
 * - `closed`   — the daemon is shutting down or the follow was removed; final.
 *
 * A follower built from a record that says paused starts `paused` (a fatal error when the record
 * keeps one, else the user); one that says active starts `starting`, and begin() starts it.
 */
import { EventEmitter } from 'node:events';
import type { ClusterClient } from '../cluster/cluster-client.js';
import { classify } from '../cluster/classify.js';
import type { FollowParams } from '../shard/follow-params.js';
import { retry, RetryPolicy } from '../cluster/retry.js';
import { ShardFollowTask } from '../shard/shard-follow-task.js';
import type { ShardStats } from '../shard/shard-stats.js';
import type { FatalException, FollowerRecord, StateStore } from '../state/state-store.js';
import { followerKey, type StateWriteError } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import type { Sleep } from '../util/sleep.js';
import { formatDuration } from '../util/units.js';
import { CheckpointBatcher } from './checkpoint-batcher.js';
import { IndexIdentity } from './index-identity.js';
import { LeaderIndexWatcher } from './leader-index-watcher.js';
import { PausedLagProbe } from './paused-lag-probe.js';
import { MetadataSync } from './metadata-sync.js';
import { WriteGate } from './write-gate.js';
import { FollowerShardWriterImpl, LeaderShardReaderImpl } from './shard-io.js';
import { ShardReconcilerImpl } from './shard-reconciler.js';

/** How often the leader's metadata versions are checked when no documents flow. */
const METADATA_POLL_MS = 2000;
/** How often the follower checks whether it has caught up, for the "caught up" log line. */
const CATCH_UP_CHECK_MS = 1000;
/** A catch-up after less lag than this is not logged: a written leader is always briefly behind. */
const CATCH_UP_LOG_MIN_LAG_MS = 10_000;
/**
 * While a follower is paused because its checkpoints could not be written (the state directory is
 * full or read-only), how often it tries again: one small file write, cheap enough to make recovery
 * quick.
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
  /** For tests: how often a follower paused by an unwritable state tries to write it again. */
  readonly stateProbeMs?: number;
}

export interface FollowerIndexStats {
  readonly index: string;
  readonly remote_cluster: string;
  readonly leader_index: string;
  readonly follower_cluster: string;
  readonly status: 'active' | 'paused';
  readonly state: IndexFollowerState;
  readonly total_global_checkpoint_lag: number;
  readonly operations_written: number;
  readonly operations_deleted: number;
  readonly foreign_writes_detected: number;
  readonly fatal_exception?: FatalException;
  /**
   * True once the leader's global checkpoint of every shard has been read since the shard tasks
   * started: before that, a shard's `leader_global_checkpoint` is only the follower's own
   * checkpoint, so "caught up" cannot be judged (`start --wait` waits for this).
   */
  readonly leader_checkpoints_seen: boolean;
  readonly shards: ShardStats[];
}

export class IndexFollower extends EventEmitter<IndexFollowerEvents> {
  #record: FollowerRecord;
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
  /**
   * The status the latest pause / resume / fatal error asked for, set at once (the recorded status
   * changes only when the transition is done), so a second concurrent pause is refused.
   */
  #desiredStatus: 'active' | 'paused';
  /** Serialises pause/resume/close so they never interleave. */
  #transition: Promise<void> = Promise.resolve();
  /** While paused: watches the leader so stats still report lag (paused-lag-probe.ts). */
  #pausedProbe: { abort: AbortController; probe?: PausedLagProbe } | undefined;
  /** Set while paused because the state could not be written: retries the write, then resumes. */
  #stateProbe: NodeJS.Timeout | undefined;
  #catchUpTimer: NodeJS.Timeout | undefined;
  #identities: IndexIdentity[] = [];

  constructor(record: FollowerRecord, deps: IndexFollowerDeps) {
    super();
    this.#record = record;
    this.#deps = deps;
    this.#logger = deps.logger.child({ follower: this.key, leader: `${record.leaderCluster}/${record.leaderIndex}` });
    this.#phase = record.status === 'active' ? { state: IndexFollowerStates.starting }
      : { state: IndexFollowerStates.paused, reason: record.fatalException ? { by: 'fatal', exception: record.fatalException } : { by: 'user' } };
    this.#desiredStatus = record.status;
  }

  get desiredStatus(): 'active' | 'paused' {
    return this.#desiredStatus;
  }

  get key(): string {
    return followerKey(this.#record.followerCluster, this.#record.followerIndex);
  }

  get record(): FollowerRecord {
    return this.#record;
  }

  get state(): IndexFollowerState {
    return this.#phase.state;
  }

  /** Why the follower is paused; undefined when it is not. */
  get pauseReason(): PauseReason | undefined {
    return this.#phase.state === IndexFollowerStates.paused ? this.#phase.reason : undefined;
  }

  /** Starts following if the record says active (daemon start, or a new follow). */
  begin(): void {
    if (this.#record.status === 'active' && this.#phase.state === IndexFollowerStates.starting && this.#startAbort === undefined) this.#launch();
  }

  pause(): Promise<void> {
    this.#desiredStatus = 'paused';
    return this.#serialise(async () => {
      const phase = this.#phase;
      if (phase.state === IndexFollowerStates.closed) return;
      if (phase.state === IndexFollowerStates.paused && phase.reason.by !== 'state_unwritable') return;
      this.#stopStateProbe(); // a user's pause wins over the automatic resumption
      await this.#stopTasks();
      this.#enterPaused({ by: 'user' });
      // Paused by the user now, not by the state's error (the only one a pause can replace).
      const { fatalException: _replaced, ...rest } = this.#record;
      await this.#persist({ ...rest, status: 'paused' });
      this.#startPausedProbe();
      this.#logger.info('follower paused', { reason: 'pause requested' });
    });
  }

  resume(params: FollowParams): Promise<void> {
    this.#desiredStatus = 'active';
    return this.#serialise(async () => {
      if (this.#phase.state !== IndexFollowerStates.paused) return;
      await this.#stopPausedProbe();
      const { fatalException: _cleared, ...rest } = this.#record;
      await this.#persist({ ...rest, status: 'active', params: params as unknown as Record<string, number> });
      this.#stopStateProbe(); // only now: if the state is still unwritable, the probe keeps trying
      this.#logger.info('follower resumed');
      this.#enterStarting();
      this.#launch();
    });
  }

  /** Stops everything and persists checkpoints, leaving the recorded status as it is (shutdown). */
  close(): Promise<void> {
    return this.#serialise(async () => {
      if (this.#phase.state === IndexFollowerStates.closed) return;
      this.#stopStateProbe();
      await this.#stopTasks();
      await this.#stopPausedProbe();
      this.#enterClosed();
    });
  }

  get params(): FollowParams {
    return { ...this.#deps.params, ...(this.#record.params as unknown as FollowParams) };
  }

  stats(): FollowerIndexStats {
    const versions = this.#metadata?.followerVersions;
    const probe = this.#phase.state === IndexFollowerStates.paused ? this.#pausedProbe?.probe : undefined;
    // As in CCR's stats, where only shards carry fatal_exception: an index paused by an error its
    // metadata sync (not a shard) met still shows it on every shard.
    const indexFatal = this.#record.fatalException ? { type: this.#record.fatalException.type, reason: this.#record.fatalException.reason } : undefined;
    const shards = this.#tasks.map((t) => {
      const own = withPausedLag(t.stats(), probe);
      return {
        ...own,
        ...(indexFatal && own.fatal_exception === undefined ? { fatal_exception: indexFatal } : {}),
        ...(versions ? {
          follower_mapping_version: versions.mappingVersion,
          follower_settings_version: versions.settingsVersion,
          follower_aliases_version: versions.aliasesVersion,
        } : {}),
      };
    });
    return {
      index: this.#record.followerIndex,
      remote_cluster: this.#record.leaderCluster,
      leader_index: this.#record.leaderIndex,
      follower_cluster: this.#record.followerCluster,
      status: this.#record.status,
      state: this.#phase.state,
      total_global_checkpoint_lag: shards.reduce((sum, s) => sum + s.lag_operations, 0),
      operations_written: shards.reduce((sum, s) => sum + s.operations_written, 0),
      operations_deleted: shards.reduce((sum, s) => sum + s.operations_deleted, 0),
      foreign_writes_detected: shards.reduce((sum, s) => sum + s.foreign_writes_detected, 0),
      ...(this.#record.fatalException ? { fatal_exception: this.#record.fatalException } : {}),
      leader_checkpoints_seen: this.#phase.state === IndexFollowerStates.active && shards.length > 0
        && shards.every((s) => this.#watcher?.latest(s.shard_id) !== undefined),
      shards,
    };
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
    const { leader, follower, shards, uuids } = await retry(async () => {
      const leader = await this.#deps.connect(this.#record.leaderCluster, signal);
      const follower = await this.#deps.connect(this.#record.followerCluster, signal);
      const [leaderMeta, followerExists] = await Promise.all([
        leader.indexMetadata(this.#record.leaderIndex, signal),
        follower.indexExists(this.#record.followerIndex, signal),
      ]);
      if (!followerExists) throw new Error(`follower index [${this.#record.followerIndex}] no longer exists on [${this.#record.followerCluster}]`);
      const uuids = { leader: leaderMeta.uuid, follower: await follower.indexUuid(this.#record.followerIndex, signal) };
      return { leader, follower, shards: leaderMeta.numberOfShards, uuids };
    }, {
      signal, policy: new RetryPolicy(params.max_retry_delay), ...(this.#deps.sleep ? { sleep: this.#deps.sleep } : {}),
      onRetry: ({ reason, attempt }) => {
        if (attempt === 1 || attempt % 20 === 0) this.#logger.warn(`cannot start yet, retrying: ${reason}`);
      },
    });
    // Same indices as when this follow first started (a resume or a daemon restart after they were
    // re-created must not continue): the uuids are kept in the follower's record.
    const expected = this.#record.indexUuids ?? uuids;
    const leaderIdentity = new IndexIdentity(leader, this.#record.leaderIndex, 'leader', expected.leader);
    const followerIdentity = new IndexIdentity(follower, this.#record.followerIndex, 'follower', expected.follower);
    leaderIdentity.check(uuids.leader);
    followerIdentity.check(uuids.follower);
    if (this.#record.indexUuids === undefined) {
      try {
        await this.#persist({ ...this.#record, indexUuids: expected });
      } catch (err) {
        // #persist keeps them in memory first, so they are still checked while the daemon runs;
        // the record's next write (or the next daemon start) stores them.
        this.#logger.warn(`cannot record the index uuids yet: ${(err as Error).message}`);
      }
    }
    const initial = await state.loadCheckpoints(this.key);
    const checkpoints = new CheckpointBatcher(
      this.key, state, logger, initial, this.#deps.checkpointIntervalMs, (err) => void this.#onStateUnwritable(err),
    );
    const watcher = new LeaderIndexWatcher(leader, this.#record.leaderIndex);
    const gate = new WriteGate();
    const metadata = new MetadataSync({
      leader, leaderIndex: this.#record.leaderIndex, follower, followerIndex: this.#record.followerIndex, gate, logger: this.#logger,
      leaderIdentity, followerIdentity,
    });
    const writer = new FollowerShardWriterImpl(follower, this.#record.followerIndex, gate);
    const tasks: ShardFollowTask[] = [];
    for (let shard = 0; shard < shards; shard += 1) {
      const reader = new LeaderShardReaderImpl(
        leader, this.#record.leaderIndex, shard, watcher, metadata, params.max_read_request_operation_count, leaderIdentity,
      );
      const reconciler = new ShardReconcilerImpl({
        leader, leaderIndex: this.#record.leaderIndex, follower, followerIndex: this.#record.followerIndex, shard,
        repairForeignWrites: params.repair_foreign_writes === 1, logger: this.#logger, leaderIdentity,
      });
      const task = new ShardFollowTask(
        { shard, reader, writer, reconciler, logger: this.#logger, onCheckpoint: (cp) => checkpoints.update(shard, cp) },
        params,
        checkpoints.get(shard),
      );
      task.on('failed', (err) => void this.#onFatal(err));
      tasks.push(task);
    }
    if (signal.aborted) return;
    this.#identities = [leaderIdentity, followerIdentity];
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
    this.#watchCatchUp();
  }

  /**
   * Logs, once each: that the follower caught up after a start (bootstrap or resume), and that it
   * caught up again after falling at least CATCH_UP_LOG_MIN_LAG_MS behind.
   */
  #watchCatchUp(): void {
    const startedAt = Date.now();
    let behindSince: number | undefined = startedAt;
    let afterStart = true;
    let maxLagMillis = 0;
    this.#catchUpTimer = setInterval(() => {
      const stats = this.#tasks.map((t) => t.stats());
      if (!stats.every((s) => this.#watcher?.latest(s.shard_id) !== undefined)) return;
      const now = Date.now();
      if (stats.some((s) => s.lag_operations > 0)) {
        behindSince ??= now;
        maxLagMillis = Math.max(maxLagMillis, ...stats.map((s) => s.lag_millis));
        return;
      }
      if (behindSince === undefined) return;
      const written = stats.reduce((sum, s) => sum + s.operations_written, 0);
      if (afterStart) this.#logger.info(`caught up with the leader ${formatDuration(now - startedAt)} after starting`, { operations_written: written });
      else if (maxLagMillis >= CATCH_UP_LOG_MIN_LAG_MS) this.#logger.info(`caught up after being ${formatDuration(maxLagMillis)} behind`);
      behindSince = undefined;
      afterStart = false;
      maxLagMillis = 0;
    }, CATCH_UP_CHECK_MS);
    this.#catchUpTimer.unref();
  }

  /** A shard (or the start) failed for good: pause the whole index with the reason, as CCR does. */
  #onFatal(err: unknown): Promise<void> {
    if (classify(err).action === 'aborted') return Promise.resolve();
    const error = err instanceof Error ? err : new Error(String(err));
    const json = (error as { toJSON?: () => { type: string; reason: string } }).toJSON?.();
    const fatal: FatalException = { type: json?.type ?? error.name, reason: json?.reason ?? error.message, at: new Date().toISOString() };
    if (this.#phase.state !== IndexFollowerStates.closed) this.#desiredStatus = 'paused';
    return this.#serialise(async () => {
      if (this.#phase.state === IndexFollowerStates.closed || this.#phase.state === IndexFollowerStates.paused) return;
      this.#logger.error(`follower paused after a fatal error: ${fatal.reason}`, { type: fatal.type });
      await this.#stopTasks();
      this.#enterPaused({ by: 'fatal', exception: fatal, error });
      await this.#persist({ ...this.#record, status: 'paused', fatalException: fatal });
      this.#startPausedProbe();
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
    if (this.#phase.state !== IndexFollowerStates.closed) this.#desiredStatus = 'paused';
    return this.#serialise(async () => {
      if (this.#phase.state !== IndexFollowerStates.active && this.#phase.state !== IndexFollowerStates.starting) return;
      const reason = `checkpoints cannot be saved: ${err.message}; following resumes by itself once it is writable again`;
      this.#logger.error(`follower paused: ${reason}`, { type: 'state_write_exception', state_dir: err.dir, code: err.code });
      await this.#stopTasks();
      const exception: FatalException = { type: 'state_write_exception', reason, at: new Date().toISOString() };
      this.#enterPaused({ by: 'state_unwritable', exception, error: err });
      this.#record = { ...this.#record, status: 'paused', fatalException: exception };
      this.#startPausedProbe();
      this.#scheduleStateProbe();
    });
  }

  #scheduleStateProbe(): void {
    this.#stateProbe = setTimeout(() => {
      void this.#serialise(async () => {
        if (this.#stateProbe === undefined || this.#phase.state !== IndexFollowerStates.paused) return;
        try {
          // The checkpoints applied before the pause, then the record: both must land to resume.
          await this.#deps.state.saveCheckpoints(this.key, this.checkpoints());
          const { fatalException: _cleared, ...rest } = this.#record;
          const resumed: FollowerRecord = { ...rest, status: 'active' };
          await this.#deps.state.putFollower(resumed); // not #persist: on failure the record must stay paused
          this.#record = resumed;
        } catch (err) {
          this.#logger.debug(`state still not writable: ${(err as Error).message}`);
          this.#scheduleStateProbe();
          return;
        }
        this.#stateProbe = undefined;
        this.#desiredStatus = 'active';
        await this.#stopPausedProbe();
        this.#logger.info('state directory writable again: follower resumed', { checkpoints: this.checkpoints() });
        this.#enterStarting();
        this.#launch();
      });
    }, this.#deps.stateProbeMs ?? STATE_PROBE_MS);
    this.#stateProbe.unref();
  }

  #stopStateProbe(): void {
    clearTimeout(this.#stateProbe);
    this.#stateProbe = undefined;
  }

  /** Best effort: without a leader connection, a paused follower reports its last known lag. */
  #startPausedProbe(): void {
    if (this.#pausedProbe || this.#tasks.length === 0) return;
    const entry: { abort: AbortController; probe?: PausedLagProbe } = { abort: new AbortController() };
    this.#pausedProbe = entry;
    const checkpoints = { ...this.checkpoints() };
    this.#deps.connect(this.#record.leaderCluster, entry.abort.signal).then((leader) => {
      if (!entry.abort.signal.aborted) entry.probe = new PausedLagProbe(leader, this.#record.leaderIndex, checkpoints);
    }, (err: unknown) => this.#logger.debug(`paused-lag probe not started: ${(err as Error).message}`));
  }

  async #stopPausedProbe(): Promise<void> {
    const entry = this.#pausedProbe;
    this.#pausedProbe = undefined;
    entry?.abort.abort();
    await entry?.probe?.close();
  }

  async #stopTasks(): Promise<void> {
    clearInterval(this.#catchUpTimer);
    this.#catchUpTimer = undefined;
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

  async #persist(record: FollowerRecord): Promise<void> {
    this.#record = record;
    await this.#deps.state.putFollower(record);
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

/** A stopped task's last stats, with lag from what the leader holds now (paused followers only). */
function withPausedLag(stats: ShardStats, probe: PausedLagProbe | undefined): ShardStats {
  const seen = probe?.shard(stats.shard_id);
  if (!probe || !seen) return stats;
  const leaderGlobalCheckpoint = Math.max(stats.leader_global_checkpoint, seen.leaderGlobalCheckpoint);
  const probeLag = seen.behindSince === undefined ? 0 : probe.now() - seen.behindSince;
  return {
    ...stats,
    leader_global_checkpoint: leaderGlobalCheckpoint,
    lag_operations: Math.max(0, leaderGlobalCheckpoint - stats.follower_global_checkpoint),
    lag_millis: Math.max(stats.lag_millis, probeLag),
  };
}
