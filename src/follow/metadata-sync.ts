/**
 * Keeps the follower index's metadata in step with the leader's (docs/architecture.md, shard step 8):
 *
 * - Mapping first: before operations read after the leader reached mapping version V are written,
 *   the follower gets the leader's mapping as of V or later.
 * - Settings: replicated settings (index-settings.ts says which) follow the leader's; static ones
 *   (analysis...) by closing the follower, updating and reopening it, with writes held meanwhile.
 * - Aliases: the leader's aliases, filters and routing included, `is_write_index` always false.
 *
 * Changes are noticed through the leader's metadata versions, both on every read (`ensure`) and by
 * a slow poll (`watch`) so a settings change with no new documents still arrives. The poll reads
 * the versions (and uuids) through each cluster's shared metadata probe when given one
 * (cluster-probes.ts): one request per cluster and tick for all followers. The full metadata is
 * read only when the leader's versions moved past what the follower has.
 * Concurrent callers share one sync; the sync itself is never aborted by one caller's pause.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import type { MetadataVersions } from '../cluster/types.js';
import type { IndexVersions } from '../cluster/types.js';
import type { Logger } from '../util/logger.js';
import { abortError, sleep } from '../util/sleep.js';
import type { IndexProbe } from './index-batch-probe.js';
import type { IndexIdentity } from './index-identity.js';
import { aliasActions, isStaticSetting, settingsUpdate } from './index-settings.js';
import type { WriteGate } from './write-gate.js';

export interface MetadataSyncOptions {
  readonly leader: ClusterClient;
  readonly leaderIndex: string;
  readonly follower: ClusterClient;
  readonly followerIndex: string;
  readonly gate: WriteGate;
  readonly logger: Logger;
  /** The indices the follow started with (their uuids): metadata of any other is never applied. */
  readonly leaderIdentity: IndexIdentity;
  readonly followerIdentity: IndexIdentity;
  /** The two clusters' shared metadata probes for `watch`; absent: each index's own reads. */
  readonly probes?: { readonly leader: IndexProbe<IndexVersions>; readonly follower: IndexProbe<IndexVersions> };
  /**
   * The leader's mapping and settings versions the follower index was created from: already in
   * it, so the first sync does not put them again. Aliases are not copied at creation: still synced.
   */
  readonly createdFrom?: Pick<MetadataVersions, 'mappingVersion' | 'settingsVersion'>;
}

const NONE: MetadataVersions = { mappingVersion: 0, settingsVersion: 0, aliasesVersion: 0 };

export class MetadataSync {
  readonly #o: MetadataSyncOptions;
  /** Leader versions the follower is known to include (0: unknown, so the first check syncs). */
  #synced: MetadataVersions = NONE;
  /** The follower index's own versions, for stats. */
  #followerVersions: MetadataVersions = NONE;
  #inflight: Promise<void> | undefined;
  /** The leader's alias names at the last sync: only those are ever removed from the follower. */
  #leaderAliases: readonly string[] = [];

  constructor(options: MetadataSyncOptions) {
    this.#o = options;
    if (options.createdFrom) this.#synced = { ...options.createdFrom, aliasesVersion: NONE.aliasesVersion };
  }

  get followerVersions(): MetadataVersions {
    return this.#followerVersions;
  }

