/**
 * Disaster day: promote every follower of a lost leader at once (`ccr-follow promote --all |
 * --match`, `POST /_ccr/promote`), and say what it cost (README, "Disaster day").
 *
 * In order:
 * 1. select the followers (all, or a glob on `cluster/index` or the index name; `leader` narrows
 *    to one leader cluster), and the promotion records of earlier runs the selection names, which
 *    answer "already an ordinary index";
 * 2. pause the active auto-follow patterns of the selected followers' leader clusters, so nothing
 *    new is followed from them while the operator fails over (resumed by hand: a fail-back reverses the direction and leaves them to the operator);
 * 3. pause every selected follower, a bounded number at a time, then read each one's recovery
 *    point (recovery-point.ts): all are paused first so that the totals kept on every record are
 *    the totals of what was promoted, not of a moving target;
 * 4. promote each (FollowManager.promote: promotion record, then unfollow), a bounded number at a
 *    time; one failing does not stop the others;
 *    then the leader aliases of each index alone take writes again (promoted-aliases.ts);
 * 5. make each followed data stream writable under its name (stream-write-index.ts);
 * 6. answer one line per index and the recovery time: from the request to the last index writable.
 *
 * The leader is not asked anything: on the day this runs it is usually gone.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import { classify } from '../cluster/classify.js';
import type { FollowerKey, PromotionRecord, PromotionRun, RecoveryPoint, StateStore } from '../state/state-store.js';
import { followerKey } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import { FollowError } from './follow-errors.js';
import type { FollowerInfo, PromoteOptions } from './follow-manager.js';
import { reopenAliasesForWrites } from './promoted-aliases.js';
import { runTotals } from './recovery-point.js';
import { makeStreamsWritable, type StreamFollower, type StreamOutcome } from './stream-write-index.js';

/** How many followers are paused or promoted at a time unless the request says otherwise. */
export const DEFAULT_PROMOTE_CONCURRENCY = 8;
export const MAX_PROMOTE_CONCURRENCY = 64;

export interface PromoteManyRequest {
  /** Every follower (of `leader`, when given). Exactly one of `all`, `match` and `followers`. */
  readonly all?: boolean;
  /** A glob (`*`, `?`) on `cluster/index` or on the index name. */
  readonly match?: string;
  /**
   * Exactly these followers (`cluster/index`): what one daemon of a fleet asks each other daemon
   * to promote of those it runs (src/daemon/fleet-promote.ts). One this daemon does not run (its
   * lease moved since) fails, nothing done to it; one promoted before is `already_promoted`.
   */
  readonly followers?: readonly string[];
  /** Only the followers of this leader cluster alias. */
  readonly leader?: string;
  /** List what would be done; change nothing. */
  readonly dryRun?: boolean;
  readonly concurrency?: number;
}

/** The part of FollowManager this uses. */
export interface PromotingManager {
  info(): FollowerInfo[];
  pauseForPromotion(key: FollowerKey): Promise<void>;
  recoveryPoint(key: FollowerKey, at: number): Promise<RecoveryPoint>;
  promote(key: FollowerKey, options?: PromoteOptions): Promise<PromotionRecord>;
}

/** An auto-follow pattern as this needs it. */
export interface LeaderPattern {
  readonly name: string;
  readonly leaderCluster: string;
  readonly active: boolean;
}

export interface PromoteManyDeps {
  readonly manager: PromotingManager;
  readonly state: Pick<StateStore, 'listPromotions'>;
  /** The auto-follow patterns, and how to pause one (auto-follow lives above this part). */
  readonly patterns: () => readonly LeaderPattern[];
  readonly pausePattern: (name: string) => Promise<void>;
  /** The followed backing indices of data streams (from the auto-follow patterns). */
  readonly streamFollowers: () => readonly StreamFollower[];
  readonly connect: (alias: string) => Promise<ClusterClient>;
  readonly logger: Logger;
  readonly now?: () => number;
}

export type IndexResult = 'promoted' | 'would_promote' | 'already_promoted' | 'failed';

