/**
 * All follower indices of one daemon: the follow / pause / resume / unfollow / stats / info
 * operations behind the control API, with CCR's semantics and error names.
 */
import { ClusterRegistry, UnknownClusterError } from '../cluster/cluster-registry.js';
import type { ClusterClient } from '../cluster/cluster-client.js';
import { resolveIndices } from '../cluster/index-discovery.js';
import { DEFAULT_FOLLOW_PARAMS, parseFollowParams, FollowParamsError, type FollowParams } from '../shard/follow-params.js';
import { errorSummary } from '../cluster/errors.js';
import {
  followerKey, recordKey, StateCorruptError, type FollowerKey, type FollowerRecord, type PromotedShard, type PromotionRecord, type PromotionRun,
  type RecoveryPoint, type ShardCheckpoints, type StateStore,
} from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import { claimCreated, type Ownership } from '../util/ownership.js';
import { FollowError, toFollowError } from './follow-errors.js';
import { followerOwnSettings } from './follower-settings.js';
import { followerCreationSettings } from './index-settings.js';
import { invalidIndexNameReason } from './index-name.js';
import { WriteBudgets } from './write-budget.js';
import { ClusterProbes } from './cluster-probes.js';
import { IndexFollower, type FollowerIndexStats, type IndexFollowerDeps } from './index-follower.js';
import { recoveryPoint } from './recovery-point.js';
import { failbackRefusal } from './failback-plan.js';
import { applyFailback, lostWritesText, planFailback } from './failback.js';
import { writeAtomically } from '../state/atomic-file.js';
import { runSwitchover, type SwitchoverAnswer, type SwitchoverRequest } from './switchover.js';
import { sleep } from '../util/sleep.js';

export interface FollowRequest {
  readonly leaderCluster: string;
  readonly leaderIndex: string;
  readonly followerCluster: string;
  readonly followerIndex: string;
  readonly params?: Readonly<Record<string, unknown>>;
  /** Settings the follower index is created with (follower-settings.ts says which may be given). */
  readonly settings?: unknown;
  /**
   * Shard copies of the new follower index to wait for before answering (CCR's
   * `wait_for_active_shards`); 0, the default, answers once its primaries have started.
   */
  readonly waitForActiveShards?: number | 'all';
  /**
   * For a leader index that is a backing index of a data stream: the name the follower is exposed
   * under on the follower cluster (CCR's `data_stream_name`; by default the stream's own name).
   */
  readonly dataStreamName?: string;
}

export interface PromoteOptions {
  /** Computed beforehand (a promotion of many, whose totals need every follower's); else computed here. */
  readonly recoveryPoint?: RecoveryPoint;
  readonly run?: PromotionRun;
}

/** `ccr-follow failback`: the old leader index follows the promoted one, by difference (README, "Fail back"). */
export interface FailbackRequest {
  readonly promotedCluster: string;
  readonly promotedIndex: string;
  readonly oldLeaderCluster: string;
  readonly oldLeaderIndex: string;
  /** Where the lost writes are saved (an absolute path on the daemon's host), before anything is overwritten. */
  readonly lostWritesFile?: string;
  /** Plan, count and save the lost writes; change nothing. */
  readonly dryRun?: boolean;
}

export interface FailbackAnswer {
  readonly dry_run: boolean;
  readonly version_base: number;
  readonly lost_writes: number;
  readonly lost_writes_file?: string;
  /** Documents fail-back itself wrote (put back, restored, deleted); the reverse follow copies the rest. */
  readonly documents_written: number;
  readonly shards: readonly { shard: number; follow_from: number; copied: number; put_back: number; deleted: number; lost_writes: number }[];
}

export interface FollowerInfo {
  readonly follower_index: string;
  readonly follower_cluster: string;
  readonly remote_cluster: string;
  readonly leader_index: string;
  readonly status: 'active' | 'paused';
  readonly parameters: FollowParams;
  readonly fatal_exception?: { type: string; reason: string; at: string };
}


