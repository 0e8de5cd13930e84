/**
 * `ccr-follow verify --metadata`: the selected templates, pipelines and policies of a leader and a
 * follower cluster compared item by item, as a pattern would keep them (translate.ts: the leader's
 * item as the follower should hold it while following). Reads only.
 *
 * Two clusters print one definition differently (`1` and `"1"`, an empty `composed_of` or none),
 * so scalars are compared by their text and empty lists and objects count as absent.
 */
import { METADATA_KINDS, type MetadataKind } from '../cluster/metadata-items.js';
import { followedKinds, selects, type MetadataPatternSpec } from './metadata-pattern.js';
import type { MetadataSide } from './metadata-round.js';
import { translate } from './translate.js';

export type ItemVerdict = 'identical' | 'different' | 'missing_on_follower' | 'only_on_follower' | 'not_expressible';

export interface ItemComparison {
  readonly kind: MetadataKind;
  readonly name: string;
  readonly verdict: ItemVerdict;
  /** For `different`: the first path where they differ; for `not_expressible`: why. */
  readonly detail?: string;
}

export interface MetadataComparison {
  readonly items: readonly ItemComparison[];
  /** True when no selected item is different, missing or only on the follower. */
  readonly identical: boolean;
}

export async function compareMetadata(spec: MetadataPatternSpec, leader: MetadataSide, follower: MetadataSide, signal?: AbortSignal): Promise<MetadataComparison> {
  const items: ItemComparison[] = [];
  for (const kind of followedKinds(spec)) {
    const [onLeader, onFollower] = await Promise.all([leader.listMetadataItems(kind, signal), follower.listMetadataItems(kind, signal)]);
    const followerByName = new Map(onFollower.filter((i) => selects(spec, kind, i.name)).map((i) => [i.name, i]));
    for (const item of onLeader.filter((i) => selects(spec, kind, i.name))) {
      const translation = translate(item, leader.info.flavor, follower.info.flavor);
      const theirs = followerByName.get(item.name);
      followerByName.delete(item.name);
      if ('unexpressible' in translation) {
        items.push({ kind, name: item.name, verdict: 'not_expressible', detail: translation.unexpressible });
      } else if (!theirs) {
        items.push({ kind, name: item.name, verdict: 'missing_on_follower' });
      } else {
        const where = firstDifference(translation.body, theirs.body, '');
        items.push(where === undefined ? { kind, name: item.name, verdict: 'identical' } : { kind, name: item.name, verdict: 'different', detail: where });
      }
    }
    for (const name of followerByName.keys()) items.push({ kind, name, verdict: 'only_on_follower' });
  }
  items.sort((a, b) => METADATA_KINDS.indexOf(a.kind) - METADATA_KINDS.indexOf(b.kind) || a.name.localeCompare(b.name));
  return { items, identical: items.every((i) => i.verdict === 'identical' || i.verdict === 'not_expressible') };
}

const isEmpty = (v: unknown): boolean => v === undefined || v === null
  || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/** The first path (`template.settings.index.number_of_shards`) where `a` and `b` differ, or undefined. */
export function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (isEmpty(a) && isEmpty(b)) return undefined;
  const at = path === '' ? '(the whole item)' : path;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return at;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  const objectA = a !== null && typeof a === 'object';
  const objectB = b !== null && typeof b === 'object';
  if (objectA || objectB) {
    if (!objectA || !objectB) return at;
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    for (const key of keys) {
      const d = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return String(a) === String(b) ? undefined : at;
}