export interface IndexOutcome {
  /** `cluster/index` of the follower (or of the index it was). */
  readonly follower: string;
  readonly leader: string;
  readonly result: IndexResult;
  /** Why it failed (the error's type and reason); for `already_promoted`, when. */
  readonly reason?: string;
  readonly promotedAt?: string;
  readonly recoveryPoint?: RecoveryPoint;
  /** Leader aliases of this index alone that take writes again (promoted-aliases.ts). */
  readonly writableAliases?: readonly string[];
  /** With several daemons: the daemon that promoted it, or tried to (`<id> on <host>`). */
  readonly daemon?: string;
}

export interface PromoteManyAnswer {
  readonly dryRun: boolean;
  /** ISO 8601: when the request came in. */
  readonly startedAt: string;
  /** From the request to the last index (and data stream) writable; absent on a dry run or when nothing was promoted. */
  readonly rtoMillis?: number;
  /** Auto-follow patterns paused by this request (on a dry run: that it would pause). */
  readonly pausedAutoFollowPatterns: readonly string[];
  /** Failures pausing a pattern: the promotion goes on, the operator pauses them by hand. */
  readonly patternFailures: readonly { readonly pattern: string; readonly reason: string }[];
  readonly indices: readonly IndexOutcome[];
  readonly dataStreams: readonly StreamOutcome[];
  /** The recovery point over the followers promoted (or, on a dry run, those it would promote). */
  readonly total?: PromotionRun;
  /**
   * With `all`: the items the leader's cluster-metadata patterns put, given back what following
   * held back (the daemon adds these, from src/cluster-metadata/; those patterns are paused).
   */
  readonly clusterMetadata?: readonly {
    readonly pattern: string; readonly kind: string; readonly name: string; readonly fields: readonly string[];
    readonly result: 'restored' | 'failed'; readonly reason?: string;
  }[];
  /** True when every index ended promoted (now or before), every data stream is writable and every held-back item restored. */
  readonly succeeded: boolean;
}