export interface FollowManagerDeps {
  readonly clusters: ClusterRegistry;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly checkpointIntervalMs?: number;
  /** With several daemons on one state: the followers run here are those whose lease this daemon holds (adopt / relinquish). */
  readonly ownership?: Ownership;
  /** Saves a fail-back's lost-writes file; by default atomically on this host (temp file, fsync, rename). */
  readonly saveLostWrites?: (file: string, text: string) => Promise<void>;
}

export class FollowManager {
  readonly #deps: FollowManagerDeps;
  readonly #followers = new Map<FollowerKey, IndexFollower>();
  /** Keys with a follow request in progress, so two requests cannot both create the index. */
  readonly #creating = new Set<FollowerKey>();
  /** One bulk budget per follower cluster, shared by all followers writing to it. */
  readonly #writeBudgets = new WriteBudgets();
  /** One checkpoint and one metadata probe per cluster, shared by all followers (cluster-probes.ts). */
  readonly #probes = new ClusterProbes();

  constructor(deps: FollowManagerDeps) {
    this.#deps = deps;
  }

  /** Brings back every follower recorded in the state (daemon start); with `ownership`, none: each comes with its lease. */
  async restore(): Promise<void> {
    if (this.#deps.ownership) return;
    let records: FollowerRecord[];
    try {
      records = await this.#deps.state.listFollowers();
    } catch (err) {
      // A follower record alone says what to follow, from where, with which parameters: it cannot
      // be rebuilt, and starting without it would silently stop replicating that index. Refuse.
      if (!(err instanceof StateCorruptError) || err.newerFormat) throw err;
      throw new StateCorruptError(err.file, `${err.detail}. The daemon does not start without it: it alone says what to follow. `
        + 'Restore it from a backup or fix it; or remove it, which forgets that follow', { cause: err });
    }
    for (const record of records) {
      await this.#checkCheckpoints(record);
      // Clusters are connected by the follower itself, retrying while they are unreachable; an
      // alias missing from the config pauses that follower with the reason, not the daemon.
      const follower = this.#build(record);
      this.#followers.set(follower.key, follower);
      follower.begin();
    }
  }

  /**
   * Runs a follower recorded in the state here (its lease was just taken): from its stored record
   * and checkpoints, as a restart would. A follower already run here is left as it is.
   */
  async adopt(key: FollowerKey): Promise<void> {
    if (this.#followers.has(key)) return;
    const record = await this.#deps.state.getFollower(key);
    if (!record) throw new FollowError('resource_not_found_exception', `[${key}] is not a follower index`);
    await this.#checkCheckpoints(record);
    if (this.#followers.has(key)) return;
    const follower = this.#build(record);
    this.#followers.set(key, follower);
    follower.begin();
  }

  /**
   * Stops running a follower here (its lease was lost or is handed over): its tasks stop, its
   * checkpoints are saved, its record keeps its status; another daemon runs it from there.
   */
  async relinquish(key: FollowerKey): Promise<void> {
    const follower = this.#followers.get(key);
    if (!follower) return;
    this.#followers.delete(key);
    await follower.close();
  }

  async follow(req: FollowRequest): Promise<{ follow_index_created: boolean; follow_index_shards_acked: boolean; index_following_started: boolean }> {
    const key = followerKey(req.followerCluster, req.followerIndex);
    this.#checkName('leader index', req.leaderIndex);
    this.#checkName('follower index', req.followerIndex);
    if (req.dataStreamName !== undefined) this.#checkName('data stream', req.dataStreamName);
    const params = this.#parseParams(req.params ?? {});
    const ownSettings = req.settings === undefined ? {} : followerOwnSettings(req.settings, 'a follow request');
    this.#checkAlias(req.leaderCluster);
    this.#checkAlias(req.followerCluster);
    if (this.#followers.has(key) || this.#creating.has(key)) {
      throw new FollowError('resource_already_exists_exception', `[${key}] is already a follower index`);
    }
    const elsewhere = this.#deps.ownership?.runBy(key);
    if (elsewhere !== undefined) throw new FollowError('resource_already_exists_exception', `[${key}] is already a follower index, run by ${elsewhere.description}`);
    this.#creating.add(key);
    try {
      const leader = await this.#client(req.leaderCluster);
      const follower = await this.#client(req.followerCluster);
      // Asked at once (hundreds of starts come together when a daemon is set up), judged in this order.
      const [leaderRead, streamRead, existsRead] = await Promise.allSettled([
        this.#call(req.leaderCluster, () => leader.indexMetadata(req.leaderIndex), `leader index [${req.leaderIndex}]`),
        this.#streamName(req, leader),
        this.#call(req.followerCluster, () => follower.indexExists(req.followerIndex)),
      ]);
      const leaderMeta = settledValue(leaderRead);
      if (leaderMeta.state !== 'open') throw new FollowError('illegal_state_exception', `leader index [${req.leaderIndex}] is closed`);
      const stream = settledValue(streamRead);
      if (settledValue(existsRead)) {
        throw new FollowError('resource_already_exists_exception',
          `follower index [${req.followerIndex}] already exists on [${req.followerCluster}] and is not a follower; choose another name or delete it`);
      }
      // The shards must start before the follow can (1 copy, the primary, at least); more only if asked.
      const wait = req.waitForActiveShards ?? 0;
      const created = await this.#call(req.followerCluster, () => follower.createIndex(req.followerIndex, {
        settings: { ...followerCreationSettings(leaderMeta.settings, leaderMeta.routingNumShards), ...ownSettings },
        mappings: leaderMeta.mappings as Record<string, unknown>,
        // Created with the index, so the name is there from the first document, or the follow is refused
        // (an index of that name on the follower) before anything exists. An alias, not a data stream:
        // see autofollow/stream-aliases.ts for why.
        ...(stream === undefined ? {} : { aliases: { [stream]: {} } }),
      }, undefined, wait === 'all' ? 'all' : Math.max(1, wait)), `follower index [${req.followerIndex}]`);
      const record: FollowerRecord = {
        leaderCluster: req.leaderCluster, leaderIndex: req.leaderIndex,
        followerCluster: req.followerCluster, followerIndex: req.followerIndex,
        params: params as unknown as Record<string, number>, status: 'active', createdAt: new Date().toISOString(),
      };
      await this.#saveNewRecord(record, follower);
      if (await this.#claim(key)) {
        const indexFollower = this.#build(record, { mappingVersion: leaderMeta.mappingVersion, settingsVersion: leaderMeta.settingsVersion });
        this.#followers.set(key, indexFollower);
        indexFollower.begin();
      }
      this.#deps.logger.info(`following ${req.leaderCluster}/${req.leaderIndex} into ${key}`, { shards: leaderMeta.numberOfShards });
      // As CCR answers: the shards count as acknowledged only when a wait for them was asked for.
      return { follow_index_created: true, follow_index_shards_acked: wait !== 0 && created.shardsAcknowledged, index_following_started: true };
    } finally {
      this.#creating.delete(key);
    }
  }

