/**
 * Keeps the follower's mapping at least as new as the leader's (DESIGN.md step 8): before a batch
 * of operations read after the leader reached mapping version V is written, the follower gets the
 * leader's mapping as of V or later. Concurrent callers share one sync.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import type { Logger } from '../util/logger.js';
import { abortError } from '../util/sleep.js';

export class MetadataSync {
  readonly #leader: ClusterClient;
  readonly #leaderIndex: string;
  readonly #follower: ClusterClient;
  readonly #followerIndex: string;
  readonly #logger: Logger;
  /** The leader mapping version the follower is known to include (0: unknown, sync on first use). */
  #syncedMappingVersion: number;
  #inflight: Promise<void> | undefined;

  constructor(opts: { leader: ClusterClient; leaderIndex: string; follower: ClusterClient; followerIndex: string; logger: Logger; syncedMappingVersion?: number }) {
    this.#leader = opts.leader;
    this.#leaderIndex = opts.leaderIndex;
    this.#follower = opts.follower;
    this.#followerIndex = opts.followerIndex;
    this.#logger = opts.logger;
    this.#syncedMappingVersion = opts.syncedMappingVersion ?? 0;
  }

  get syncedMappingVersion(): number {
    return this.#syncedMappingVersion;
  }

  async ensureMapping(leaderMappingVersion: number, signal: AbortSignal): Promise<void> {
    while (this.#syncedMappingVersion < leaderMappingVersion) {
      if (signal.aborted) throw abortError();
      // The sync is shared, so it runs unaborted: one caller's pause must not fail the others.
      this.#inflight ??= this.#syncMapping().finally(() => { this.#inflight = undefined; });
      await this.#inflight;
    }
  }

  async #syncMapping(): Promise<void> {
    const leader = await this.#leader.indexMetadata(this.#leaderIndex);
    await this.#follower.putMapping(this.#followerIndex, leader.mappings as Record<string, unknown>);
    this.#logger.info('follower mapping updated from the leader', { leader_mapping_version: leader.mappingVersion });
    this.#syncedMappingVersion = Math.max(this.#syncedMappingVersion, leader.mappingVersion);
  }
}
