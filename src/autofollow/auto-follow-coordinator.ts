/**
 * Auto-follow patterns (CCR's `/_ccr/auto_follow` API): put / get / delete / pause / resume,
 * and the polling that starts a follower for each new leader index a pattern matches.
 *
 * One `LeaderPoller` per leader cluster runs one round per interval for all the patterns of that
 * cluster: one discovery call (`_resolve/index` over the union of their patterns), plus, only when
 * some matching index is new to a pattern, one call for the creation dates of the new ones.
 * Patterns are taken in the order they were first put, so an index two patterns match is followed
 * by the earlier one; the later records why it skipped it.
 *
 * API calls that change patterns run one at a time, and each holds its leader cluster's lock,
 * which rounds hold too: when `pause` or `delete` returns, no round of the old configuration is
 * still starting followers.
 */
import { ClusterRegistry, UnknownClusterError } from '../cluster/cluster-registry.js';
import { errorSummary } from '../cluster/errors.js';
import { resolveIndices } from '../cluster/index-discovery.js';
import { FollowError, toFollowError } from '../follow/follow-errors.js';
import { claimCreated, type Ownership } from '../util/ownership.js';
import type { AutoFollowPatternRecord, StateStore } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import { type Candidate, candidatesOf, existingEntries } from './auto-follow-decision.js';
import { parsePatternSpec } from './auto-follow-pattern.js';
import { type AutoFollowStatsView, combineStats, PatternStats, type PatternStatsView } from './auto-follow-stats.js';
import { LeaderPoller } from './leader-poller.js';
import { type FollowerPort, LeaderRound, type PatternEntry } from './leader-round.js';
import { KeyedQueue } from '../util/keyed-queue.js';

export type { FollowerPort } from './leader-round.js';

export interface AutoFollowDeps {
  readonly clusters: ClusterRegistry;
  readonly state: StateStore;
  readonly followers: FollowerPort;
  readonly logger: Logger;
  /** How often each leader cluster is asked for new indices. */
  readonly pollIntervalMs?: number;
  readonly now?: () => number;
  /** With several daemons on one state: the patterns polled here are those whose lease this daemon holds (adopt / relinquish). */
  readonly ownership?: Ownership;
}

/** New leader indices are found within this much time of their creation, by default. */
export const DEFAULT_POLL_INTERVAL_MS = 2_000;

export interface AutoFollowPatternView {
  readonly name: string;
  /** CCR's shape: what `PUT` takes (plus `active`), so it can be put back as it is. */
  readonly pattern: Readonly<Record<string, unknown>> & { readonly active: boolean };
  /** Indices created before this (ISO 8601) are left alone: the last put or resume. */
  readonly active_since: string;
  readonly stats: PatternStatsView & {
    readonly followed_indices: { leader_index: string; follower_index: string; data_stream?: string }[];
    readonly skipped_indices: { leader_index: string; reason: string }[];
    readonly failed_indices: { leader_index: string; reason: string }[];
    /** Matching indices left alone because they existed before `active_since`. */
    readonly number_of_existing_indices: number;
  };
}

export class AutoFollowCoordinator {
  readonly #deps: AutoFollowDeps;
  readonly #logger: Logger;
  readonly #patterns = new Map<string, PatternEntry>();
  readonly #pollers = new Map<string, LeaderPoller>();
  /** Per leader cluster: the tail of the work holding its lock. */
  readonly #locks = new KeyedQueue();
  /** Pattern changes, one at a time. */
  #changes: Promise<unknown> = Promise.resolve();
  #failedDiscoveries = 0;
  readonly #rounds: LeaderRound;
  #closing: Promise<void> | undefined;

  constructor(deps: AutoFollowDeps) {
    this.#deps = deps;
    this.#logger = deps.logger.child({ part: 'auto-follow' });
    this.#rounds = new LeaderRound({ ...deps, logger: this.#logger, now: () => this.#now() });
  }

