/**
 * One round of keeping a follower cluster's templates, pipelines and policies in step with a
 * leader's, for one cluster-metadata pattern: read the followed kinds on both sides, plan
 * (sync-plan.ts), apply, and read back each item put so the next round knows it as it stands.
 *
 * A put the follower refuses with a 400 (a setting, a field type or a processor it does not know)
 * makes the item unexpressible there, with the follower's own reason; the other items go on. Any
 * other failure (unreachable, 429, 403) ends the round with the error, and the next round tries
 * again from what is remembered, which never counts a put that did not happen.
 */
import { ClusterResponseError } from '../cluster/errors.js';
import type { MetadataItem, MetadataKind } from '../cluster/metadata-items.js';
import type { Flavor } from '../cluster/rest-transport.js';
import { followedKinds, selects, type MetadataPatternSpec } from './metadata-pattern.js';
import { fingerprint, itemKey, planSync, type PutReason, type SyncedItem, type SyncedItems, type Unexpressible } from './sync-plan.js';
import { translate } from './translate.js';

/** What a round needs of each cluster: `ClusterClient` has it. */
export interface MetadataSide {
  readonly info: { readonly flavor: Flavor };
  listMetadataItems(kind: MetadataKind, signal?: AbortSignal): Promise<MetadataItem[]>;
  putMetadataItem(item: MetadataItem, signal?: AbortSignal): Promise<void>;
  deleteMetadataItem(kind: MetadataKind, name: string, signal?: AbortSignal): Promise<void>;
}

export interface RoundOutcome {
  readonly synced: SyncedItems;
  readonly put: Readonly<Record<PutReason, number>>;
  readonly deleted: number;
  readonly unchanged: number;
  readonly unexpressible: readonly Unexpressible[];
}

export async function runMetadataRound(
  spec: MetadataPatternSpec, synced: SyncedItems, sides: { readonly leader: MetadataSide; readonly follower: MetadataSide }, signal?: AbortSignal,
): Promise<RoundOutcome> {
  const kinds = followedKinds(spec);
  const [leaderItems, followerItems] = await Promise.all([
    readAll(sides.leader, kinds, signal),
    readAll(sides.follower, kinds, signal),
  ]);
  const leaderFlavor = sides.leader.info.flavor;
  const followerFlavor = sides.follower.info.flavor;
  const plan = planSync({
    leader: leaderItems, follower: followerItems, synced,
    selected: (kind, name) => selects(spec, kind, name),
    translate: (item) => translate(item, leaderFlavor, followerFlavor),
  });

  const next = new Map<string, SyncedItem>(synced);
  for (const [key, item] of plan.adopted) next.set(key, item);
  for (const key of plan.forget) next.delete(key);
  const put: Record<PutReason, number> = { created: 0, changed: 0, put_back: 0 };
  const unexpressible = [...plan.unexpressible];
  const written = new Map<MetadataKind, Set<string>>();
  let deleted = 0;

  for (const action of plan.actions) {
    if (action.action === 'delete') {
      await sides.follower.deleteMetadataItem(action.kind, action.name, signal);
      deleted++;
      continue;
    }
    const { item } = action;
    try {
      await sides.follower.putMetadataItem(item, signal);
    } catch (err) {
      if (!(err instanceof ClusterResponseError) || err.statusCode !== 400) throw err;
      unexpressible.push({ kind: item.kind, name: item.name, reason: `the follower cluster refused it: ${err.type}: ${err.reason}` });
      next.delete(itemKey(item.kind, item.name));
      continue;
    }
    put[action.reason]++;
    (written.get(item.kind) ?? written.set(item.kind, new Set()).get(item.kind)!).add(item.name);
    // Until read back, the follower's side is what was put; a changed print of it is adopted below.
    next.set(itemKey(item.kind, item.name), {
      leaderFingerprint: action.leaderFingerprint, followerFingerprint: fingerprint(item.body),
      ...(Object.keys(action.heldBack).length > 0 ? { heldBack: action.heldBack } : {}),
    });
  }

  // Read back what was put, as the follower prints it, so the next round compares like with like.
  for (const [kind, names] of written) {
    for (const item of await sides.follower.listMetadataItems(kind, signal)) {
      const key = itemKey(kind, item.name);
      const record = next.get(key);
      if (names.has(item.name) && record) next.set(key, { ...record, followerFingerprint: fingerprint(item.body) });
    }
  }
  return { synced: next, put, deleted, unchanged: plan.unchanged, unexpressible };
}

async function readAll(side: MetadataSide, kinds: readonly MetadataKind[], signal?: AbortSignal): Promise<MetadataItem[]> {
  const lists = await Promise.all(kinds.map((kind) => side.listMetadataItems(kind, signal)));
  return lists.flat();
}
