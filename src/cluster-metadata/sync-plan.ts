/**
 * What one round of keeping the follower's templates, pipelines and policies in step must do,
 * decided from what both clusters hold and what the last rounds put. Pure.
 *
 * For each item it put, a round remembers two fingerprints: the leader's item it came from, and the
 * follower's item as read back after the put. The leader's changing means "changed: put it again";
 * the follower's changing (or vanishing) while the leader's did not means someone else wrote it:
 * "put back", counted as foreign writes are. Comparing fingerprints of each side with its own
 * earlier self, never the two sides with each other, keeps a difference in how the two clusters
 * print one definition (defaults filled in, numbers as strings) from looking like a change.
 *
 * Only items the pattern selects are touched. An item deleted on the leader is deleted on the
 * follower only if a round put it there; one the pattern no longer selects is forgotten and left
 * as it is (as a narrowed auto-follow pattern leaves its followers).
 */
import { createHash } from 'node:crypto';
import { METADATA_KINDS, type MetadataItem, type MetadataKind } from '../cluster/metadata-items.js';
import { canonicalJson } from '../util/canonical-json.js';
import type { HeldBack, Translation } from './translate.js';

/** What the rounds remember of an item they put. */
export interface SyncedItem {
  readonly leaderFingerprint: string;
  readonly followerFingerprint: string;
  /** What the put left out while following (translate.ts), to put back on promote; absent when nothing. */
  readonly heldBack?: HeldBack;
}

/** `<kind>/<name>` → what was put. */
export type SyncedItems = ReadonlyMap<string, SyncedItem>;

export type PutReason = 'created' | 'changed' | 'put_back';

export type SyncAction =
  | { readonly action: 'put'; readonly reason: PutReason; readonly item: MetadataItem; readonly leaderFingerprint: string; readonly heldBack: HeldBack }
  | { readonly action: 'delete'; readonly kind: MetadataKind; readonly name: string };

export interface Unexpressible {
  readonly kind: MetadataKind;
  readonly name: string;
  readonly reason: string;
}

export interface SyncPlan {
  /** In the order to apply them: puts before deletes, each kind after those it may name. */
  readonly actions: readonly SyncAction[];
  readonly unexpressible: readonly Unexpressible[];
  /** Items equal on both sides that no round put: remembered from now on, as if put. */
  readonly adopted: ReadonlyMap<string, SyncedItem>;
  /** Keys to forget: deleted, or no longer selected. */
  readonly forget: readonly string[];
  readonly unchanged: number;
}

export interface PlanInput {
  /** Every item of the followed kinds on each side (unselected ones included: the plan selects). */
  readonly leader: readonly MetadataItem[];
  readonly follower: readonly MetadataItem[];
  readonly synced: SyncedItems;
  readonly selected: (kind: MetadataKind, name: string) => boolean;
  readonly translate: (item: MetadataItem) => Translation;
}

export const itemKey = (kind: MetadataKind, name: string): string => `${kind}/${name}`;

export function fingerprint(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('base64url').slice(0, 22);
}

/**
 * Puts in this order: a policy or pipeline before the templates that name them, a component
 * template before the index templates composed of it; deletes the other way round (a component
 * template still in use cannot be deleted).
 */
const PUT_ORDER: readonly MetadataKind[] = ['lifecycle_policy', 'ingest_pipeline', 'component_template', 'index_template'];

export function planSync(input: PlanInput): SyncPlan {
  const followerByKey = new Map(input.follower.map((f) => [itemKey(f.kind, f.name), f]));
  const leaderKeys = new Set<string>();
  const puts: Extract<SyncAction, { action: 'put' }>[] = [];
  const deletes: Extract<SyncAction, { action: 'delete' }>[] = [];
  const unexpressible: Unexpressible[] = [];
  const adopted = new Map<string, SyncedItem>();
  const forget: string[] = [];
  let unchanged = 0;

  for (const leaderItem of input.leader) {
    if (!input.selected(leaderItem.kind, leaderItem.name)) continue;
    const key = itemKey(leaderItem.kind, leaderItem.name);
    leaderKeys.add(key);
    const translation = input.translate(leaderItem);
    if ('unexpressible' in translation) {
      unexpressible.push({ kind: leaderItem.kind, name: leaderItem.name, reason: translation.unexpressible });
      continue;
    }
    const followerItem = followerByKey.get(key);
    const record = input.synced.get(key);
    const leaderFingerprint = fingerprint(leaderItem.body);
    let reason: PutReason | undefined;
    if (!record) {
      if (followerItem && fingerprint(followerItem.body) === fingerprint(translation.body)) {
        adopted.set(key, { leaderFingerprint, followerFingerprint: fingerprint(followerItem.body) });
      } else {
        reason = followerItem ? 'changed' : 'created';
      }
    } else if (record.leaderFingerprint !== leaderFingerprint) {
      reason = 'changed';
    } else if (!followerItem || fingerprint(followerItem.body) !== record.followerFingerprint) {
      reason = 'put_back';
    }
    if (reason === undefined) {
      unchanged++;
      continue;
    }
    const condition = followerItem?.writeCondition;
    puts.push({
      action: 'put', reason, leaderFingerprint, heldBack: translation.heldBack,
      item: { kind: leaderItem.kind, name: leaderItem.name, body: translation.body, ...(condition ? { writeCondition: condition } : {}) },
    });
  }

  for (const [key] of input.synced) {
    if (leaderKeys.has(key)) continue;
    forget.push(key);
    const [kind, name] = splitKey(key);
    // Deleted on the leader (and selected still): delete the follower's copy, which a round put.
    if (input.selected(kind, name) && followerByKey.has(key)) deletes.push({ action: 'delete', kind, name });
  }

  const rank = (kind: MetadataKind): number => PUT_ORDER.indexOf(kind);
  puts.sort((a, b) => rank(a.item.kind) - rank(b.item.kind));
  deletes.sort((a, b) => rank(b.kind) - rank(a.kind));
  return { actions: [...puts, ...deletes], unexpressible, adopted, forget, unchanged };
}

function splitKey(key: string): [MetadataKind, string] {
  const slash = key.indexOf('/');
  const kind = key.slice(0, slash) as MetadataKind;
  if (!METADATA_KINDS.includes(kind)) throw new RangeError(`not a metadata item key: ${key}`);
  return [kind, key.slice(slash + 1)];
}