  /** Loads the patterns and their handled indices, and starts polling (daemon start). */
  async restore(): Promise<void> {
    if (this.#deps.ownership) return; // each pattern comes with its lease (adopt)
    for (const record of await this.#deps.state.listAutoFollowPatterns()) {
      const handled = await this.#deps.state.loadHandledIndices(record.name);
      this.#patterns.set(record.name, { record, handled: new Map(handled.map((h) => [h.leaderIndex, h])), stats: new PatternStats(record.name) });
    }
    for (const entry of this.#patterns.values()) this.#ensurePoller(entry.record.remoteCluster);
    if (this.#patterns.size > 0) this.#logger.info(`restored ${this.#patterns.size} auto-follow pattern(s)`);
  }

  /** Polls a pattern recorded in the state here (its lease was just taken), with what it handled so far. */
  adopt(name: string): Promise<void> {
    return this.#change(async () => {
      if (this.#patterns.has(name)) return;
      const record = await this.#deps.state.getAutoFollowPattern(name);
      if (!record) throw new FollowError('resource_not_found_exception', `auto-follow pattern [${name}] is missing`);
      const handled = await this.#deps.state.loadHandledIndices(name);
      this.#patterns.set(name, { record, handled: new Map(handled.map((h) => [h.leaderIndex, h])), stats: new PatternStats(name) });
      this.#ensurePoller(record.remoteCluster);
    });
  }

  /** Stops polling a pattern here (its lease was lost or handed over); a round in progress ends first. */
  relinquish(name: string): Promise<void> {
    return this.#change(async () => {
      const entry = this.#patterns.get(name);
      if (!entry) return;
      await this.#exclusive(entry.record.remoteCluster, async () => {
        this.#patterns.delete(name);
      });
      await this.#stopUnusedPoller(entry.record.remoteCluster);
    });
  }

  /**
   * Creates or replaces a pattern. Every leader index it matches at this moment is recorded as
   * handled: like CCR, a pattern only follows indices created after it was put.
   */
  put(name: string, body: Readonly<Record<string, unknown>>): Promise<void> {
    return this.#change(async () => {
      const spec = parsePatternSpec(name, body);
      this.#checkAlias(spec.remoteCluster);
      this.#checkAlias(spec.followerCluster);
      const previous = this.#patterns.get(name);
      const elsewhere = previous ? undefined : this.#deps.ownership?.runBy(name);
      if (elsewhere !== undefined) throw new FollowError('illegal_state_exception', `auto-follow pattern [${name}] is run by ${elsewhere.description}, not by this daemon: send the request there`, { runBy: elsewhere });
      if (previous && previous.record.remoteCluster !== spec.remoteCluster) {
        throw new FollowError('illegal_argument_exception',
          `auto-follow pattern [${name}] follows [${previous.record.remoteCluster}]; to follow [${spec.remoteCluster}] instead, delete it and put it again`);
      }
      await this.#exclusive(spec.remoteCluster, async () => {
        const now = this.#nowIso(); // before the snapshot: an index created during it counts as new
        const record: AutoFollowPatternRecord = {
          name, ...spec,
          status: previous?.record.status ?? 'active',
          createdAt: previous?.record.createdAt ?? now,
          activeSince: now,
        };
        const handled = new Map(previous?.handled ?? []);
        for (const e of existingEntries(await this.#snapshot(record), handled, now, 'existed when the pattern was put')) handled.set(e.leaderIndex, e);
        // Pattern first: a crash before the handled set is saved still leaves the creation date
        // rule protecting the indices that existed.
        await this.#deps.state.putAutoFollowPattern(record);
        await this.#deps.state.saveHandledIndices(name, [...handled.values()]);
        // A new pattern is polled here once its lease is this daemon's; else by whoever takes it.
        if (!previous && !(await this.#claim(name))) return;
        this.#patterns.set(name, { record, handled, stats: previous?.stats ?? new PatternStats(name) });
      });
      this.#ensurePoller(spec.remoteCluster);
      this.#logger.info(`auto-follow pattern [${name}] ${previous ? 'replaced' : 'created'}`, {
        remote_cluster: spec.remoteCluster, leader_index_patterns: spec.leaderIndexPatterns, follow_index_pattern: spec.followIndexPattern,
      });
    });
  }

  /** All patterns in the order they were put, or the one named. */
  list(name?: string): AutoFollowPatternView[] {
    const entries = name === undefined ? this.#ordered([...this.#patterns.values()]) : [this.#get(name)];
    return entries.map((e) => view(e));
  }

  /** Removes the pattern. The followers it started keep following (as in CCR). */
  delete(name: string): Promise<void> {
    return this.#change(async () => {
      const leader = this.#get(name).record.remoteCluster;
      await this.#exclusive(leader, async () => {
        await this.#deps.state.deleteAutoFollowPattern(name);
        this.#patterns.delete(name);
      });
      await this.#deps.ownership?.forget(name).catch((err: unknown) => this.#logger.warn(`the lease of pattern [${name}] stays until the others see it is gone: ${(err as Error).message}`));
      await this.#stopUnusedPoller(leader);
      this.#logger.info(`auto-follow pattern [${name}] deleted; the followers it started keep following`);
    });
  }

  /** No new followers until resumed; the existing ones keep following. */
  pause(name: string): Promise<void> {
    return this.#change(async () => {
      const entry = this.#get(name);
      if (entry.record.status === 'paused') return;
      await this.#exclusive(entry.record.remoteCluster, async () => {
        const record: AutoFollowPatternRecord = { ...entry.record, status: 'paused' };
        await this.#deps.state.putAutoFollowPattern(record);
        entry.record = record;
      });
      this.#logger.info(`auto-follow pattern [${name}] paused`);
    });
  }

  /**
   * Follows new indices again. Indices created while the pattern was paused are left alone, as
   * those that existed before a put: the matching indices are recorded as handled now.
   */
  resume(name: string): Promise<void> {
    return this.#change(async () => {
      const entry = this.#get(name);
      if (entry.record.status === 'active') return;
      await this.#exclusive(entry.record.remoteCluster, async () => {
        const now = this.#nowIso();
        const record: AutoFollowPatternRecord = { ...entry.record, status: 'active', activeSince: now };
        const handled = new Map(entry.handled);
        for (const e of existingEntries(await this.#snapshot(record), handled, now, 'existed when the pattern was resumed')) handled.set(e.leaderIndex, e);
        await this.#deps.state.putAutoFollowPattern(record);
        await this.#deps.state.saveHandledIndices(name, [...handled.values()]);
        entry.record = record;
        entry.handled = handled;
      });
      this.#logger.info(`auto-follow pattern [${name}] resumed`);
    });
  }

  stats(): AutoFollowStatsView {
    const clusters = [...this.#pollers.values()].map((p) => ({
      cluster_name: p.leader, time_since_last_check_millis: p.timeSinceLastCheck(), state: p.state,
    }));
    return combineStats([...this.#patterns.values()].map((e) => e.stats.view()), this.#failedDiscoveries, clusters);
  }

  /** Stops polling; rounds in progress end first. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const pollers = [...this.#pollers.values()];
      this.#pollers.clear();
      const results = await Promise.allSettled(pollers.map((p) => p.stop()));
      for (const r of results) {
        if (r.status === 'rejected') this.#logger.error(`an auto-follow poller did not stop cleanly: ${String(r.reason)}`);
      }
    })();
    return this.#closing;
  }

  // ---- rounds ---------------------------------------------------------------------------------

  #ensurePoller(leader: string): void {
    if (this.#closing || this.#pollers.has(leader)) return;
    const poller = new LeaderPoller({
      leader,
      intervalMs: this.#deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      round: (signal) => this.#exclusive(leader, () => this.#rounds.run(leader, this.#entriesOf(leader), signal)),
      onError: (err, verdict) => {
        this.#failedDiscoveries += 1;
        const error = errorSummary(err, verdict.reason);
        let changed = false;
        for (const entry of this.#patterns.values()) {
          if (entry.record.remoteCluster === leader && entry.record.status === 'active') changed = entry.stats.error(undefined, error, this.#now()) || changed;
        }
        // Logged when it changes, not every few seconds while a leader stays unreachable.
        const level = !changed ? 'debug' : verdict.action === 'retry' ? 'warn' : 'error';
        this.#logger[level](`auto-follow: cannot check leader cluster [${leader}] for new indices (trying again): ${error.reason}`);
      },
      logger: this.#logger,
      now: this.#deps.now,
    });
    this.#pollers.set(leader, poller);
    poller.start();
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Every leader index `record` matches now (the snapshot that put and resume record). */
  async #snapshot(record: AutoFollowPatternRecord): Promise<Candidate[]> {
    const leader = record.remoteCluster;
    try {
      const client = await this.#deps.clusters.client(leader);
      return candidatesOf(record, await resolveIndices(client, record.leaderIndexPatterns));
    } catch (err) {
      // The put is refused rather than saved without its snapshot: CCR refuses too when it cannot
      // read the remote cluster, and the user learns at once that the leader is unreachable.
      throw toFollowError(err, `cannot read the indices of leader cluster [${leader}]`);
    }
  }

  #change(fn: () => Promise<void>): Promise<void> {
    if (this.#closing) return Promise.reject(new FollowError('illegal_state_exception', 'the daemon is stopping'));
    const result = this.#changes.then(fn);
    this.#changes = result.catch(() => undefined); // the caller gets the error; the next change still runs
    return result;
  }

  /** Runs `fn` once everything earlier holding `leader`'s lock has finished. */
  #exclusive<T>(leader: string, fn: () => Promise<T>): Promise<T> {
    return this.#locks.run(leader, fn);
  }

  /** A leader cluster's poller once no pattern polled here uses it. */
  async #stopUnusedPoller(leader: string): Promise<void> {
    if ([...this.#patterns.values()].some((e) => e.record.remoteCluster === leader)) return;
    const poller = this.#pollers.get(leader);
    this.#pollers.delete(leader);
    await poller?.stop();
  }

  #claim(name: string): Promise<boolean> {
    return claimCreated(this.#deps.ownership, name, `auto-follow pattern [${name}]`, this.#logger);
  }

  #get(name: string): PatternEntry {
    const entry = this.#patterns.get(name);
    const elsewhere = entry ? undefined : this.#deps.ownership?.runBy(name);
    if (elsewhere !== undefined) throw new FollowError('illegal_state_exception', `auto-follow pattern [${name}] is run by ${elsewhere.description}, not by this daemon: send the request there`, { runBy: elsewhere });
    if (!entry) throw new FollowError('resource_not_found_exception', `auto-follow pattern [${name}] is missing`);
    return entry;
  }

  #checkAlias(alias: string): void {
    if (!this.#deps.clusters.has(alias)) {
      const cause = new UnknownClusterError(alias, this.#deps.clusters.aliases);
      throw new FollowError('unknown_cluster_exception', cause.message, { cause });
    }
  }

  /** The patterns of one leader cluster, first put first. */
  #entriesOf(leader: string): PatternEntry[] {
    return this.#ordered([...this.#patterns.values()].filter((e) => e.record.remoteCluster === leader));
  }

  /** First put first. */
  #ordered(entries: PatternEntry[]): PatternEntry[] {
    return entries.sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt) || a.record.name.localeCompare(b.record.name));
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }

  #nowIso(): string {
    return new Date(this.#now()).toISOString();
  }
}

