/**
 * `promote --all | --match` over a fleet of daemons (`POST /_ccr/promote` asked of any daemon):
 * every follower of the fleet, each promoted by the daemon that runs it (README, "Running several
 * daemons").
 *
 * The asked daemon:
 * 1. lists the fleet's followers with their owners (fleet.ts) and selects as a daemon alone does
 *    (`selectForPromotion`), with the earlier promotions the selection names;
 * 2. pauses the active auto-follow patterns of the selected leaders wherever they run (its own, or
 *    forwarded to the pattern's daemon), so nothing new is followed while the fleet fails over;
 * 3. sends each daemon that runs selected followers one sub-request naming exactly those
 *    (`{"followers": [...]}`, marked as forwarded so it is never fanned out again) and runs its own
 *    part the same way, all at once: each daemon pauses, reads the recovery points of and promotes
 *    its followers as a daemon alone does (promote-many.ts: the promotion record, the leader not
 *    asked anything);
 * 4. reports a follower no daemon runs at that moment as failed, saying why (never skipped), and a
 *    daemon that does not answer as failed for each follower it was sent;
 * 5. makes the followed data streams writable once over the whole fleet's outcome (a stream's
 *    backing indices may be run by several daemons, its pattern by yet another);
 * 6. answers one line per follower naming the daemon that promoted it (`daemon`).
 *
 * Run totals (RPO) on each promotion record are those of its daemon's part; the answer's `total`
 * sums the parts.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import { FollowError } from '../follow/follow-errors.js';
import {
  checkRequest, describeSelection, reasonOf, selectForPromotion, type IndexOutcome, type PromoteManyAnswer, type PromoteManyRequest,
} from '../follow/promote-many.js';
import { makeStreamsWritable, type StreamFollower } from '../follow/stream-write-index.js';
import type { PromotionRun, StateStore } from '../state/state-store.js';
import { followerKey } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import type { Fleet, FleetPatternView, FollowerOwner } from './fleet.js';
import type { PeerSend } from './peer-client.js';
import type { PromoteMany } from './promote-many-api.js';

export interface FleetPromoteDeps {
  readonly fleet: Fleet;
  /** This daemon's own promotion of many (promote-many-api.ts). */
  readonly local: PromoteMany;
  /** Refuses a leader alias the config does not define (as the local promotion does). */
  readonly checkLeader: (alias: string) => void;
  /** Pauses an auto-follow pattern this daemon runs. */
  readonly pauseLocalPattern: (name: string) => Promise<void>;
  /** With `all`: the cluster-metadata patterns this daemon runs, promoted (promote-many-api.ts). */
  readonly promoteMetadata?: (leader: string | undefined) => Promise<NonNullable<PromoteManyAnswer['clusterMetadata']>>;
  readonly state: Pick<StateStore, 'listPromotions'>;
  readonly connect: (alias: string) => Promise<ClusterClient>;
  readonly send: PeerSend;
  /** The fleet's control token (the other daemons have the same). */
  readonly token?: string;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** A daemon's part may promote hundreds of followers: far longer than a forwarded request of one. */
const PART_TIMEOUT_MS = 600_000;
const PATTERN_TIMEOUT_MS = 30_000;

