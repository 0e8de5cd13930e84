/**
 * Cluster-metadata patterns (`/_ccr/cluster_metadata/<name>`): put / get / delete / pause / resume,
 * and the polling that keeps each active pattern's templates, pipelines and policies in step
 * (metadata-round.ts), one round per pattern per interval.
 *
 * The poller is a long-lived task with an explicit life: `created` → `running` (after `restore`) →
 * `stopped` (after `close`, which aborts a round in flight). A pattern's rounds and the API calls
 * that change it run one at a time (one queue per pattern name), so when `pause` or `delete`
 * returns, no round of the old configuration is still writing. What a round put is saved with the
 * pattern only when it changed, so an idle pattern costs reads only.
 */
import type { ClusterRegistry } from '../cluster/cluster-registry.js';
import { errorSummary, type ErrorSummary } from '../cluster/errors.js';
import { METADATA_KINDS, type MetadataKind } from '../cluster/metadata-items.js';
import type { MetadataPatternRecord, StateStore } from '../state/state-store.js';
import { KeyedQueue } from '../util/keyed-queue.js';
import type { Logger } from '../util/logger.js';
import { claimCreated, type Ownership, type RunningDaemon } from '../util/ownership.js';
import { sleep as defaultSleep, type Sleep } from '../util/sleep.js';
import { KIND_FIELDS, MetadataPatternError, parseMetadataPatternSpec, type MetadataPatternSpec } from './metadata-pattern.js';
import { runMetadataRound } from './metadata-round.js';
import type { Unexpressible } from './sync-plan.js';
import { withHeldBack } from './translate.js';

export interface MetadataCoordinatorDeps {
  readonly clusters: ClusterRegistry;
  readonly state: StateStore;
  readonly logger: Logger;
  /** How often each active pattern is compared (default 10 s): templates change seldom. */
  readonly pollIntervalMs?: number;
  readonly sleep?: Sleep;
  readonly now?: () => number;
  /** With several daemons on one state: the patterns run here are those whose lease this daemon holds (adopt / relinquish). */
  readonly ownership?: Ownership;
}


export const DEFAULT_METADATA_POLL_INTERVAL_MS = 10_000;

/** Counts since the daemon started, per pattern. */
export interface MetadataPatternStats {
  readonly rounds: number;
  readonly failed_rounds: number;
  /** Items the follower holds because a round put them (as known now). */
  readonly items_followed: number;
  readonly items_created: number;
  readonly items_changed: number;
  /** Changed or deleted on the follower by someone else, and put back as the leader has them. */
  readonly items_put_back: number;
  readonly items_deleted: number;
  /** Items the follower cannot hold, as of the last round: kind, name, why. */
  readonly not_expressible: readonly Unexpressible[];
  /** Parts of items left out while following, put back by promote (translate.ts). */
  readonly held_back: readonly HeldBackView[];
  readonly last_round_at?: string;
  readonly last_error?: ErrorSummary & { readonly at: string };
}

export interface HeldBackView {
  readonly kind: MetadataKind;
  readonly name: string;
  /** Where each part goes back: `data_stream`, `template.settings.<setting>`. */
  readonly fields: readonly string[];
}

/** What `promote` did with one item a pattern put. */
export interface RestoredItem {
  readonly pattern: string;
  readonly kind: MetadataKind;
  readonly name: string;
  readonly fields: readonly string[];
  readonly result: 'restored' | 'failed';
  readonly reason?: string;
}

export interface MetadataPatternView {
  readonly name: string;
  /** What `PUT` takes, plus `active`. */
  readonly pattern: Readonly<Record<string, unknown>> & { readonly active: boolean };
  readonly stats: MetadataPatternStats;
}

/** A pattern another daemon runs (409 at the API): the request goes there. */
export class MetadataPatternElsewhereError extends Error {
  override readonly name = 'MetadataPatternElsewhereError';
  constructor(readonly pattern: string, readonly runBy: RunningDaemon) {
    super(`cluster-metadata pattern [${pattern}] is run by ${runBy.description}, not by this daemon: send the request there`);
  }
}

/** An unknown pattern name (404 at the API). */
export class MetadataPatternNotFoundError extends Error {
  override readonly name = 'MetadataPatternNotFoundError';
  constructor(readonly pattern: string) {
    super(`cluster-metadata pattern [${pattern}] is missing`);
  }
}