  /** Refused when it is paused already (unless by the state's error, which a user's pause replaces). */
  async pause(key: FollowerKey): Promise<void> {
    await this.#get(key).pause();
  }

  async resume(key: FollowerKey, paramOverrides: Readonly<Record<string, unknown>> = {}): Promise<void> {
    const follower = this.#get(key);
    // As in CCR, parameters given on resume replace the stored ones; the rest keep their values.
    await follower.resume(this.#parseParams(paramOverrides, follower.params));
  }

  /** Removes the follow, leaving the follower index as an ordinary index. It must be paused first. */
  async unfollow(key: FollowerKey): Promise<void> {
    const follower = this.#get(key);
    await follower.retire(() => this.#deps.state.deleteFollower(key));
    this.#followers.delete(key);
    await this.#deps.ownership?.forget(key).catch((err: unknown) => this.#deps.logger.warn(`the lease of ${key} stays until the others see it has no follower: ${(err as Error).message}`));
    this.#deps.logger.info(`unfollowed ${key}: it is now an ordinary index`);
  }

  /**
   * Promotes a follower index to an ordinary writable index, as a leader's data centre fails:
   * pauses it (checkpoints saved), records per shard where it stood — the leader `_seq_no` it had
   * applied everything up to, and its own `max_seq_no` — and unfollows it. Needs only the follower
   * cluster: the leader is usually unreachable then. The record is kept before the follow is
   * removed, so a crash in between leaves a paused follower and its promotion point, never neither.
   * It also keeps the follower's recovery point (recovery-point.ts): what of the leader's writes it
   * may lack. `options` are a promotion of many's (promote-many.ts).
   */
  async promote(key: FollowerKey, options: PromoteOptions = {}): Promise<PromotionRecord> {
    await this.pauseForPromotion(key);
    const follower = this.#get(key);
    const { record } = follower;
    const checkpoints = await this.#deps.state.loadCheckpoints(key);
    const client = await this.#client(record.followerCluster);
    const own = await this.#call(record.followerCluster, () => client.shardSeqNos(record.followerIndex), `follower index [${record.followerIndex}]`);
    const shards: Record<number, PromotedShard> = {};
    for (const shard of own) shards[shard.shard] = { leaderCheckpoint: checkpoints[shard.shard] ?? -1, maxSeqNo: shard.maxSeqNo };
    const promotedAt = Date.now();
    const promotion: PromotionRecord = {
      leaderCluster: record.leaderCluster, leaderIndex: record.leaderIndex,
      followerCluster: record.followerCluster, followerIndex: record.followerIndex,
      ...(record.indexUuids ? { indexUuids: record.indexUuids } : {}),
      promotedAt: new Date(promotedAt).toISOString(), shards,
      recoveryPoint: options.recoveryPoint ?? this.#recoveryPoint(follower, checkpoints, promotedAt),
      ...(options.run ? { run: options.run } : {}),
    };
    await this.#deps.state.putPromotion(promotion);
    await this.unfollow(key);
    this.#deps.logger.info(`promoted ${key}: it is now an ordinary writable index; its promotion point is kept for a fail-back`, { shards });
    return promotion;
  }

  /**
   * Fail-back (README, "Fail back"): makes the old leader index a follower of the promoted one,
   * writing only the difference. Refused, with nothing changed, without a promotion record of the
   * pair, with an index that is not the one recorded (uuid), with other shard counts, or when the
   * old leader index cannot be put under a write block. Then, under the block: the plan
   * (failback.ts), the lost writes saved to their file; the block lifted, the difference written
   * above the version base, and an ordinary follow from each shard's recorded `max_seq_no`.
   * A dry run plans and saves the lost writes, and changes nothing.
   */
  async failback(req: FailbackRequest): Promise<FailbackAnswer> {
    this.#checkName('promoted index', req.promotedIndex);
    this.#checkName('old leader index', req.oldLeaderIndex);
    this.#checkAlias(req.promotedCluster);
    this.#checkAlias(req.oldLeaderCluster);
    const promotedKey = followerKey(req.promotedCluster, req.promotedIndex);
    const key = followerKey(req.oldLeaderCluster, req.oldLeaderIndex);
    if (this.#followers.has(key) || this.#creating.has(key)) throw new FollowError('resource_already_exists_exception', `[${key}] is already a follower index`);
    if (this.#followers.has(promotedKey)) throw new FollowError('illegal_state_exception', `[${promotedKey}] is still a follower index: promote it first`);
    const promotion = await this.#deps.state.getPromotion(promotedKey);
    const promoted = await this.#client(req.promotedCluster);
    const old = await this.#client(req.oldLeaderCluster);
    const [promotedMeta, oldMeta] = await Promise.all([
      this.#call(req.promotedCluster, () => promoted.indexMetadata(req.promotedIndex), `promoted index [${req.promotedIndex}]`),
      this.#call(req.oldLeaderCluster, () => old.indexMetadata(req.oldLeaderIndex), `old leader index [${req.oldLeaderIndex}]`),
    ]);
    const refusal = failbackRefusal(req, promotion, promotedMeta, oldMeta);
    if (refusal !== undefined || !promotion) throw new FollowError('illegal_argument_exception', `cannot fail back: ${refusal ?? 'no promotion record'}; nothing was changed`);
    const dryRun = req.dryRun === true;
    this.#creating.add(key);
    let blocked = false;
    try {
      if (!dryRun) {
        // First, so no writer changes the old leader index between the plan and its writes.
        await this.#call(req.oldLeaderCluster, () => old.putSettings(req.oldLeaderIndex, { 'index.blocks.write': true }), `old leader index [${req.oldLeaderIndex}]`)
          .catch((err: unknown) => {
            throw new FollowError('illegal_state_exception', `cannot fail back: the write block cannot be put on old leader index [${key}] (${(err as Error).message}); nothing was changed`, { cause: err });
          });
        blocked = true;
      }
      const sides = {
        promoted: promoted.forPurpose('reconciliation'), promotedIndex: req.promotedIndex,
        oldLeader: old.forPurpose('writes'), oldLeaderIndex: req.oldLeaderIndex, shards: promotion.shards, logger: this.#deps.logger,
      };
      const plan = await this.#call(req.oldLeaderCluster, () => planFailback(sides), `fail-back of [${key}]`);
      const shards = plan.shards.map(({ counts: c }) => ({ shard: c.shard, follow_from: c.followFrom, copied: c.copied, put_back: c.putBack, deleted: c.deleted, lost_writes: c.lostWrites }));
      if (plan.lostWrites.length > 0 && req.lostWritesFile === undefined && !dryRun) {
        throw new FollowError('illegal_argument_exception',
          `cannot fail back: [${key}] holds ${plan.lostWrites.length} write(s) that never reached [${promotedKey}], which fail-back overwrites: give a lost-writes file to save them; nothing was changed`);
      }
      if (req.lostWritesFile !== undefined) {
        const save = this.#deps.saveLostWrites ?? writeAtomically;
        await save(req.lostWritesFile, lostWritesText(plan)).catch((err: unknown) => {
          throw new FollowError('illegal_argument_exception', `cannot fail back: the lost-writes file [${req.lostWritesFile}] cannot be written (${(err as Error).message}); nothing was changed`, { cause: err });
        });
      }
      const answer = {
        dry_run: dryRun, version_base: plan.versionBase, lost_writes: plan.lostWrites.length,
        ...(req.lostWritesFile === undefined ? {} : { lost_writes_file: req.lostWritesFile }), shards,
      };
      if (dryRun) return { ...answer, documents_written: 0 };
      await this.#call(req.oldLeaderCluster, () => old.putSettings(req.oldLeaderIndex, { 'index.blocks.write': null }), `old leader index [${req.oldLeaderIndex}]`);
      blocked = false;
      const written = await this.#call(req.oldLeaderCluster, () => applyFailback(sides, plan), `fail-back of [${key}]`);
      const record: FollowerRecord = {
        leaderCluster: req.promotedCluster, leaderIndex: req.promotedIndex, followerCluster: req.oldLeaderCluster, followerIndex: req.oldLeaderIndex,
        params: DEFAULT_FOLLOW_PARAMS as unknown as Record<string, number>, status: 'active', createdAt: new Date().toISOString(),
        indexUuids: { leader: promotedMeta.uuid, follower: oldMeta.uuid },
        failback: {
          versionBase: plan.versionBase, lostWrites: plan.lostWrites.length, at: new Date().toISOString(),
          auditFrom: Object.fromEntries(plan.shards.map((s) => [s.counts.shard, s.oldMaxSeqNo])),
        },
      };
      // The record, then its checkpoints (the recorded max per shard): a crash in between starts
      // the follow from -1, a full copy above the base, slower and still right.
      await this.#deps.state.putFollower(record);
      await this.#deps.state.saveCheckpoints(key, Object.fromEntries(plan.shards.map((s) => [s.counts.shard, s.counts.followFrom])));
      if (await this.#claim(key)) {
        const follower = this.#build(record);
        this.#followers.set(key, follower);
        follower.begin();
      }
      this.#deps.logger.info(`failed back: ${key} follows ${promotedKey} from its promotion point`, { lost_writes: plan.lostWrites.length, written, version_base: plan.versionBase });
      return { ...answer, documents_written: written };
    } finally {
      this.#creating.delete(key);
      if (blocked) {
        await old.putSettings(req.oldLeaderIndex, { 'index.blocks.write': null })
          .catch((err: unknown) => this.#deps.logger.error(`the write block on ${key} could not be lifted: lift it by hand (${(err as Error).message})`));
      }
    }
  }

  /**
   * A planned switchover (switchover.ts): write block on the leader, the follower catches up with
   * everything, is promoted, and the old leader fails back to follow it. Refused, changing nothing,
   * unless `follower` is a following follower of `leader`.
   */
  async switchover(req: SwitchoverRequest): Promise<SwitchoverAnswer> {
    this.#checkAlias(req.leaderCluster);
    this.#checkAlias(req.followerCluster);
    const key = followerKey(req.followerCluster, req.followerIndex);
    const follower = this.#get(key);
    const { record } = follower;
    if (record.leaderCluster !== req.leaderCluster || record.leaderIndex !== req.leaderIndex) {
      throw new FollowError('illegal_argument_exception', `cannot switch over: [${key}] follows [${record.leaderCluster}/${record.leaderIndex}], not [${req.leaderCluster}/${req.leaderIndex}]; nothing was changed`);
    }
    if (follower.status !== 'active') throw new FollowError('illegal_state_exception', `cannot switch over: [${key}] is paused: resume it first; nothing was changed`);
    const [leader, followerClient] = [await this.#client(req.leaderCluster), await this.#client(req.followerCluster)];
    const answer = await runSwitchover(req, key, {
      leader, follower: followerClient, stats: () => follower.stats(), promote: () => this.promote(key), failback: (r) => this.failback(r), sleep, now: Date.now,
    });
    this.#deps.logger.info(`switched over: ${key} takes writes, ${req.leaderCluster}/${req.leaderIndex} follows it`, { write_downtime_millis: answer.write_downtime_millis });
    return answer;
  }

  /** Pauses a follower about to be promoted, unless it is paused already (by a user or an error). */
  async pauseForPromotion(key: FollowerKey): Promise<void> {
    const follower = this.#get(key);
    if (follower.status !== 'paused' || follower.pauseReason?.by === 'state_unwritable') await follower.pause();
  }

  /** What a paused follower would lack if promoted at `at` (recovery-point.ts). */
  async recoveryPoint(key: FollowerKey, at: number): Promise<RecoveryPoint> {
    const follower = this.#get(key);
    return this.#recoveryPoint(follower, await this.#deps.state.loadCheckpoints(key), at);
  }

  /**
   * Puts settings the follower index keeps as its own (follower-settings.ts) on it, for a running
   * or a paused follower; any other setting is refused before anything changes.
   */
  async updateSettings(key: FollowerKey, settings: unknown): Promise<void> {
    const { record } = this.#get(key);
    const own = followerOwnSettings(settings, 'a settings update');
    if (Object.keys(own).length === 0) throw new FollowError('illegal_argument_exception', 'a settings update needs at least one setting');
    const client = await this.#client(record.followerCluster);
    await this.#call(record.followerCluster, () => client.putSettings(record.followerIndex, own), `follower index [${record.followerIndex}]`);
    this.#deps.logger.info(`settings of ${key} updated`, { settings: own });
  }

  stats(key?: FollowerKey): FollowerIndexStats[] {
    return this.#select(key).map((f) => f.stats());
  }

  info(key?: FollowerKey): FollowerInfo[] {
    return this.#select(key).map((f) => {
      const r = f.record;
      const fatal = f.fatalException;
      return {
        follower_index: r.followerIndex, follower_cluster: r.followerCluster, remote_cluster: r.leaderCluster,
        leader_index: r.leaderIndex, status: f.status, parameters: f.params,
        ...(fatal ? { fatal_exception: { ...fatal } } : {}),
      };
    });
  }

  has(key: FollowerKey): boolean {
    return this.#followers.has(key);
  }

  /** Stops every follower, persisting checkpoints; their recorded status stays for the next start. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([...this.#followers.values()].map((f) => f.close()));
    for (const r of results) {
      if (r.status === 'rejected') this.#deps.logger.error(`a follower did not stop cleanly: ${String(r.reason)}`);
    }
    this.#probes.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  /**
   * Unreadable checkpoints (a truncated or damaged file) restart that follow from -1 instead of
   * stopping the daemon: they only record progress, the follower index holds the data, and
   * re-reading from -1 re-applies every live document with its external version, which leaves
   * what is already there unchanged (docs/architecture.md, shard step 5). The cost is one re-read
   * of the leader index; the error log names the file, the damage and where the file was set aside.
   */
  async #checkCheckpoints(record: FollowerRecord): Promise<void> {
    const key = followerKey(record.followerCluster, record.followerIndex);
    try {
      await this.#deps.state.loadCheckpoints(key);
    } catch (err) {
      if (!(err instanceof StateCorruptError) || err.newerFormat) throw err;
      const aside = await this.#deps.state.discardCheckpoints(key);
      this.#deps.logger.error(`${err.message}: ${key} starts again from -1 (re-applying is safe: external versions)`
        + `${aside ? `; the damaged file was kept as ${aside}` : ''}`, { follower: key, state_file: err.file });
    }
  }

  #recoveryPoint(follower: IndexFollower, checkpoints: ShardCheckpoints, promotedAt: number): RecoveryPoint {
    return recoveryPoint({ shards: follower.stats().shards, checkpoints, leaderSeenAt: follower.leaderSeenAt(), statsAt: Date.now(), promotedAt });
  }

  /**
   * Saves the record of a follow whose follower index was just created. When it cannot be saved,
   * the follow would be lost at the next restart and the index would block the next attempt, so
   * the index is deleted again (it holds nothing yet): a refused follow leaves nothing behind. The
   * error says what happened to the index.
   */
  async #saveNewRecord(record: FollowerRecord, follower: ClusterClient): Promise<void> {
    try {
      await this.#deps.state.putFollower(record);
    } catch (err) {
      const { reason } = errorSummary(err);
      const index = `follower index [${record.followerIndex}] on [${record.followerCluster}]`;
      let outcome: string;
      try {
        await follower.deleteIndex(record.followerIndex);
        outcome = `the ${index} created for it was deleted again; nothing was changed`;
      } catch (deleteErr) {
        outcome = `the ${index} created for it could not be deleted (${errorSummary(deleteErr).reason}): delete it before following again`;
      }
      this.#deps.logger.error(`cannot follow into ${recordKey(record)}: its record cannot be saved: ${reason}; ${outcome}`);
      throw new FollowError('state_write_exception', `cannot follow: the record of the follow cannot be saved (${reason}); ${outcome}`, { cause: err });
    }
  }