export async function promoteAcrossFleet(req: PromoteManyRequest, deps: FleetPromoteDeps): Promise<PromoteManyAnswer> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  checkRequest(req);
  if (req.leader !== undefined) deps.checkLeader(req.leader);
  const dryRun = req.dryRun === true;
  const self = deps.fleet.self;
  const selfName = `${self.id} on ${self.host}`;

  const [{ info }, { patterns }, promotions] = await Promise.all([deps.fleet.followers(), deps.fleet.patterns(), deps.state.listPromotions()]);
  const selected = selectForPromotion(info.map((i) => ({
    cluster: i.follower_cluster, index: i.follower_index, leader: `${i.remote_cluster}/${i.leader_index}`, leaderCluster: i.remote_cluster, owner: i.owner,
  })), req);
  const selectedKeys = new Set(selected.map((s) => followerKey(s.cluster, s.index)));
  const earlier = selectForPromotion(promotions.map((p) => ({
    cluster: p.followerCluster, index: p.followerIndex, leader: `${p.leaderCluster}/${p.leaderIndex}`, leaderCluster: p.leaderCluster,
  })), req).map((p) => followerKey(p.cluster, p.index)).filter((key) => !selectedKeys.has(key));
  if (selected.length === 0 && earlier.length === 0) {
    throw new FollowError('resource_not_found_exception', `no follower index of the fleet ${describeSelection(req)}: nothing to promote`);
  }

  const leaders = new Set([...selected.map((s) => s.leaderCluster), ...(req.leader === undefined ? [] : [req.leader])]);
  const toPause = patterns.filter((p) => p.pattern.active && leaders.has(String(p.pattern['remote_cluster']))).sort((a, b) => a.name.localeCompare(b.name));
  const paused: string[] = [];
  const patternFailures: { pattern: string; reason: string }[] = [];
  for (const p of toPause) {
    if (dryRun) {
      paused.push(p.name);
      continue;
    }
    try {
      await pausePattern(p, deps);
      paused.push(p.name);
    } catch (err) {
      patternFailures.push({ pattern: p.name, reason: reasonOf(err) });
    }
  }
  if (paused.length > 0 && !dryRun) deps.logger.info(`promotion across the fleet: paused auto-follow pattern(s) ${paused.join(', ')}; resume them by hand`);

  // One part per daemon that runs selected followers; this daemon's part also answers for the earlier promotions.
  const parts = new Map<string, { owner: Extract<FollowerOwner, { status: 'owned' }>; keys: string[] }>();
  const outcomes: IndexOutcome[] = [];
  for (const s of selected) {
    const key = followerKey(s.cluster, s.index);
    if (s.owner === undefined || s.owner.status !== 'owned') {
      outcomes.push({
        follower: key, leader: s.leader, result: 'failed', reason: 'cluster_unavailable_exception: no daemon runs it at this moment (handed over, starting, '
          + 'or its daemon died and another takes it within lease_timeout): nothing was done to it; promote it again in a few seconds',
      });
      continue;
    }
    const part = parts.get(s.owner.id) ?? { owner: s.owner, keys: [] };
    part.keys.push(key);
    parts.set(s.owner.id, part);
  }
  if (earlier.length > 0) {
    const mine = parts.get(self.id) ?? { owner: { status: 'owned', id: self.id, host: self.host, control: '' }, keys: [] };
    mine.keys.push(...earlier);
    parts.set(self.id, mine);
  }

  let lastWritableAt: number | undefined;
  const totals: PromotionRun[] = [];
  await Promise.all([...parts.values()].map(async ({ owner, keys }) => {
    const partReq: PromoteManyRequest = { followers: keys, ...(dryRun ? { dryRun: true } : {}), ...(req.concurrency === undefined ? {} : { concurrency: req.concurrency }) };
    const daemon = owner.id === self.id ? selfName : `${owner.id} on ${owner.host}`;
    let answer: PromoteManyAnswer;
    try {
      answer = owner.id === self.id ? await deps.local(partReq) : await askDaemon(owner, partReq, deps);
    } catch (err) {
      for (const key of keys) outcomes.push({ follower: key, leader: leaderOf(key, selected), result: 'failed', reason: reasonOf(err), daemon });
      return;
    }
    outcomes.push(...answer.indices.map((o) => ({ ...o, leader: o.leader || leaderOf(o.follower, selected), daemon })));
    if (answer.total) totals.push(answer.total);
    if (answer.rtoMillis !== undefined) lastWritableAt = Math.max(lastWritableAt ?? 0, now());
  }));

  const byResult = (...results: IndexOutcome['result'][]): Set<string> => new Set(outcomes.filter((o) => results.includes(o.result)).map((o) => o.follower));
  const ordinary = byResult('promoted', 'already_promoted');
  const wouldBe = byResult('would_promote');
  const dataStreams = await makeStreamsWritable(streamFollowersOf(patterns), {
    ordinary: dryRun ? new Set([...ordinary, ...wouldBe]) : ordinary, touched: new Set(outcomes.map((o) => o.follower)), dryRun, connect: deps.connect,
  });
  if (!dryRun && dataStreams.some((d) => d.result === 'writable') && lastWritableAt !== undefined) lastWritableAt = Math.max(lastWritableAt, now());

  const indices = outcomes.sort((a, b) => a.follower.localeCompare(b.follower));
  const clusterMetadata = req.all === true && !dryRun && deps.promoteMetadata ? await deps.promoteMetadata(req.leader) : undefined;
  const succeeded = indices.every((o) => o.result !== 'failed') && dataStreams.every((d) => d.result !== 'failed') && patternFailures.length === 0
    && (clusterMetadata ?? []).every((r) => r.result === 'restored');
  if (!dryRun) {
    deps.logger.info(`promotion across the fleet of ${selected.length} follower(s) on ${parts.size} daemon(s): `
      + `${indices.filter((o) => o.result === 'promoted').length} promoted, ${indices.filter((o) => o.result === 'failed').length} failed`);
  }
  return {
    dryRun,
    startedAt: new Date(startedAt).toISOString(),
    ...(!dryRun && lastWritableAt !== undefined ? { rtoMillis: lastWritableAt - startedAt } : {}),
    pausedAutoFollowPatterns: paused,
    patternFailures,
    indices,
    dataStreams,
    ...(totals.length > 0 ? { total: sumRuns(new Date(startedAt).toISOString(), totals) } : {}),
    ...(clusterMetadata === undefined ? {} : { clusterMetadata }),
    succeeded,
  };
}