interface Entry {
  record: MetadataPatternRecord;
  stats: Mutable<MetadataPatternStats>;
}
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export class MetadataCoordinator {
  readonly #deps: MetadataCoordinatorDeps;
  readonly #logger: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #queue = new KeyedQueue();
  readonly #abort = new AbortController();
  #phase: 'created' | 'running' | 'stopped' = 'created';
  #loop: Promise<void> | undefined;

  constructor(deps: MetadataCoordinatorDeps) {
    this.#deps = deps;
    this.#logger = deps.logger.child({ part: 'cluster-metadata' });
  }

  /** Loads the stored patterns and starts polling (daemon start). */
  async restore(): Promise<void> {
    if (this.#phase !== 'created') throw new Error(`cluster-metadata polling cannot start when ${this.#phase}`);
    // With leases each pattern comes with its lease (adopt).
    if (!this.#deps.ownership) for (const record of await this.#deps.state.listMetadataPatterns()) this.#entries.set(record.name, { record, stats: emptyStats() });
    this.#phase = 'running';
    this.#loop = this.#poll(this.#abort.signal);
  }

  async close(): Promise<void> {
    if (this.#phase === 'stopped') return;
    this.#phase = 'stopped';
    this.#abort.abort();
    await this.#loop;
    await this.#queue.allIdle();
  }

  /** Creates or replaces the pattern `name` (its record of what was put is kept when replaced). */
  async put(name: string, body: Readonly<Record<string, unknown>>): Promise<void> {
    if (!NAME.test(name)) throw new MetadataPatternError(`invalid cluster-metadata pattern name [${name}]: must be 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit`);
    const spec = parseMetadataPatternSpec(body, 'follower');
    for (const alias of [spec.remoteCluster, spec.followerCluster]) {
      if (!this.#deps.clusters.has(alias)) throw new MetadataPatternError(`unknown cluster alias [${alias}]; configured: ${this.#deps.clusters.aliases.join(', ')}`);
    }
    await this.#queue.run(name, async () => {
      const previous = this.#entries.get(name);
      const elsewhere = previous ? undefined : this.#deps.ownership?.runBy(name);
      if (elsewhere !== undefined) throw new MetadataPatternElsewhereError(name, elsewhere);
      const record: MetadataPatternRecord = {
        name, remoteCluster: spec.remoteCluster, followerCluster: spec.followerCluster,
        include: { ...spec.include }, exclude: { ...spec.exclude }, status: 'active',
        createdAt: previous?.record.createdAt ?? new Date(this.#now()).toISOString(),
        // What was put stays known only while it is the same pair of clusters.
        synced: previous && previous.record.remoteCluster === spec.remoteCluster && previous.record.followerCluster === spec.followerCluster ? previous.record.synced : {},
      };
      await this.#deps.state.putMetadataPattern(record);
      if (previous || await this.#claim(name)) this.#entries.set(name, { record, stats: previous?.stats ?? emptyStats() });
      this.#logger.info(`cluster-metadata pattern [${name}] ${previous ? 'replaced' : 'created'}`, { remote_cluster: spec.remoteCluster, follower_cluster: spec.followerCluster });
    });
  }

  /** Runs a pattern recorded in the state here (its lease was just taken). */
  async adopt(name: string): Promise<void> {
    await this.#queue.run(name, async () => {
      if (this.#entries.has(name)) return;
      const record = (await this.#deps.state.listMetadataPatterns()).find((r) => r.name === name);
      if (!record) throw new MetadataPatternNotFoundError(name);
      this.#entries.set(name, { record, stats: emptyStats() });
    });
  }

  /** Stops running a pattern here (its lease was lost or handed over); a round in progress ends first. */
  async relinquish(name: string): Promise<void> {
    await this.#queue.run(name, async () => {
      this.#entries.delete(name);
    });
  }

  /** All patterns by name, or the one named. */
  list(name?: string): MetadataPatternView[] {
    const entries = name === undefined ? [...this.#entries.values()].sort((a, b) => a.record.name.localeCompare(b.record.name)) : [this.#get(name)];
    return entries.map(view);
  }

  async pause(name: string): Promise<void> {
    await this.#setStatus(name, 'paused');
  }

  async resume(name: string): Promise<void> {
    await this.#setStatus(name, 'active');
  }

  /** Removes the pattern; what it put on the follower stays (as a deleted auto-follow pattern's followers do). */
  async delete(name: string): Promise<void> {
    this.#get(name);
    await this.#queue.run(name, async () => {
      await this.#deps.state.deleteMetadataPattern(name);
      this.#entries.delete(name);
      await this.#deps.ownership?.forget(name).catch((err: unknown) => this.#logger.warn(`the lease of cluster-metadata pattern [${name}] stays until the others see it is gone: ${(err as Error).message}`));
      this.#logger.info(`cluster-metadata pattern [${name}] deleted; what it put on the follower stays`);
    });
  }

  /**
   * The follower cluster takes over (its leader is lost, or a switchover): each pattern named, or
   * every pattern of `leader` (all when neither is given), is paused so nothing overwrites the
   * follower's items from now on, and every item it put gets back what was held back while
   * following (the data stream flag, rollover aliases), read from the follower itself: the leader
   * is not needed. An item that cannot be restored is reported, and the others go on.
   */
  async promote(select: { readonly name?: string; readonly leader?: string } = {}): Promise<RestoredItem[]> {
    if (select.name !== undefined) this.#get(select.name);
    const names = [...this.#entries.values()]
      .filter((e) => (select.name === undefined || e.record.name === select.name) && (select.leader === undefined || e.record.remoteCluster === select.leader))
      .map((e) => e.record.name);
    const restored: RestoredItem[] = [];
    for (const name of names) {
      await this.#setStatus(name, 'paused');
      await this.#queue.run(name, async () => {
        const entry = this.#entries.get(name);
        if (!entry) return;
        const held = Object.entries(entry.record.synced).filter(([, s]) => s.heldBack !== undefined);
        if (held.length === 0) return;
        const follower = await this.#deps.clusters.client(entry.record.followerCluster);
        for (const view of heldBackOf(entry.record)) {
          const heldBack = entry.record.synced[`${view.kind}/${view.name}`]!.heldBack!;
          const base = { pattern: name, kind: view.kind, name: view.name, fields: view.fields };
          try {
            const current = (await follower.listMetadataItems(view.kind)).find((i) => i.name === view.name);
            if (!current) throw new Error(`the follower no longer has ${view.kind.replace('_', ' ')} [${view.name}]`);
            await follower.putMetadataItem({ ...current, body: withHeldBack(current.body, heldBack) });
            restored.push({ ...base, result: 'restored' });
          } catch (err) {
            const summary = errorSummary(err);
            restored.push({ ...base, result: 'failed', reason: `${summary.type}: ${summary.reason}` });
          }
        }
        this.#logger.info(`cluster-metadata pattern [${name}] promoted: paused, ${restored.filter((r) => r.pattern === name && r.result === 'restored').length} item(s) given back what following held back`);
      });
    }
    return restored;
  }

  /** One round of every active pattern now (the poller's work; tests and `resume` call it too). */
  async runRounds(signal: AbortSignal = this.#abort.signal): Promise<void> {
    for (const name of [...this.#entries.keys()]) {
      if (signal.aborted) return;
      await this.#queue.run(name, () => this.#round(name, signal));
    }
  }

  async #poll(signal: AbortSignal): Promise<void> {
    const sleep = this.#deps.sleep ?? defaultSleep;
    while (!signal.aborted) {
      await this.runRounds(signal);
      await sleep(this.#deps.pollIntervalMs ?? DEFAULT_METADATA_POLL_INTERVAL_MS, signal).catch(() => undefined);
    }
  }

  async #round(name: string, signal: AbortSignal): Promise<void> {
    const entry = this.#entries.get(name);
    if (!entry || entry.record.status !== 'active' || signal.aborted) return;
    const { record, stats } = entry;
    const at = new Date(this.#now()).toISOString();
    try {
      const [leader, follower] = await Promise.all([this.#deps.clusters.client(record.remoteCluster, signal), this.#deps.clusters.client(record.followerCluster, signal)]);
      const outcome = await runMetadataRound(specOf(record), new Map(Object.entries(record.synced)), { leader, follower }, signal);
      stats.rounds++;
      stats.items_created += outcome.put.created;
      stats.items_changed += outcome.put.changed;
      stats.items_put_back += outcome.put.put_back;
      stats.items_deleted += outcome.deleted;
      stats.items_followed = outcome.synced.size;
      this.#logNewlyUnexpressible(name, stats.not_expressible, outcome.unexpressible);
      stats.not_expressible = outcome.unexpressible;
      stats.last_round_at = at;
      if (stats.last_error) this.#logger.info(`cluster-metadata pattern [${name}] rounds succeed again`);
      delete stats.last_error;
      const synced = Object.fromEntries(outcome.synced);
      if (JSON.stringify(synced) !== JSON.stringify(record.synced)) {
        entry.record = { ...record, synced };
        await this.#deps.state.putMetadataPattern(entry.record);
      }
      const { created, changed, put_back: putBack } = outcome.put;
      if (created + changed + putBack + outcome.deleted > 0) {
        this.#logger.info(`cluster-metadata pattern [${name}]: ${created} created, ${changed} changed, ${putBack} put back, ${outcome.deleted} deleted on ${record.followerCluster}`);
      }
    } catch (err) {
      if (signal.aborted) return;
      stats.rounds++;
      stats.failed_rounds++;
      const summary = errorSummary(err);
      // Logged when it changes, not every round while it lasts.
      if (stats.last_error?.reason !== summary.reason) this.#logger.warn(`cluster-metadata pattern [${name}] round failed; trying again each round: ${summary.type}: ${summary.reason}`);
      stats.last_error = { ...summary, at };
    }
  }

  #logNewlyUnexpressible(name: string, before: readonly Unexpressible[], now: readonly Unexpressible[]): void {
    const known = new Set(before.map((u) => `${u.kind}/${u.name}/${u.reason}`));
    for (const u of now) {
      if (!known.has(`${u.kind}/${u.name}/${u.reason}`)) this.#logger.warn(`cluster-metadata pattern [${name}] cannot follow ${u.kind.replace('_', ' ')} [${u.name}]: ${u.reason}`);
    }
  }

  async #setStatus(name: string, status: 'active' | 'paused'): Promise<void> {
    this.#get(name);
    await this.#queue.run(name, async () => {
      const entry = this.#get(name);
      if (entry.record.status === status) return;
      const record = { ...entry.record, status };
      await this.#deps.state.putMetadataPattern(record);
      entry.record = record;
      this.#logger.info(`cluster-metadata pattern [${name}] ${status === 'active' ? 'resumed' : 'paused'}`);
    });
  }

  #get(name: string): Entry {
    const entry = this.#entries.get(name);
    const elsewhere = entry ? undefined : this.#deps.ownership?.runBy(name);
    if (elsewhere !== undefined) throw new MetadataPatternElsewhereError(name, elsewhere);
    if (!entry) throw new MetadataPatternNotFoundError(name);
    return entry;
  }

  #claim(name: string): Promise<boolean> {
    return claimCreated(this.#deps.ownership, name, `cluster-metadata pattern [${name}]`, this.#logger);
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }
}

