/**
 * What a pattern does with each leader index, as pure functions of what discovery saw, so the
 * rules can be read (and tested) in one place:
 *
 * 1. `candidatesOf`: the leader indices a pattern matches — indices by their own name, and the
 *    backing indices of data streams by the stream's name.
 * 2. `screen`: what can be settled without asking the leader more: already handled by this
 *    pattern; not followable now (closed, hidden or system, itself a follower of this daemon);
 *    or worth a look at its creation date and state.
 * 3. `decide`, with that creation date and state: follow it, record it as handled without
 *    following it (created before the pattern was put or resumed; already followed by another
 *    pattern or by hand), or wait (closed, gone since, or its primaries not started yet: a new
 *    or reopening index is "open" before its shards can answer).
 *
 * Like CCR, the creation date is compared with the time the pattern was put (or resumed), and the
 * indices that existed then are also recorded as handled at that moment: either alone would do in
 * the common case, but the record also covers a leader whose clock is behind ours, and the date
 * also covers a crash between saving a pattern and saving that record.
 */
import type { ResolvedIndices } from '../cluster/index-discovery.js';
import type { AutoFollowPatternRecord, HandledLeaderIndex } from '../state/state-store.js';
import { followerIndexName, matchesPattern } from './auto-follow-pattern.js';

/** A leader index a pattern matches. */
export interface Candidate {
  readonly name: string;
  /** Set when the pattern matched the data stream this index backs (then hidden is expected). */
  readonly dataStream?: string;
  /** From the resolve answer; undefined when only the data stream listed it (then the details tell). */
  readonly open: boolean | undefined;
  readonly hidden: boolean;
  readonly system: boolean;
}

/** A follower of this daemon, as `FollowManager.info()` lists it. */
export interface KnownFollower {
  readonly remote_cluster: string;
  readonly leader_index: string;
  readonly follower_cluster: string;
  readonly follower_index: string;
}

/** Creation date, state and primaries of a candidate, from `indexDetails`. */
export interface CandidateDetails {
  readonly state: 'open' | 'close';
  readonly creationDate: number;
  readonly primariesActive: boolean;
}

export type Screen =
  | { readonly kind: 'handled' }
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'lookup' };

export type Decision =
  | { readonly kind: 'follow'; readonly followerIndex: string }
  | { readonly kind: 'record'; readonly entry: HandledLeaderIndex }
  | { readonly kind: 'wait'; readonly reason: string };

export interface DecisionContext {
  readonly pattern: AutoFollowPatternRecord;
  readonly followers: readonly KnownFollower[];
  /** Leader index → the pattern that followed it; lets a skip name the pattern that won. */
  readonly followedBy: ReadonlyMap<string, string>;
  /** ISO 8601, for the record. */
  readonly now: string;
}

/** Every leader index `pattern` matches in `resolved`, each once. */
export function candidatesOf(pattern: AutoFollowPatternRecord, resolved: ResolvedIndices): Candidate[] {
  const found = new Map<string, Candidate>();
  const byName = new Map(resolved.indices.map((i) => [i.name, i]));
  for (const stream of resolved.dataStreams) {
    if (!matchesPattern(pattern, stream.name)) continue;
    for (const name of stream.backingIndices) {
      const listed = byName.get(name);
      found.set(name, { name, dataStream: stream.name, open: listed?.open, hidden: true, system: listed?.system ?? false });
    }
  }
  for (const index of resolved.indices) {
    if (found.has(index.name) || !matchesPattern(pattern, index.name)) continue;
    found.set(index.name, { name: index.name, open: index.open, hidden: index.hidden, system: index.system });
  }
  return [...found.values()];
}

export function screen(candidate: Candidate, handled: ReadonlyMap<string, HandledLeaderIndex>, ctx: Pick<DecisionContext, 'pattern' | 'followers'>): Screen {
  if (handled.has(candidate.name)) return { kind: 'handled' };
  const remote = ctx.pattern.remoteCluster;
  if (ctx.followers.some((f) => f.follower_cluster === remote && f.follower_index === candidate.name)) {
    return { kind: 'ignore', reason: 'it is a follower index of this daemon' };
  }
  if (candidate.system) return { kind: 'ignore', reason: 'it is a system index' };
  if (candidate.dataStream === undefined && (candidate.hidden || candidate.name.startsWith('.'))) {
    return { kind: 'ignore', reason: 'it is a hidden index' };
  }
  if (candidate.open === false) return { kind: 'ignore', reason: 'it is closed' };
  return { kind: 'lookup' };
}

/** For a candidate that `screen` sent to `lookup`; `details` is undefined if the index is gone. */
export function decide(candidate: Candidate, details: CandidateDetails | undefined, ctx: DecisionContext): Decision {
  if (details === undefined) return { kind: 'wait', reason: 'it no longer exists' };
  if (details.state === 'close') return { kind: 'wait', reason: 'it is closed' };
  const { pattern } = ctx;
  const base = { leaderIndex: candidate.name, ...(candidate.dataStream === undefined ? {} : { dataStream: candidate.dataStream }), at: ctx.now };
  if (details.creationDate < Date.parse(pattern.activeSince)) {
    return { kind: 'record', entry: { ...base, outcome: 'existing', reason: 'created before the pattern was put or last resumed' } };
  }
  const followerIndex = followerIndexName(pattern.followIndexPattern, candidate.name);
  const existing = ctx.followers.find((f) => f.remote_cluster === pattern.remoteCluster && f.leader_index === candidate.name);
  if (existing) {
    if (existing.follower_cluster === pattern.followerCluster && existing.follower_index === followerIndex) {
      // Ours from an earlier round whose record was lost (a crash between following and saving).
      return { kind: 'record', entry: { ...base, outcome: 'followed', followerIndex } };
    }
    const winner = ctx.followedBy.get(candidate.name);
    const by = winner === undefined ? '' : ` (by auto-follow pattern [${winner}], put earlier)`;
    return {
      kind: 'record',
      entry: { ...base, outcome: 'skipped', reason: `already followed into [${existing.follower_cluster}/${existing.follower_index}]${by}` },
    };
  }
  if (!details.primariesActive) return { kind: 'wait', reason: 'its primary shards are not all started yet' };
  return { kind: 'follow', followerIndex };
}

/**
 * The handled entries to keep: those whose leader index still matches. The others were deleted on
 * the leader, so the set does not grow forever with daily indices (CCR prunes the same way).
 */
export function pruneHandled(handled: ReadonlyMap<string, HandledLeaderIndex>, candidates: readonly Candidate[]): Map<string, HandledLeaderIndex> {
  const alive = new Set(candidates.map((c) => c.name));
  return new Map([...handled].filter(([name]) => alive.has(name)));
}

/** What `put` and `resume` record: every index the pattern matches now is left alone. */
export function existingEntries(candidates: readonly Candidate[], handled: ReadonlyMap<string, HandledLeaderIndex>, now: string, reason: string): HandledLeaderIndex[] {
  return candidates
    .filter((c) => !handled.has(c.name))
    .map((c) => ({ leaderIndex: c.name, outcome: 'existing', ...(c.dataStream === undefined ? {} : { dataStream: c.dataStream }), reason, at: now }));
}