  /** `createdFrom`: the leader metadata versions a follower index just created here was created from. */
  #build(record: FollowerRecord, createdFrom?: IndexFollowerDeps['createdFrom']): IndexFollower {
    return new IndexFollower(record, {
      connect: (alias, signal) => this.#deps.clusters.client(alias, signal),
      state: this.#deps.state, logger: this.#deps.logger, writeBudgets: this.#writeBudgets, probes: this.#probes,
      // Parameters added since the record was written take their defaults.
      params: { ...DEFAULT_FOLLOW_PARAMS, ...(record.params as unknown as FollowParams) }, checkpointIntervalMs: this.#deps.checkpointIntervalMs,
      ...(createdFrom ? { createdFrom } : {}),
    });
  }

  #select(key?: FollowerKey): IndexFollower[] {
    return key === undefined ? [...this.#followers.values()] : [this.#get(key)];
  }

  /**
   * Whether a follower created here runs here: always alone; with several daemons, when its lease
   * is taken now (else another daemon takes it at its next scan: the record is saved either way).
   */
  #claim(key: FollowerKey): Promise<boolean> {
    return claimCreated(this.#deps.ownership, key, key, this.#deps.logger);
  }

  #get(key: FollowerKey): IndexFollower {
    const follower = this.#followers.get(key);
    if (follower) return follower;
    const ownership = this.#deps.ownership;
    // Who runs it now (read when asked): the control server forwards the request there.
    const lookUp = ownership?.runByNow ? { lookUp: () => ownership.runByNow!(key) } : {};
    const elsewhere = ownership?.runBy(key);
    if (elsewhere !== undefined) {
      // A request already forwarded, which is never forwarded again, gets this answer.
      throw new FollowError('illegal_state_exception', `[${key}] is run by ${elsewhere.description}, not by this daemon: send the request there`, { runBy: elsewhere, ...lookUp });
    }
    throw new FollowError('resource_not_found_exception', `[${key}] is not a follower index`, lookUp);
  }

  /**
   * The data stream name the follower of a backing index is exposed under, as CCR's put follow
   * creates the stream on the follower: `data_stream_name` when given, else the leader's stream's.
   * Only backing indices (`.ds-…`) are looked up, so following an ordinary index costs no request.
   */
  async #streamName(req: FollowRequest, leader: ClusterClient): Promise<string | undefined> {
    if (req.dataStreamName === undefined && !req.leaderIndex.startsWith('.ds-')) return undefined;
    const resolved = await this.#call(req.leaderCluster, () => resolveIndices(leader, [req.leaderIndex]), `leader index [${req.leaderIndex}]`);
    const stream = resolved.indices.find((i) => i.name === req.leaderIndex)?.dataStream;
    if (stream === undefined && req.dataStreamName !== undefined) {
      throw new FollowError('illegal_argument_exception',
        `[data_stream_name] [${req.dataStreamName}] is given, but leader index [${req.leaderIndex}] is not a backing index of a data stream`);
    }
    return req.dataStreamName ?? stream;
  }

  #checkName(what: string, name: string): void {
    const reason = invalidIndexNameReason(name);
    if (reason) throw new FollowError('illegal_argument_exception', `invalid ${what} name [${name}]: ${reason}`);
  }

  #checkAlias(alias: string): void {
    if (!this.#deps.clusters.has(alias)) {
      const cause = new UnknownClusterError(alias, this.#deps.clusters.aliases);
      throw new FollowError('unknown_cluster_exception', cause.message, { cause });
    }
  }

  #parseParams(input: Readonly<Record<string, unknown>>, base?: FollowParams): FollowParams {
    try {
      return parseFollowParams(input, base);
    } catch (err) {
      if (err instanceof FollowParamsError) throw new FollowError('illegal_argument_exception', err.message);
      throw err;
    }
  }

  async #client(alias: string): Promise<ClusterClient> {
    return this.#call(alias, () => this.#deps.clusters.client(alias));
  }

  /** Runs one cluster call of a follow request, turning cluster errors into clear FollowErrors. */
  async #call<T>(alias: string, fn: () => Promise<T>, subject?: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toFollowError(err, `cluster [${alias}]`, subject);
    }
  }
}

function settledValue<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