function emptyStats(): Mutable<MetadataPatternStats> {
  return { rounds: 0, failed_rounds: 0, items_followed: 0, items_created: 0, items_changed: 0, items_put_back: 0, items_deleted: 0, not_expressible: [], held_back: [] };
}

/** What the pattern's puts held back, per item. */
function heldBackOf(record: MetadataPatternRecord): HeldBackView[] {
  return Object.entries(record.synced).filter(([, s]) => s.heldBack !== undefined).map(([key, s]) => {
    const slash = key.indexOf('/');
    return { kind: key.slice(0, slash) as MetadataKind, name: key.slice(slash + 1), fields: Object.keys(s.heldBack!) };
  }).sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
}

function specOf(record: MetadataPatternRecord): MetadataPatternSpec {
  const kinds = (lists: Readonly<Record<string, readonly string[]>>): Partial<Record<MetadataKind, readonly string[]>> =>
    Object.fromEntries(Object.entries(lists).filter(([kind]) => (METADATA_KINDS as readonly string[]).includes(kind)));
  return { remoteCluster: record.remoteCluster, followerCluster: record.followerCluster, include: kinds(record.include), exclude: kinds(record.exclude) };
}

function view(entry: Entry): MetadataPatternView {
  const { record } = entry;
  const lists: Record<string, string[]> = {};
  for (const kind of METADATA_KINDS) {
    const patterns = [...(record.include[kind] ?? []), ...(record.exclude[kind] ?? []).map((p) => `-${p}`)];
    if (patterns.length > 0) lists[KIND_FIELDS[kind]] = patterns;
  }
  return {
    name: record.name,
    pattern: { active: record.status === 'active', remote_cluster: record.remoteCluster, follower_cluster: record.followerCluster, ...lists },
    stats: { ...entry.stats, held_back: heldBackOf(record) },
  };
}