/** Pauses a pattern where it runs: here, or through its daemon's control API. */
async function pausePattern(p: FleetPatternView, deps: FleetPromoteDeps): Promise<void> {
  if (p.owner.status !== 'owned') throw new Error(`no daemon runs auto-follow pattern [${p.name}] at this moment`);
  if (p.owner.id === deps.fleet.self.id) return deps.pauseLocalPattern(p.name);
  const answer = await deps.send(p.owner.control, {
    method: 'POST', path: `/_ccr/auto_follow/${encodeURIComponent(p.name)}/pause`, from: deps.fleet.self.id, timeoutMs: PATTERN_TIMEOUT_MS,
    ...(deps.token === undefined ? {} : { token: deps.token }),
  });
  if (answer.status !== 200) throw new Error(`daemon ${p.owner.id} on ${p.owner.host} answered ${answer.status}: ${errorReason(answer.text)}`);
}

/** One daemon's part: `POST /_ccr/promote` naming exactly its followers, marked as forwarded. */
async function askDaemon(owner: Extract<FollowerOwner, { status: 'owned' }>, req: PromoteManyRequest, deps: FleetPromoteDeps): Promise<PromoteManyAnswer> {
  let answer;
  try {
    answer = await deps.send(owner.control, {
      method: 'POST', path: '/_ccr/promote', from: deps.fleet.self.id, timeoutMs: PART_TIMEOUT_MS,
      body: { followers: req.followers, ...(req.dryRun === true ? { dry_run: true } : {}), ...(req.concurrency === undefined ? {} : { concurrency: req.concurrency }) },
      ...(deps.token === undefined ? {} : { token: deps.token }),
    });
  } catch (err) {
    // Refused before a byte was sent: certainly not applied. Cut off or timed out after sending: it may have been.
    const notSent = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH'].includes((err as { code?: string }).code ?? '');
    throw new Error(`cluster_unavailable_exception: daemon ${owner.id} on ${owner.host}, which runs it, did not answer (${(err as Error).message}): `
      + (notSent ? 'nothing was done to it; promote it again' : 'whether it was promoted is unknown: check with stats before promoting it again'));
  }
  if (answer.status !== 200) throw new Error(`daemon ${owner.id} on ${owner.host}, which runs it, refused its part (${answer.status}): ${errorReason(answer.text)}`);
  return JSON.parse(answer.text) as PromoteManyAnswer;
}

function errorReason(text: string): string {
  try {
    const { error } = JSON.parse(text) as { error?: { type?: string; reason?: string } };
    if (error?.reason !== undefined) return `${error.type ?? 'error'}: ${error.reason}`;
  } catch {
    // not JSON: shown as it came
  }
  return text.slice(0, 500);
}

function leaderOf(key: string, selected: readonly { cluster: string; index: string; leader: string }[]): string {
  return selected.find((s) => followerKey(s.cluster, s.index) === key)?.leader ?? '';
}

/** The followed backing indices of data streams, from every pattern of the fleet. */
function streamFollowersOf(patterns: readonly FleetPatternView[]): StreamFollower[] {
  return patterns.flatMap((p) => p.stats.followed_indices
    .filter((f) => f.data_stream !== undefined && f.follower_index !== '')
    .map((f) => ({ stream: f.data_stream!, followerCluster: String(p.pattern['follower_cluster']), leaderIndex: f.leader_index, followerIndex: f.follower_index })));
}

/** The parts' recovery points as one run: followers and operations summed, the largest seconds. */
function sumRuns(startedAt: string, runs: readonly PromotionRun[]): PromotionRun {
  const seconds = runs.map((r) => r.secondsPossiblyMissing).filter((s): s is number => s !== undefined);
  return {
    startedAt,
    followers: runs.reduce((sum, r) => sum + r.followers, 0),
    operationsMissingAtLeast: runs.reduce((sum, r) => sum + r.operationsMissingAtLeast, 0),
    ...(seconds.length > 0 ? { secondsPossiblyMissing: Math.max(...seconds) } : {}),
    unknownFollowers: runs.reduce((sum, r) => sum + r.unknownFollowers, 0),
  };
}
