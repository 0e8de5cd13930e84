/**
 * A cluster-metadata pattern: which of a leader cluster's templates, pipelines and lifecycle
 * policies the follower cluster keeps in step, by name, in the style of an auto-follow pattern.
 * `PUT /_ccr/cluster_metadata/<name>` takes
 * `{remote_cluster, follower_cluster?, index_templates?, component_templates?, ingest_pipelines?, lifecycle_policies?}`,
 * each list holding name patterns (`*` matches any run of characters) and exclusions (`-logs-debug*`).
 * Pure: parsing and matching.
 */
import { METADATA_KINDS, type MetadataKind } from '../cluster/metadata-items.js';
import { wildcardMatch } from '../util/wildcard.js';

/** The body field of each kind. */
export const KIND_FIELDS: Readonly<Record<MetadataKind, string>> = {
  component_template: 'component_templates',
  index_template: 'index_templates',
  ingest_pipeline: 'ingest_pipelines',
  lifecycle_policy: 'lifecycle_policies',
};

export interface MetadataPatternSpec {
  readonly remoteCluster: string;
  readonly followerCluster: string;
  /** Per kind, the name patterns selecting items; a kind without any is not followed. */
  readonly include: Readonly<Partial<Record<MetadataKind, readonly string[]>>>;
  readonly exclude: Readonly<Partial<Record<MetadataKind, readonly string[]>>>;
}

export class MetadataPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetadataPatternError';
  }
}

const NAME_PATTERN = /^[^\s,"*\\/<>|?#]+$/;

export function parseMetadataPatternSpec(body: Readonly<Record<string, unknown>>, defaultFollowerCluster: string): MetadataPatternSpec {
  const known = ['remote_cluster', 'follower_cluster', ...Object.values(KIND_FIELDS)];
  const unknown = Object.keys(body).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new MetadataPatternError(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `[${k}]`).join(', ')}; known: ${known.join(', ')}`);
  const remoteCluster = body['remote_cluster'];
  if (typeof remoteCluster !== 'string' || remoteCluster === '') throw new MetadataPatternError('[remote_cluster] is required: the alias of the leader cluster');
  const followerCluster = body['follower_cluster'] ?? defaultFollowerCluster;
  if (typeof followerCluster !== 'string' || followerCluster === '') throw new MetadataPatternError('[follower_cluster] must be a cluster alias');
  if (followerCluster === remoteCluster) throw new MetadataPatternError(`follower cluster and remote cluster are both [${remoteCluster}]: an item cannot follow itself`);
  const include: Partial<Record<MetadataKind, string[]>> = {};
  const exclude: Partial<Record<MetadataKind, string[]>> = {};
  for (const kind of METADATA_KINDS) {
    const field = KIND_FIELDS[kind];
    const value = body[field];
    if (value === undefined) continue;
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) throw new MetadataPatternError(`[${field}] must be a list of name patterns`);
    for (const raw of list as string[]) {
      const excluded = raw.startsWith('-');
      const pattern = excluded ? raw.slice(1) : raw;
      if (!NAME_PATTERN.test(pattern.replaceAll('*', 'x'))) {
        throw new MetadataPatternError(`[${field}] pattern [${raw}] must be a name, with * for any run of characters and a leading - to exclude`);
      }
      ((excluded ? exclude : include)[kind] ??= []).push(pattern);
    }
  }
  if (Object.keys(include).length === 0) {
    throw new MetadataPatternError(`a cluster-metadata pattern needs at least one of ${Object.values(KIND_FIELDS).map((f) => `[${f}]`).join(', ')}`);
  }
  return { remoteCluster, followerCluster, include, exclude };
}

/** The kinds the pattern follows. */
export function followedKinds(spec: MetadataPatternSpec): MetadataKind[] {
  return METADATA_KINDS.filter((kind) => (spec.include[kind]?.length ?? 0) > 0);
}

/** Matches one of the kind's patterns and none of its exclusions. */
export function selects(spec: MetadataPatternSpec, kind: MetadataKind, name: string): boolean {
  return (spec.include[kind] ?? []).some((p) => wildcardMatch(p, name)) && !(spec.exclude[kind] ?? []).some((p) => wildcardMatch(p, name));
}
