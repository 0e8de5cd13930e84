/**
 * Copies everything one `StateStore` holds into another (`ccr-follow state migrate`), with both
 * daemons' worth of work stopped: follower records with their checkpoints, auto-follow patterns
 * with the leader indices they handled, promotion records and cluster-metadata patterns. The copy is read back and compared before it counts, and
 * the source is left as it was, so a failed or interrupted migration loses nothing.
 */
import { recordKey, type StateStore } from './state-store.js';

export interface MigrationSummary {
  readonly followers: number;
  readonly checkpoints: number;
  readonly patterns: number;
  readonly handledIndices: number;
  readonly promotions: number;
  readonly metadataPatterns: number;
}

export class MigrationRefusedError extends Error {
  override readonly name = 'MigrationRefusedError';
}

export async function migrateState(from: StateStore, to: StateStore): Promise<MigrationSummary> {
  const [existingFollowers, existingPatterns] = await Promise.all([to.listFollowers(), to.listAutoFollowPatterns()]);
  if (existingFollowers.length > 0 || existingPatterns.length > 0) {
    // Merging two histories would have to choose between their records: refuse, change nothing.
    throw new MigrationRefusedError(`the destination already holds ${existingFollowers.length} follower(s) and ${existingPatterns.length} auto-follow pattern(s); `
      + 'migrate only into an empty state');
  }
  let checkpoints = 0;
  let handledIndices = 0;
  const patterns = await from.listAutoFollowPatterns();
  for (const pattern of patterns) {
    const handled = await from.loadHandledIndices(pattern.name);
    await to.putAutoFollowPattern(pattern);
    await to.saveHandledIndices(pattern.name, handled);
    handledIndices += handled.length;
  }
  const followers = await from.listFollowers();
  for (const follower of followers) {
    const key = recordKey(follower);
    const shards = await from.loadCheckpoints(key);
    await to.putFollower(follower);
    await to.saveCheckpoints(key, shards);
    checkpoints += Object.keys(shards).length;
    const copied = await to.loadCheckpoints(key);
    for (const [shard, checkpoint] of Object.entries(shards)) {
      if (copied[Number(shard)] !== checkpoint) {
        throw new Error(`checkpoint of ${key} shard ${shard} reads back as ${copied[Number(shard)]}, not ${checkpoint}: the source is unchanged, the destination incomplete`);
      }
    }
  }
  const promotions = await from.listPromotions();
  for (const promotion of promotions) await to.putPromotion(promotion);
  const metadataPatterns = await from.listMetadataPatterns();
  for (const pattern of metadataPatterns) await to.putMetadataPattern(pattern);
  const [copiedFollowers, copiedPatterns] = await Promise.all([to.listFollowers(), to.listAutoFollowPatterns()]);
  if (copiedFollowers.length !== followers.length || copiedPatterns.length !== patterns.length) {
    throw new Error(`the destination reads back ${copiedFollowers.length} follower(s) and ${copiedPatterns.length} pattern(s), not ${followers.length} and ${patterns.length}`);
  }
  return { followers: followers.length, checkpoints, patterns: patterns.length, handledIndices, promotions: promotions.length, metadataPatterns: metadataPatterns.length };
}
