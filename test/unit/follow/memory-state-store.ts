/**
 * A StateStore in memory, for unit tests of what the follow part does with its state: whose writes
 * can be refused on demand (`unwritable`, or only the follower records: `recordsUnwritable`), as a
 * full or read-only state refuses them, and whose next record write can lose its conditional check
 * (`conflictNext`), as the cluster backend's does when the stored record changed since it was read.
 */
import {
  type AutoFollowPatternRecord, followerKey, type FollowerKey, type FollowerRecord, type HandledLeaderIndex, type MetadataPatternRecord, type PromotionRecord, type ShardCheckpoints,
  StateConflictError, StateCorruptError, type StateStore, StateWriteError,
} from '../../../src/state/state-store.js';

export class MemoryStateStore implements StateStore {
  readonly followers = new Map<FollowerKey, FollowerRecord>();
  readonly checkpoints = new Map<FollowerKey, ShardCheckpoints>();
  readonly promotions = new Map<FollowerKey, PromotionRecord>();
  readonly metadataPatterns = new Map<string, MetadataPatternRecord>();
  /** Keys whose checkpoints read back as damaged. */
  readonly corruptCheckpoints = new Set<FollowerKey>();
  /** While true, every write is refused with a StateWriteError. */
  unwritable = false;
  /** While true, follower record writes (not checkpoints) are refused with a StateWriteError. */
  recordsUnwritable = false;
  /**
   * Set: the next putFollower stores this record instead (another write landed first, e.g. one
   * that timed out), and is refused with a StateConflictError; a getFollower then reads it.
   */
  conflictNext: FollowerRecord | undefined;
  /** Every write, as `method key`. */
  readonly writes: string[] = [];

  async listFollowers(): Promise<FollowerRecord[]> {
    return [...this.followers.values()];
  }

  async getFollower(key: FollowerKey): Promise<FollowerRecord | undefined> {
    return this.followers.get(key);
  }

  async putFollower(record: FollowerRecord): Promise<void> {
    const key = followerKey(record.followerCluster, record.followerIndex);
    this.#write('putFollower', key);
    if (this.recordsUnwritable) throw new StateWriteError('/state', 'EACCES', `putFollower ${key}`, { cause: new Error('permission denied') });
    const landedFirst = this.conflictNext;
    if (landedFirst) {
      this.conflictNext = undefined;
      this.followers.set(key, landedFirst);
      throw new StateConflictError('memory', `follower:${key}`);
    }
    this.followers.set(key, record);
  }

  async deleteFollower(key: FollowerKey): Promise<void> {
    this.#write('deleteFollower', key);
    this.followers.delete(key);
    this.checkpoints.delete(key);
  }

  async loadCheckpoints(key: FollowerKey): Promise<ShardCheckpoints> {
    if (this.corruptCheckpoints.has(key)) throw new StateCorruptError(`checkpoints/${key}.json`, 'unexpected end of JSON input');
    return this.checkpoints.get(key) ?? {};
  }

  async saveCheckpoints(key: FollowerKey, checkpoints: ShardCheckpoints): Promise<void> {
    this.#write('saveCheckpoints', key);
    if (!this.followers.has(key)) throw new Error(`no follower [${key}]`);
    this.checkpoints.set(key, { ...checkpoints });
  }

  async discardCheckpoints(key: FollowerKey): Promise<string | undefined> {
    this.corruptCheckpoints.delete(key);
    const had = this.checkpoints.delete(key);
    return had ? `checkpoints/${key}.json.corrupt` : undefined;
  }

  async listAutoFollowPatterns(): Promise<AutoFollowPatternRecord[]> {
    return [];
  }

  async getAutoFollowPattern(): Promise<AutoFollowPatternRecord | undefined> {
    return undefined;
  }

  async putAutoFollowPattern(): Promise<void> {
    throw new Error('not used by these tests');
  }

  async deleteAutoFollowPattern(): Promise<void> {
    throw new Error('not used by these tests');
  }

  async loadHandledIndices(): Promise<HandledLeaderIndex[]> {
    return [];
  }

  async saveHandledIndices(): Promise<void> {
    throw new Error('not used by these tests');
  }

  async putPromotion(record: PromotionRecord): Promise<void> {
    this.promotions.set(`${record.followerCluster}/${record.followerIndex}`, record);
  }

  async getPromotion(key: FollowerKey): Promise<PromotionRecord | undefined> {
    return this.promotions.get(key);
  }

  async listPromotions(): Promise<PromotionRecord[]> {
    return [...this.promotions.values()];
  }

  async listMetadataPatterns(): Promise<MetadataPatternRecord[]> {
    return [...this.metadataPatterns.values()];
  }

  async putMetadataPattern(record: MetadataPatternRecord): Promise<void> {
    this.#write('putMetadataPattern', record.name);
    this.metadataPatterns.set(record.name, structuredClone(record));
  }

  async deleteMetadataPattern(name: string): Promise<void> {
    this.metadataPatterns.delete(name);
  }

  async close(): Promise<void> {
    // Nothing to release.
  }

  #write(method: string, key: FollowerKey): void {
    this.writes.push(`${method} ${key}`);
    if (this.unwritable) {
      throw new StateWriteError('/state', 'EROFS', `${method} ${key}`, { cause: new Error('read-only file system') });
    }
  }
}