export async function promoteMany(req: PromoteManyRequest, deps: PromoteManyDeps): Promise<PromoteManyAnswer> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const concurrency = checkRequest(req);
  const dryRun = req.dryRun === true;
  const selected = selectForPromotion(deps.manager.info().map((i) => ({
    cluster: i.follower_cluster, index: i.follower_index, leader: `${i.remote_cluster}/${i.leader_index}`, leaderCluster: i.remote_cluster,
  })), req);
  const selectedKeys = new Set(selected.map((s) => followerKey(s.cluster, s.index)));
  const earlier = selectForPromotion((await deps.state.listPromotions()).map((p) => ({
    cluster: p.followerCluster, index: p.followerIndex, leader: `${p.leaderCluster}/${p.leaderIndex}`, leaderCluster: p.leaderCluster, promotion: p,
  })), req).filter((p) => !selectedKeys.has(followerKey(p.cluster, p.index)));
  // Named by the daemon that listed the fleet, but neither run here nor promoted before: its lease moved since.
  const notHere = (req.followers ?? []).filter((key) => !selectedKeys.has(key) && !earlier.some((e) => followerKey(e.cluster, e.index) === key));
  if (selected.length === 0 && earlier.length === 0 && notHere.length === 0) {
    throw new FollowError('resource_not_found_exception', `no follower index ${describeSelection(req)}: nothing to promote`);
  }

  const leaders = new Set([...selected.map((s) => s.leaderCluster), ...(req.leader === undefined ? [] : [req.leader])]);
  const toPause = deps.patterns().filter((p) => p.active && leaders.has(p.leaderCluster)).map((p) => p.name).sort();
  const paused: string[] = [];
  const patternFailures: { pattern: string; reason: string }[] = [];
  if (dryRun) {
    paused.push(...toPause);
  } else {
    for (const name of toPause) {
      try {
        await deps.pausePattern(name);
        paused.push(name);
      } catch (err) {
        patternFailures.push({ pattern: name, reason: reasonOf(err) });
      }
    }
    if (paused.length > 0) deps.logger.info(`promotion: paused auto-follow pattern(s) ${paused.join(', ')}; resume them by hand (a fail-back does not)`);
  }

  const outcomes = new Map<FollowerKey, IndexOutcome>();
  for (const key of notHere) {
    outcomes.set(key, { follower: key, leader: '', result: 'failed', reason: 'illegal_state_exception: not run by this daemon (its lease moved since the fleet was listed): '
      + 'nothing was done to it; promote it again' });
  }
  const failed = (key: FollowerKey, s: Selected, err: unknown): void => {
    outcomes.set(key, { follower: key, leader: s.leader, result: 'failed', reason: reasonOf(err) });
  };
  // Pause all, then read every recovery point: the totals kept on each record cover the whole run.
  const points = new Map<FollowerKey, RecoveryPoint>();
  await forEachBounded(selected, concurrency, async (s) => {
    const key = followerKey(s.cluster, s.index);
    try {
      if (!dryRun) await deps.manager.pauseForPromotion(key);
      points.set(key, await deps.manager.recoveryPoint(key, now()));
    } catch (err) {
      failed(key, s, err);
    }
  });
  const run = runTotals(startedAt, [...points.values()]);
  let lastWritableAt: number | undefined;
  await forEachBounded(selected, concurrency, async (s) => {
    const key = followerKey(s.cluster, s.index);
    const recoveryPoint = points.get(key);
    if (recoveryPoint === undefined) return;
    if (dryRun) {
      outcomes.set(key, { follower: key, leader: s.leader, result: 'would_promote', recoveryPoint });
      return;
    }
    let record: PromotionRecord;
    try {
      record = await deps.manager.promote(key, { recoveryPoint, run });
    } catch (err) {
      failed(key, s, err);
      return;
    }
    try {
      const aliases = await reopenAliasesForWrites(await deps.connect(s.cluster), s.index);
      lastWritableAt = Math.max(lastWritableAt ?? 0, now());
      outcomes.set(key, { follower: key, leader: s.leader, result: 'promoted', promotedAt: record.promotedAt, recoveryPoint, ...aliasesField(aliases) });
    } catch (err) {
      outcomes.set(key, { follower: key, leader: s.leader, result: 'failed', promotedAt: record.promotedAt, recoveryPoint, reason: aliasFailure(err) });
    }
  });
  // Earlier promotions: their aliases are checked again, so a run that failed at that step is completed by the next.
  await forEachBounded(earlier, concurrency, async (e) => {
    const key = followerKey(e.cluster, e.index);
    const base = {
      follower: key, leader: e.leader, promotedAt: e.promotion.promotedAt,
      ...(e.promotion.recoveryPoint ? { recoveryPoint: e.promotion.recoveryPoint } : {}),
    };
    try {
      const aliases = dryRun ? [] : await reopenAliasesForWrites(await deps.connect(e.cluster), e.index);
      outcomes.set(key, { ...base, result: 'already_promoted', reason: `promoted at ${e.promotion.promotedAt}`, ...aliasesField(aliases) });
    } catch (err) {
      const verdict = classify(err);
      const gone = verdict.action === 'fatal' && verdict.kind === 'index_not_found';
      outcomes.set(key, gone
        ? { ...base, result: 'already_promoted', reason: `promoted at ${e.promotion.promotedAt}; the index no longer exists` }
        : { ...base, result: 'failed', reason: aliasFailure(err) });
    }
  });

  const ordinary = new Set([...outcomes.values()].filter((o) => o.result === 'promoted' || o.result === 'already_promoted').map((o) => o.follower));
  const wouldBe = new Set([...outcomes.values()].filter((o) => o.result === 'would_promote').map((o) => o.follower));
  const dataStreams = await makeStreamsWritable(deps.streamFollowers(), { ordinary: dryRun ? new Set([...ordinary, ...wouldBe]) : ordinary, touched: new Set([...ordinary, ...wouldBe, ...outcomes.keys()]), dryRun, connect: deps.connect });
  if (!dryRun && dataStreams.some((d) => d.result === 'writable') && lastWritableAt !== undefined) lastWritableAt = Math.max(lastWritableAt, now());

  const indices = [...outcomes.values()].sort((a, b) => a.follower.localeCompare(b.follower));
  const succeeded = indices.every((o) => o.result !== 'failed') && dataStreams.every((d) => d.result !== 'failed') && patternFailures.length === 0;
  const promotedCount = indices.filter((o) => o.result === 'promoted').length;
  if (!dryRun) {
    deps.logger.info(`promotion of ${selected.length} follower(s): ${promotedCount} promoted, ${indices.filter((o) => o.result === 'failed').length} failed, `
      + `${earlier.length} already ordinary`, { rto_millis: lastWritableAt === undefined ? undefined : lastWritableAt - startedAt, total: run });
  }
  return {
    dryRun,
    startedAt: new Date(startedAt).toISOString(),
    ...(!dryRun && lastWritableAt !== undefined ? { rtoMillis: lastWritableAt - startedAt } : {}),
    pausedAutoFollowPatterns: paused,
    patternFailures,
    indices,
    dataStreams,
    ...(points.size > 0 ? { total: run } : {}),
    succeeded,
  };
}