  /** Brings the follower up to (at least) the given leader versions. */
  async ensure(leader: MetadataVersions, signal: AbortSignal): Promise<void> {
    while (behind(this.#synced, leader)) {
      if (signal.aborted) throw abortError();
      this.#inflight ??= this.#sync().finally(() => { this.#inflight = undefined; });
      await this.#inflight;
    }
  }

  /**
   * Polls the leader's metadata versions every `intervalMs` (with the shared probes: at their ticks,
   * waking only for news) until aborted; errors go to `onError`, and the next poll is `intervalMs`
   * after one. Each poll also checks that both indices are still the ones the follow started with: a bulk
   * request would silently auto-create a deleted follower index, and a leader index re-created
   * under the same name has a history that must not be mixed with the old one.
   */
  async watch(intervalMs: number, signal: AbortSignal, onError: (err: unknown) => void): Promise<void> {
    const { leaderIdentity, followerIdentity, probes } = this.#o;
    while (!signal.aborted) {
      try {
        if (probes === undefined) {
          // The uuid and version reads are shared with the shard readers' confirmations (index-identity.ts).
          const [versions] = await Promise.all([leaderIdentity.confirm(signal), followerIdentity.confirm(signal)]);
          await this.ensure(versions, signal);
        } else {
          // The probes' ticks are this loop's pace: it wakes only for news, no sleep of its own.
          await this.#nextNews(probes, signal);
          continue;
        }
      } catch (err) {
        if (signal.aborted) return;
        onError(err);
      }
      await sleep(intervalMs, signal).catch(() => undefined);
    }
  }

  /**
   * Waits, registered with both probes' ticks, for the first answer that is news — leader versions
   * the follower lacks, or either index's uuid not the one the follow started with — and acts on it.
   */
  async #nextNews(probes: NonNullable<MetadataSyncOptions['probes']>, signal: AbortSignal): Promise<void> {
    const { leaderIdentity, followerIdentity, leaderIndex, followerIndex } = this.#o;
    const round = new AbortController();
    const stop = (): void => round.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const news = await Promise.race([
        probes.leader.read(leaderIndex, 'tick', round.signal, (l) => l.uuid !== leaderIdentity.uuid || behind(this.#synced, l))
          .then((leader) => ({ leader })),
        probes.follower.read(followerIndex, 'tick', round.signal, (f) => f.uuid !== followerIdentity.uuid)
          .then((follower) => ({ follower })),
      ]);
      if ('follower' in news) {
        followerIdentity.check(news.follower.uuid);
        return;
      }
      leaderIdentity.check(news.leader.uuid);
      await this.ensure(news.leader, signal);
    } finally {
      // The other side's read ends with an abort that nobody awaits (the race has handled it).
      round.abort();
      signal.removeEventListener('abort', stop);
    }
  }

  async #sync(): Promise<void> {
    const { leader, follower, leaderIndex, followerIndex, logger } = this.#o;
    const [l, f] = await Promise.all([leader.indexMetadata(leaderIndex), follower.indexMetadata(followerIndex)]);
    // The same answers carry the uuids: never copy a re-created leader's metadata, nor write a new follower's.
    this.#o.leaderIdentity.check(l.uuid);
    this.#o.followerIdentity.check(f.uuid);
    // Settings before mappings: a new mapping may name an analyzer the new settings define.
    if (l.settingsVersion > this.#synced.settingsVersion) {
      const update = settingsUpdate(l.settings, f.settings);
      if (Object.keys(update).length > 0) await this.#applySettings(update);
    }
    if (l.mappingVersion > this.#synced.mappingVersion) {
      await follower.putMapping(followerIndex, l.mappings as Record<string, unknown>);
      if (this.#synced !== NONE) logger.info('follower mapping updated from the leader', { leader_mapping_version: l.mappingVersion });
    }
    if (l.aliasesVersion > this.#synced.aliasesVersion) {
      const actions = aliasActions(followerIndex, l.aliases, f.aliases, this.#leaderAliases);
      if (actions.length > 0) {
        await follower.updateAliases(actions);
        logger.info('follower aliases updated from the leader', { actions: actions.length });
      }
    }
    this.#leaderAliases = Object.keys(l.aliases);
    this.#synced = { mappingVersion: l.mappingVersion, settingsVersion: l.settingsVersion, aliasesVersion: l.aliasesVersion };
    this.#followerVersions = await follower.metadataVersions(followerIndex);
  }

  async #applySettings(update: Record<string, unknown>): Promise<void> {
    const { follower, followerIndex, gate, logger } = this.#o;
    const names = Object.keys(update);
    if (!names.some(isStaticSetting)) {
      await follower.putSettings(followerIndex, update);
      logger.info('follower settings updated from the leader', { settings: names });
      return;
    }
    // Static settings only change on a closed index: hold writes, close, update, reopen.
    await gate.exclusive(async () => {
      logger.info('closing the follower index to apply static settings from the leader', { settings: names });
      await follower.closeIndex(followerIndex);
      try {
        await follower.putSettings(followerIndex, update);
      } finally {
        await follower.openIndex(followerIndex);
      }
    });
  }
}

function behind(synced: MetadataVersions, leader: MetadataVersions): boolean {
  return synced.mappingVersion < leader.mappingVersion || synced.settingsVersion < leader.settingsVersion || synced.aliasesVersion < leader.aliasesVersion;
}
