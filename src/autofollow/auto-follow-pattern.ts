/**
 * An auto-follow pattern as the control API receives it (CCR's `PUT /_ccr/auto_follow/<name>`
 * body), checked up front, and the pure rules that read it: wildcard matching and follower index
 * naming. Nothing here does I/O.
 */
import type { AutoFollowPatternRecord } from '../state/state-store.js';
import { FollowError } from '../follow/follow-errors.js';
import { followerOwnSettings } from '../follow/follower-settings.js';
import { invalidIndexNameReason } from '../follow/index-name.js';
import { FollowParamsError, parseFollowParams } from '../shard/follow-params.js';
import { wildcardMatch } from '../util/wildcard.js';

export const LEADER_INDEX_PLACEHOLDER = '{{leader_index}}';
/** CCR's default: the follower index has the leader index's name. */
export const DEFAULT_FOLLOW_INDEX_PATTERN = LEADER_INDEX_PLACEHOLDER;
/** ccr-follow's extension: CCR's follower is the local cluster, ours is a configured alias. */
export const DEFAULT_FOLLOWER_CLUSTER = 'follower';

/** A put request, validated: the stored pattern without its name, status and creation time. */
export type PatternSpec = Omit<AutoFollowPatternRecord, 'name' | 'status' | 'createdAt' | 'activeSince'>;

/** What matching needs of a pattern. */
export interface PatternMatcher {
  readonly leaderIndexPatterns: readonly string[];
  readonly leaderIndexExclusionPatterns: readonly string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Why `name` cannot name a pattern, or undefined. Kept simple: it appears in URLs, file names and shells. */
export function invalidPatternNameReason(name: string): string | undefined {
  if (NAME.test(name)) return undefined;
  return 'must be 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit';
}

/**
 * Reads the body of `PUT /_ccr/auto_follow/<name>`. Throws `FollowError`
 * (`illegal_argument_exception`) naming the field and what was expected.
 */
export function parsePatternSpec(name: string, body: Readonly<Record<string, unknown>>): PatternSpec {
  const nameReason = invalidPatternNameReason(name);
  if (nameReason) throw invalid(`invalid auto-follow pattern name [${name}]: ${nameReason}`);
  const {
    remote_cluster: remoteCluster,
    follower_cluster: followerCluster = DEFAULT_FOLLOWER_CLUSTER,
    leader_index_patterns: include,
    leader_index_exclusion_patterns: exclude = [],
    follow_index_pattern: template = DEFAULT_FOLLOW_INDEX_PATTERN,
    settings: settingsInput,
    ...params
  } = body;
  if (typeof remoteCluster !== 'string' || remoteCluster === '') throw invalid('[remote_cluster] is required: the alias of the leader cluster');
  if (typeof followerCluster !== 'string' || followerCluster === '') throw invalid('[follower_cluster] must be a cluster alias');
  const leaderIndexPatterns = patternList('leader_index_patterns', include);
  if (leaderIndexPatterns.length === 0) throw invalid('[leader_index_patterns] is required: a non-empty list of index patterns, e.g. ["logs-*"]');
  const leaderIndexExclusionPatterns = patternList('leader_index_exclusion_patterns', exclude);
  if (typeof template !== 'string') throw invalid('[follow_index_pattern] must be a string such as "{{leader_index}}-copy"');
  if (!template.includes(LEADER_INDEX_PLACEHOLDER)) {
    throw invalid(`[follow_index_pattern] must contain ${LEADER_INDEX_PLACEHOLDER}, or every follower would get the same name; got [${template}]`);
  }
  const sampleReason = invalidIndexNameReason(followerIndexName(template, 'x'));
  if (sampleReason) throw invalid(`[follow_index_pattern] [${template}] makes invalid index names: ${sampleReason}`);
  if (followerCluster === remoteCluster && template === LEADER_INDEX_PLACEHOLDER) {
    throw invalid(`follower cluster and remote cluster are both [${remoteCluster}]: a [follow_index_pattern] other than ${LEADER_INDEX_PLACEHOLDER} is needed`);
  }
  // Checked here, so a pattern whose followers could never be created is refused when it is put.
  const settings = settingsInput === undefined ? {} : followerOwnSettings(settingsInput, 'an auto-follow pattern');
  return {
    remoteCluster, followerCluster, leaderIndexPatterns, leaderIndexExclusionPatterns, followIndexPattern: template, params: givenParams(params),
    ...(Object.keys(settings).length === 0 ? {} : { settings }),
  };
}

/** The follower index name for `leaderIndex`: the template with every `{{leader_index}}` replaced. */
export function followerIndexName(template: string, leaderIndex: string): string {
  return template.replaceAll(LEADER_INDEX_PLACEHOLDER, leaderIndex);
}

/** Matches one of the patterns and none of the exclusions. */
export function matchesPattern(pattern: PatternMatcher, name: string): boolean {
  return pattern.leaderIndexPatterns.some((p) => wildcardMatch(p, name))
    && !pattern.leaderIndexExclusionPatterns.some((p) => wildcardMatch(p, name));
}

function patternList(field: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) throw invalid(`[${field}] must be a list of index patterns`);
  for (const p of list as string[]) {
    // `*` is the only wildcard; the rest must be what an index name may hold. A comma would split
    // the pattern in the resolve request, a leading `-` would turn it into an exclusion there.
    const reason = p === '' ? 'must not be empty' : invalidIndexNameReason(p.replaceAll('*', 'x'));
    if (reason) throw invalid(`[${field}] pattern [${p}] ${reason}`);
  }
  return [...new Set(list as string[])];
}

function givenParams(input: Readonly<Record<string, unknown>>): Record<string, number> {
  let parsed: Readonly<Record<string, number>>;
  try {
    parsed = parseFollowParams(input) as unknown as Readonly<Record<string, number>>;
  } catch (err) {
    if (err instanceof FollowParamsError) throw invalid(err.message);
    throw err;
  }
  const given: Record<string, number> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value !== undefined) given[key] = parsed[key]!;
  }
  return given;
}

function invalid(message: string): FollowError {
  return new FollowError('illegal_argument_exception', message);
}
