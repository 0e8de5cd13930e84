/**
 * One auto-follow round for one leader cluster: discover its indices once for all its patterns,
 * decide per pattern (auto-follow-decision.ts), start the followers, record what was handled, and
 * keep the aliases of followed data streams (stream-aliases.ts). Errors of a single follow are
 * recorded and the round goes on; an error of the discovery itself ends the round and is the
 * poller's to handle.
 */
import PQueue from 'p-queue';
import { classify } from '../cluster/classify.js';
import type { ClusterRegistry } from '../cluster/cluster-registry.js';
import { errorSummary } from '../cluster/errors.js';
import { indexDetails, type IndexDetails, resolveIndices } from '../cluster/index-discovery.js';
import { FollowError } from '../follow/follow-errors.js';
import type { FollowRequest } from '../follow/follow-manager.js';
import {
  AutoFollowPatternNotFoundError, type AutoFollowPatternRecord, type HandledLeaderIndex, type StateStore,
} from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import { type Candidate, candidatesOf, decide, type KnownFollower, pruneHandled, screen } from './auto-follow-decision.js';
import type { PatternStats } from './auto-follow-stats.js';
import { reconcileStreamAliases, type StreamAliasTarget } from './stream-aliases.js';

/** What auto-follow needs of the follow manager. */
export interface FollowerPort {
  follow(req: FollowRequest): Promise<unknown>;
  info(): readonly KnownFollower[];
}

/** A pattern as auto-follow holds it: the record, the leader indices it handled, its stats. */
export interface PatternEntry {
  record: AutoFollowPatternRecord;
  handled: Map<string, HandledLeaderIndex>;
  readonly stats: PatternStats;
}

export interface LeaderRoundDeps {
  readonly clusters: ClusterRegistry;
  readonly state: StateStore;
  readonly followers: FollowerPort;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * Follows a round starts at once. Each waits mostly on the follower cluster creating its index (one
 * cluster-state update each, which its master applies one by one): a few in flight keep that queue
 * full without piling requests on it.
 */
const FOLLOWS_IN_FLIGHT = 8;

export class LeaderRound {
  readonly #deps: LeaderRoundDeps;
  readonly #logger: Logger;
  /** Last alias error reported per follower cluster and stream, so a lasting one is logged once. */
  readonly #aliasErrors = new Map<string, string>();

  constructor(deps: LeaderRoundDeps) {
    this.#deps = deps;
    this.#logger = deps.logger;
  }