// ---- internals --------------------------------------------------------------------------------

export interface Selected {
  readonly cluster: string;
  readonly index: string;
  /** `cluster/index` of the leader. */
  readonly leader: string;
  readonly leaderCluster: string;
}

/** Refuses a request that names no selection or two, or a concurrency out of range; answers the concurrency. */
export function checkRequest(req: PromoteManyRequest): number {
  if ([req.all === true, req.match !== undefined, req.followers !== undefined].filter(Boolean).length !== 1) {
    throw new FollowError('illegal_argument_exception', 'a promotion of many needs exactly one of [all] (true), [match] (a glob) and [followers] (cluster/index names)');
  }
  if (req.match !== undefined && (typeof req.match !== 'string' || req.match === '')) {
    throw new FollowError('illegal_argument_exception', '[match] must be a non-empty glob (* and ?) on cluster/index or the index name');
  }
  const concurrency = req.concurrency ?? DEFAULT_PROMOTE_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_PROMOTE_CONCURRENCY) {
    throw new FollowError('illegal_argument_exception', `[concurrency] must be an integer from 1 to ${MAX_PROMOTE_CONCURRENCY}, got ${String(concurrency)}`);
  }
  return concurrency;
}

/**
 * The followers a request selects: the same selection as `pause --match` (a glob on `cluster/index`
 * or the index name alone), or exactly the `followers` named; `leader` narrows either.
 */
export function selectForPromotion<T extends Selected>(items: readonly T[], req: PromoteManyRequest): T[] {
  const re = req.match === undefined ? undefined : globToRegExp(req.match);
  const named = req.followers === undefined ? undefined : new Set(req.followers);
  return items.filter((i) => (req.leader === undefined || i.leaderCluster === req.leader)
    && (re === undefined || re.test(`${i.cluster}/${i.index}`) || re.test(i.index))
    && (named === undefined || named.has(followerKey(i.cluster, i.index))));
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${body}$`);
}

export function describeSelection(req: PromoteManyRequest): string {
  const what = req.match === undefined ? 'at all' : `matches [${req.match}]`;
  return req.leader === undefined ? what : `of leader cluster [${req.leader}] ${req.match === undefined ? 'at all' : what}`;
}

function aliasesField(aliases: readonly string[]): { writableAliases?: readonly string[] } {
  return aliases.length === 0 ? {} : { writableAliases: aliases };
}

function aliasFailure(err: unknown): string {
  return `promoted, but its aliases could not be made writable (${reasonOf(err)}); run the command again`;
}

export function reasonOf(err: unknown): string {
  const type = (err as { type?: unknown }).type;
  return `${typeof type === 'string' ? `${type}: ` : ''}${(err as Error).message ?? String(err)}`;
}

/** Runs `fn` over `items`, at most `limit` at a time; `fn` must not throw (it records its own failures). */
async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