/**
 * A pattern no daemon runs at the moment (its daemon just died, or it is being handed over), as
 * its stored record says it: no stats and no handled indices (only the daemon that runs it reads those).
 */
export function storedPatternView(record: AutoFollowPatternRecord): AutoFollowPatternView {
  return view({ record, handled: new Map(), stats: new PatternStats(record.name) });
}

function view(entry: PatternEntry): AutoFollowPatternView {
  const r = entry.record;
  const handled = [...entry.handled.values()];
  return {
    name: r.name,
    pattern: {
      active: r.status === 'active',
      remote_cluster: r.remoteCluster,
      follower_cluster: r.followerCluster,
      leader_index_patterns: [...r.leaderIndexPatterns],
      leader_index_exclusion_patterns: [...r.leaderIndexExclusionPatterns],
      follow_index_pattern: r.followIndexPattern,
      ...(r.settings === undefined ? {} : { settings: { ...r.settings } }),
      ...r.params,
    },
    active_since: r.activeSince,
    stats: {
      ...entry.stats.view(),
      followed_indices: handled.filter((h) => h.outcome === 'followed').map((h) => ({
        leader_index: h.leaderIndex, follower_index: h.followerIndex ?? '', ...(h.dataStream === undefined ? {} : { data_stream: h.dataStream }),
      })),
      skipped_indices: handled.filter((h) => h.outcome === 'skipped').map((h) => ({ leader_index: h.leaderIndex, reason: h.reason ?? '' })),
      failed_indices: handled.filter((h) => h.outcome === 'failed').map((h) => ({ leader_index: h.leaderIndex, reason: h.reason ?? '' })),
      number_of_existing_indices: handled.filter((h) => h.outcome === 'existing').length,
    },
  };
}