  /**
   * One round for `entries`, the patterns of `leader` in the order they were first put. The caller
   * holds the leader's lock: the entries do not change meanwhile, except through this round.
   */
  async run(leader: string, entries: readonly PatternEntry[], signal: AbortSignal): Promise<void> {
    const active = entries.filter((e) => e.record.status === 'active');
    if (active.length === 0 || signal.aborted) return;
    const client = await this.#deps.clusters.client(leader, signal);
    const resolved = await resolveIndices(client, [...new Set(active.flatMap((e) => e.record.leaderIndexPatterns))], signal);
    const followers = [...this.#deps.followers.info()];
    const followedBy = new Map<string, string>();
    for (const e of entries) {
      for (const h of e.handled.values()) if (h.outcome === 'followed' && !followedBy.has(h.leaderIndex)) followedBy.set(h.leaderIndex, e.record.name);
    }

    const work = active.map((entry) => {
      const candidates = candidatesOf(entry.record, resolved);
      const kept = pruneHandled(entry.handled, candidates);
      const changed = kept.size !== entry.handled.size;
      entry.handled = kept;
      const fresh = candidates.filter((c) => screen(c, kept, { pattern: entry.record, followers }).kind === 'lookup');
      return { entry, fresh, changed };
    });
    const lookups = [...new Set(work.flatMap((w) => w.fresh.map((c) => c.name)))];
    const details = lookups.length === 0 ? new Map<string, IndexDetails>() : await indexDetails(client, lookups, signal);

    // Decisions are made in order, each seeing the follows decided before it (a follower index name
    // or leader index taken in this round); the follows themselves run FOLLOWS_IN_FLIGHT at a time.
    const follows = new PQueue({ concurrency: FOLLOWS_IN_FLIGHT });
    const record = (w: (typeof work)[number], candidate: Candidate, entry: HandledLeaderIndex): void => {
      w.entry.handled.set(candidate.name, entry);
      w.changed = true;
      if (entry.outcome === 'skipped') this.#logger.info(`auto-follow pattern [${w.entry.record.name}] skips ${leader}/${candidate.name}: ${entry.reason}`);
    };
    for (const w of work) {
      for (const candidate of w.fresh) {
        if (signal.aborted) break;
        const found = details.get(candidate.name);
        if (found?.system) {
          record(w, candidate, { leaderIndex: candidate.name, outcome: 'skipped', reason: 'it is a system index', at: this.#nowIso() });
          continue;
        }
        const decision = decide(candidate, found, { pattern: w.entry.record, followers, followedBy, now: this.#nowIso() });
        if (decision.kind === 'wait') continue;
        if (decision.kind === 'record') {
          record(w, candidate, decision.entry);
          continue;
        }
        // Taken for the rest of this round's decisions; a follow that fails is decided again next round.
        followers.push({ remote_cluster: leader, leader_index: candidate.name, follower_cluster: w.entry.record.followerCluster, follower_index: decision.followerIndex });
        followedBy.set(candidate.name, w.entry.record.name);
        follows.add(async () => {
          if (signal.aborted) return;
          const entry = await this.#follow(w.entry, candidate, decision.followerIndex);
          if (entry !== undefined) record(w, candidate, entry);
        }).catch((err: unknown) => this.#logger.warn(`auto-follow pattern [${w.entry.record.name}] could not handle ${leader}/${candidate.name}: ${(err as Error).message}`));
      }
    }
    await follows.onIdle();
    for (const w of work) if (w.changed) await this.#saveHandled(w.entry);
    if (!signal.aborted) await this.#exposeStreams(entries, signal);
  }

  /** Starts one follower; returns what to record, or undefined to try again next round. */
  async #follow(entry: PatternEntry, candidate: Candidate, followerIndex: string): Promise<HandledLeaderIndex | undefined> {
    const { record } = entry;
    const base = { leaderIndex: candidate.name, followerIndex, ...(candidate.dataStream === undefined ? {} : { dataStream: candidate.dataStream }) };
    try {
      await this.#deps.followers.follow({
        leaderCluster: record.remoteCluster, leaderIndex: candidate.name, followerCluster: record.followerCluster, followerIndex, params: record.params,
        ...(record.settings === undefined ? {} : { settings: record.settings }),
      });
      entry.stats.followed();
      this.#logger.info(`auto-follow pattern [${record.name}] follows ${record.remoteCluster}/${candidate.name} into ${record.followerCluster}/${followerIndex}`);
      return { ...base, outcome: 'followed', at: this.#nowIso() };
    } catch (err) {
      const failure = followFailure(err);
      const what = `auto-follow pattern [${record.name}] could not follow ${record.remoteCluster}/${candidate.name} into ${record.followerCluster}/${followerIndex}`;
      if (failure.retry) {
        // Logged when it changes, not every round while it lasts.
        if (entry.stats.error(candidate.name, failure, this.#now())) this.#logger.warn(`${what}; trying again each round: ${failure.reason}`);
        return undefined;
      }
      entry.stats.failed(candidate.name, failure, this.#now());
      this.#logger.warn(`${what}; giving up on it: ${failure.reason}`);
      return { ...base, outcome: 'failed', reason: `${failure.type}: ${failure.reason}`, at: this.#nowIso() };
    }
  }

  /** Keeps the alias named after each followed data stream over its follower indices (see stream-aliases.ts). */
  async #exposeStreams(entries: readonly PatternEntry[], signal: AbortSignal): Promise<void> {
    const live = new Set(this.#deps.followers.info().map((f) => `${f.follower_cluster}/${f.follower_index}`));
    interface Group { targets: StreamAliasTarget[]; patternOf: Map<string, PatternEntry> }
    const byCluster = new Map<string, Group>();
    for (const entry of entries) {
      const cluster = entry.record.followerCluster;
      for (const h of entry.handled.values()) {
        if (h.outcome !== 'followed' || h.dataStream === undefined || h.followerIndex === undefined) continue;
        if (!live.has(`${cluster}/${h.followerIndex}`)) continue; // unfollowed since: no longer ours to keep up
        const group: Group = byCluster.get(cluster) ?? { targets: [], patternOf: new Map() };
        group.targets.push({ stream: h.dataStream, followerIndex: h.followerIndex });
        if (!group.patternOf.has(h.dataStream)) group.patternOf.set(h.dataStream, entry);
        byCluster.set(cluster, group);
      }
    }
    for (const [cluster, { targets, patternOf }] of byCluster) {
      const outcomes = await this.#deps.clusters.client(cluster, signal)
        .then((client) => reconcileStreamAliases(client, targets, signal))
        .catch((err: unknown) => {
          if (!signal.aborted) this.#aliasError(cluster, '*', [...patternOf.values()], err);
          return [];
        });
      for (const outcome of outcomes) {
        const entry = patternOf.get(outcome.stream)!;
        if (outcome.result === 'failed') {
          this.#aliasError(cluster, outcome.stream, [entry], outcome.error);
          continue;
        }
        this.#aliasErrors.delete(`${cluster}/${outcome.stream}`);
        if (outcome.added.length > 0) {
          this.#logger.info(`data stream [${outcome.stream}] exposed on [${cluster}] as an alias`, { added: outcome.added });
        }
      }
    }
  }

  #aliasError(cluster: string, stream: string, entries: readonly PatternEntry[], err: unknown): void {
    const error = errorSummary(err);
    const key = `${cluster}/${stream}`;
    for (const entry of entries) entry.stats.error(stream === '*' ? undefined : stream, error, this.#now());
    // Checked every round: log a lasting error once, not every few seconds.
    if (this.#aliasErrors.get(key) === error.reason) return;
    this.#aliasErrors.set(key, error.reason);
    this.#logger.warn(`cannot expose data stream [${stream}] on [${cluster}] as an alias (will try again): ${error.reason}`);
  }

  async #saveHandled(entry: PatternEntry): Promise<void> {
    try {
      await this.#deps.state.saveHandledIndices(entry.record.name, [...entry.handled.values()]);
    } catch (err) {
      // Deleted meanwhile: nothing left to remember for it. (Deletes hold the same lock as
      // rounds, so this should not happen; the store refuses rather than resurrecting the set.)
      if (err instanceof AutoFollowPatternNotFoundError) return;
      throw err;
    }
  }

  #now(): number {
    return this.#deps.now();
  }

  #nowIso(): string {
    return new Date(this.#now()).toISOString();
  }
}

/**
 * Whether a failed follow is worth trying again next round, and how to show it. What the error
 * means is `classify`'s decision, made on the cluster error behind a refused follow request: what
 * is retryable is tried again, and so is what its row marks `autoFollowRetries` (refused
 * credentials, a certificate, a cluster missing from the config: fixed without touching the leader
 * index). Anything else, and a request refused for itself (the follower name is taken, the
 * resulting name is invalid), would fail again: the index is given up on.
 */
function followFailure(err: unknown): { retry: boolean; type: string; reason: string } {
  const verdict = classify(err instanceof FollowError && err.cause !== undefined ? err.cause : err);
  const retry = verdict.action !== 'fatal' || verdict.autoFollowRetries;
  if (err instanceof FollowError) return { retry, ...errorSummary(err) };
  return { retry, ...errorSummary(err, verdict.action === 'aborted' ? 'request aborted' : verdict.reason) };
}

