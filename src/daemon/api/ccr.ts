/**
 * Elasticsearch CCR's REST API (`_ccr`), as its reference documents it, under a cluster prefix: the
 * follower index `orders` of the cluster alias `follower` is `/follower/orders/_ccr/...`, so a
 * script or client given `http://<daemon>/follower` as its node URL speaks to ccr-follow as to
 * that cluster. A thin mapping onto FollowManager and AutoFollowCoordinator: every answer keeps
 * CCR's field names and types (sizes and times as CCR's strings), ccr-follow's own fields are
 * extensions beside them (README, "Elasticsearch's CCR API"). The unprefixed `/_ccr/stats`,
 * `/_ccr/info` and `/_ccr/auto_follow` cover every cluster (the CLI and the status page use them).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AutoFollowCoordinator, AutoFollowPatternView } from '../../autofollow/auto-follow-coordinator.js';
import type { AutoFollowStatsView } from '../../autofollow/auto-follow-stats.js';
import { FollowError } from '../../follow/follow-errors.js';
import type { FollowerInfo, FollowManager } from '../../follow/follow-manager.js';
import type { FollowerIndexStats } from '../../follow/index-follower.js';
import { FOLLOW_PARAMS, type FollowParams } from '../../shard/follow-params.js';
import { followerKey } from '../../state/state-store.js';
import {
  checkBody, checkClusterAlias, checkFollowerPath, checkIndexName, checkPatternName, ControlRequestError, FOLLOW_BODY, NO_BODY,
  objectBody, PATTERN_BODY, RESUME_BODY, stringField, type QuerySpec,
} from '../control-input.js';
import type { FollowerOwner } from '../fleet.js';
import { ccrParams, ccrSettings } from './ccr-units.js';
import { checkIndexExpression, followerIndicesOf } from './index-expressions.js';

export interface ApiDeps {
  readonly manager: FollowManager;
  readonly autoFollow: AutoFollowCoordinator;
  /** Every follower of the fleet once, with its owner (fleet.ts): the all-followers answers use it. */
  readonly followers: () => Promise<FleetFollowers>;
  /** Every auto-follow pattern of the fleet once, with its owner, and the fleet's auto-follow stats. */
  readonly patterns: () => Promise<ListedPatterns>;
  /** Both, from one look at the fleet (`GET /_ccr/stats`). */
  readonly followersAndPatterns: () => Promise<FleetFollowers & ListedPatterns>;
}

export interface ListedPatterns {
  readonly patterns: readonly (AutoFollowPatternView & { readonly owner?: FollowerOwner })[];
  readonly autoFollowStats: AutoFollowStatsView;
}

/** A follower's stats as the fleet lists them: `state` `unowned` and no shards while nobody runs it. */
export type ListedStats = Omit<FollowerIndexStats, 'state'> & { readonly state: string; readonly owner?: FollowerOwner };
export type ListedInfo = FollowerInfo & { readonly owner?: FollowerOwner };
export interface FleetFollowers {
  readonly stats: readonly ListedStats[];
  readonly info: readonly ListedInfo[];
}

interface IndexParams { cluster: string; index: string }
interface ClusterParams { cluster: string }
interface PatternParams { name: string; cluster?: string }

/** The query parameters each endpoint documents. Timeouts are accepted and have nothing to bound: answers come from memory or one cluster call. */
const MASTER_TIMEOUT: QuerySpec = { master_timeout: 'time' };
const TIMEOUT: QuerySpec = { timeout: 'time' };
const FOLLOW_QUERY: QuerySpec = { wait_for_active_shards: 'active_shards', master_timeout: 'time' };
const CCR_STATS_QUERY: QuerySpec = { timeout: 'time', master_timeout: 'time' };

/** `POST /<leader_index>/_ccr/forget_follower`: all four name the follower whose retention leases to drop. */
const FORGET_BODY = { fields: ['follower_cluster', 'follower_index', 'follower_index_uuid', 'leader_remote_cluster'], followParams: false } as const;

const FAILBACK_BODY = { fields: ['remote_cluster', 'leader_index', 'lost_writes_file', 'dry_run'], followParams: false } as const;

const SWITCHOVER_BODY = { fields: ['remote_cluster', 'leader_index', 'lost_writes_file'], followParams: false } as const;

const ACK = { acknowledged: true } as const;

export function mountCcrApi(app: FastifyInstance, deps: ApiDeps): void {
  const { manager, autoFollow } = deps;

  app.put<{ Params: IndexParams; Querystring: Record<string, string> }>('/:cluster/:index/_ccr/follow', { config: { query: FOLLOW_QUERY } }, async (req) => {
    checkFollowerPath(req.params);
    const what = 'a follow request';
    const body = objectBody(req.body, what);
    checkBody(body, FOLLOW_BODY, what);
    const { remote_cluster: remoteCluster, leader_index: leaderIndex, settings, data_stream_name: dataStreamName, ...params } = body;
    checkClusterAlias(stringField(body, 'remote_cluster', what, 'the alias of the leader cluster'), 'remote');
    checkIndexName(stringField(body, 'leader_index', what, 'the leader index'), 'leader');
    if (dataStreamName !== undefined) stringField(body, 'data_stream_name', what, 'the name of the data stream on the follower');
    const wait = req.query.wait_for_active_shards;
    return manager.follow({
      leaderCluster: remoteCluster as string, leaderIndex: leaderIndex as string,
      followerCluster: req.params.cluster, followerIndex: req.params.index, params,
      ...(settings === undefined ? {} : { settings }),
      ...(dataStreamName === undefined ? {} : { dataStreamName: dataStreamName as string }),
      ...(wait === undefined ? {} : { waitForActiveShards: wait === 'all' ? 'all' : Number(wait) }),
    });
  });

  app.post<{ Params: IndexParams }>('/:cluster/:index/_ccr/pause_follow', { config: { query: MASTER_TIMEOUT } }, async (req) => {
    await manager.pause(followerOf(req, 'pause_follow'));
    return ACK;
  });

  app.post<{ Params: IndexParams }>('/:cluster/:index/_ccr/resume_follow', { config: { query: MASTER_TIMEOUT } }, async (req) => {
    checkFollowerPath(req.params);
    const body = objectBody(req.body, 'a resume request');
    checkBody(body, RESUME_BODY, 'a resume request');
    await manager.resume(keyOf(req.params), body);
    return ACK;
  });

  app.post<{ Params: IndexParams }>('/:cluster/:index/_ccr/unfollow', { config: { query: MASTER_TIMEOUT } }, async (req) => {
    await manager.unfollow(followerOf(req, 'unfollow'));
    return ACK;
  });

  // Not a CCR API (CCR's answer to a lost leader is pause + unfollow, which forgets where the follower stood).
  app.post<{ Params: IndexParams }>('/:cluster/:index/_ccr/promote', async (req) => ({ promotion: await manager.promote(followerOf(req, 'promote')) }));

  // Not a CCR API: the old leader index (the prefix's) follows the promoted one, by difference (README, "Fail back").
  app.post<{ Params: IndexParams }>('/:cluster/:index/_ccr/failback', async (req) => {
    checkFollowerPath(req.params);
    const what = 'a failback request';
    const body = objectBody(req.body, what);
    checkBody(body, FAILBACK_BODY, what);
    const file = lostWritesFile(body, what);
    const dryRun = body.dry_run;
    if (dryRun !== undefined && typeof dryRun !== 'boolean') throw new ControlRequestError('illegal_argument_exception', `[dry_run] in ${what} must be true or false`, 400);
    const promotedCluster = stringField(body, 'remote_cluster', what, 'the cluster alias of the promoted index');
    const promotedIndex = stringField(body, 'leader_index', what, 'the promoted index');
    checkClusterAlias(promotedCluster, 'promoted');
    checkIndexName(promotedIndex, 'promoted');
    return manager.failback({
      promotedCluster, promotedIndex, oldLeaderCluster: req.params.cluster, oldLeaderIndex: req.params.index,
      ...(file === undefined ? {} : { lostWritesFile: file }), ...(dryRun === undefined ? {} : { dryRun }),
    });
  });

  // Not a CCR API: a planned move of the leader role to this follower, and the old leader following it (README, "Switchover").
  app.post<{ Params: IndexParams }>('/:cluster/:index/_ccr/switchover', async (req) => {
    checkFollowerPath(req.params);
    const what = 'a switchover request';
    const body = objectBody(req.body, what);
    checkBody(body, SWITCHOVER_BODY, what);
    const file = lostWritesFile(body, what);
    const leaderCluster = stringField(body, 'remote_cluster', what, 'the cluster alias of the leader');
    const leaderIndex = stringField(body, 'leader_index', what, 'the leader index');
    checkClusterAlias(leaderCluster, 'remote');
    checkIndexName(leaderIndex, 'leader');
    return manager.switchover({
      leaderCluster, leaderIndex, followerCluster: req.params.cluster, followerIndex: req.params.index, ...(file === undefined ? {} : { lostWritesFile: file }),
    });
  });

  // Sent to the leader cluster in CCR, to drop the retention leases a follower holds on its
  // shards. ccr-follow reads over REST and holds no retention lease: there is nothing to drop.
  app.post<{ Params: IndexParams }>('/:cluster/:index/_ccr/forget_follower', { config: { query: TIMEOUT } }, async (req) => {
    checkClusterAlias(req.params.cluster, 'leader');
    checkIndexName(req.params.index, 'leader');
    const what = 'a forget_follower request';
    const body = objectBody(req.body, what);
    checkBody(body, FORGET_BODY, what);
    for (const field of FORGET_BODY.fields) stringField(body, field, what, 'a name of the follower');
    return { _shards: { total: 0, successful: 0, failed: 0, failures: [] } };
  });

  // An index expression covers the fleet's followers (each once, with its owner), whichever daemon is asked.
  app.get<{ Params: IndexParams }>('/:cluster/:index/_ccr/stats', { config: { query: TIMEOUT } }, async (req) => {
    checkIndexExpression(req.params.cluster, req.params.index);
    checkBody(objectBody(req.body, 'stats'), NO_BODY, 'stats');
    const listed = await deps.followers();
    const keys = new Set(followerIndicesOf(listed.info, req.params.cluster, req.params.index));
    return { indices: listed.stats.filter((s) => keys.has(followerKey(s.follower_cluster, s.index))).map(ccrIndexStats) };
  });

  app.get<{ Params: IndexParams }>('/:cluster/:index/_ccr/info', { config: { query: MASTER_TIMEOUT } }, async (req) => {
    checkIndexExpression(req.params.cluster, req.params.index);
    checkBody(objectBody(req.body, 'info'), NO_BODY, 'info');
    const listed = await deps.followers();
    const keys = new Set(followerIndicesOf(listed.info, req.params.cluster, req.params.index));
    return { follower_indices: listed.info.filter((i) => keys.has(followerKey(i.follower_cluster, i.follower_index))).map(ccrInfo) };
  });

  app.get('/_ccr/stats', { config: { query: CCR_STATS_QUERY } }, async () => {
    const fleet = await deps.followersAndPatterns();
    return { auto_follow_stats: ccrAutoFollowStats(fleet.autoFollowStats), follow_stats: { indices: fleet.stats.map(ccrIndexStats) } };
  });
  app.get<{ Params: ClusterParams }>('/:cluster/_ccr/stats', { config: { query: CCR_STATS_QUERY } }, async (req) => {
    checkClusterAlias(req.params.cluster, 'follower');
    const fleet = await deps.followersAndPatterns();
    return {
      auto_follow_stats: ccrAutoFollowStats(fleet.autoFollowStats),
      follow_stats: { indices: fleet.stats.filter((s) => s.follower_cluster === req.params.cluster).map(ccrIndexStats) },
    };
  });
  // Not a CCR path (CCR's is /<index>/_ccr/info): every follower of every cluster, for the CLI.
  app.get('/_ccr/info', { config: { query: MASTER_TIMEOUT } }, async () => ({ follower_indices: (await deps.followers()).info.map(ccrInfo) }));

  // ---- auto-follow patterns ------------------------------------------------------------------
  // (Pattern names cannot start with "_", so these never meet the /<cluster>/<index>/... routes.)
  // Under a cluster prefix, that cluster is the patterns' follower cluster (CCR's local cluster).
  for (const prefix of ['', '/:cluster']) {
    app.put<{ Params: PatternParams }>(`${prefix}/_ccr/auto_follow/:name`, { config: { query: MASTER_TIMEOUT } }, async (req) => {
      checkPatternName(req.params.name);
      const what = 'an auto-follow pattern';
      const body = objectBody(req.body, what);
      checkBody(body, PATTERN_BODY, what);
      const { cluster } = req.params;
      if (cluster !== undefined) {
        checkClusterAlias(cluster, 'follower');
        if (body['follower_cluster'] !== undefined && body['follower_cluster'] !== cluster) {
          throw new ControlRequestError('illegal_argument_exception',
            `[follower_cluster] of a pattern put under /${cluster} must be [${cluster}] or left out`, 400);
        }
      }
      await autoFollow.put(req.params.name, cluster === undefined ? body : { ...body, follower_cluster: cluster });
      return ACK;
    });

    // Listed and got from the fleet's patterns (each once, with its owner), whichever daemon is asked.
    app.get<{ Params: PatternParams }>(`${prefix}/_ccr/auto_follow`, { config: { query: MASTER_TIMEOUT } }, async (req) => {
      const { cluster } = req.params;
      if (cluster !== undefined) checkClusterAlias(cluster, 'follower');
      return { patterns: (await deps.patterns()).patterns.filter((p) => cluster === undefined || p.pattern['follower_cluster'] === cluster).map(ccrPattern) };
    });
    app.get<{ Params: PatternParams }>(`${prefix}/_ccr/auto_follow/:name`, { config: { query: MASTER_TIMEOUT } }, async (req) => {
      const name = await patternOf(req, 'get', deps.patterns);
      const listed = (await deps.patterns()).patterns.find((p) => p.name === name);
      // Not listed: the coordinator answers CCR's 404 (or, for one a daemon took since, forwards the request to it).
      return { patterns: (listed ? [listed] : autoFollow.list(name)).map(ccrPattern) };
    });

    app.delete<{ Params: PatternParams }>(`${prefix}/_ccr/auto_follow/:name`, { config: { query: MASTER_TIMEOUT } }, async (req) => {
      await autoFollow.delete(await patternOf(req, 'delete', deps.patterns));
      return ACK;
    });
    app.post<{ Params: PatternParams }>(`${prefix}/_ccr/auto_follow/:name/pause`, { config: { query: MASTER_TIMEOUT } }, async (req) => {
      await autoFollow.pause(await patternOf(req, 'pause', deps.patterns));
      return ACK;
    });
    app.post<{ Params: PatternParams }>(`${prefix}/_ccr/auto_follow/:name/resume`, { config: { query: MASTER_TIMEOUT } }, async (req) => {
      await autoFollow.resume(await patternOf(req, 'resume', deps.patterns));
      return ACK;
    });
  }
}

/** Follow parameters in CCR's forms (ccr-units.ts). */
export type CcrParams = Readonly<Partial<Record<keyof FollowParams, number | string | boolean>>>;

/** `follower_indices[]` of follow info, as this API answers it. */
export interface CcrFollowerInfo extends Omit<FollowerInfo, 'parameters'> {
  /** An active follower's parameters (CCR shows none for a paused one). */
  readonly parameters?: CcrParams;
  /** ccr-follow's extension: a paused follower's parameters, those a resume without any uses. */
  readonly paused_parameters?: CcrParams;
}

/** A follower's info as CCR answers it: parameters in CCR's forms, and none for a paused follower. */
export function ccrInfo(info: ListedInfo): CcrFollowerInfo & { readonly owner?: FollowerOwner } {
  const { parameters, ...rest } = info;
  return info.status === 'active' ? { ...rest, parameters: ccrParams(parameters) } : { ...rest, paused_parameters: ccrParams(parameters) };
}

/** A follower index's stats, with the one CCR field ccr-follow cannot tell apart from another. */
function ccrIndexStats(stats: ListedStats): Record<string, unknown> {
  return {
    ...stats,
    // A read is one REST round trip: its time on the leader is not told apart from the network's.
    shards: stats.shards.map((s) => ({ ...s, total_read_remote_exec_time_millis: s.total_read_time_millis })),
  };
}

function ccrAutoFollowStats(stats: AutoFollowStatsView): Record<string, unknown> {
  // ccr-follow lists the leader's indices and never reads its cluster state: no metadata version to show.
  return { ...stats, auto_followed_clusters: stats.auto_followed_clusters.map((c) => ({ ...c, last_seen_metadata_version: 0 })) };
}

/** A pattern as CCR's get auto-follow answers it: follow parameters in CCR's forms. */
function ccrPattern(view: AutoFollowPatternView): AutoFollowPatternView {
  const params: Partial<Record<keyof FollowParams, number>> = {};
  for (const [name, value] of Object.entries(view.pattern)) {
    if (Object.hasOwn(FOLLOW_PARAMS, name) && typeof value === 'number') params[name as keyof FollowParams] = value;
  }
  const settings = view.pattern['settings'] as Readonly<Record<string, unknown>> | undefined;
  return { ...view, pattern: { ...view.pattern, ...(settings === undefined ? {} : { settings: ccrSettings(settings) }), ...ccrParams(params) } };
}

/** The follower key of a route that takes no parameters (a body, if any, must be `{}`). */
function followerOf(req: FastifyRequest<{ Params: IndexParams }>, action: string): string {
  checkFollowerPath(req.params);
  checkBody(objectBody(req.body, action), NO_BODY, action);
  return keyOf(req.params);
}

/**
 * The pattern name of a route that takes no parameters (a body, if any, must be `{}`). Under a
 * cluster prefix, a pattern of another follower cluster (as the fleet lists it) is not there.
 */
async function patternOf(req: FastifyRequest<{ Params: PatternParams }>, action: string, patterns: () => Promise<ListedPatterns>): Promise<string> {
  const { name, cluster } = req.params;
  checkPatternName(name);
  if (cluster !== undefined) checkClusterAlias(cluster, 'follower');
  checkBody(objectBody(req.body, `auto-follow ${action}`), NO_BODY, `auto-follow ${action}`);
  if (cluster !== undefined && (await patterns()).patterns.find((p) => p.name === name)?.pattern['follower_cluster'] !== cluster) {
    throw new FollowError('resource_not_found_exception', `auto-follow pattern [${name}] is missing on [${cluster}]`);
  }
  return name;
}

function keyOf(p: IndexParams): string {
  return followerKey(p.cluster, p.index);
}

/** `lost_writes_file` of a failback or switchover body: absent, or an absolute path on the daemon's host. */
function lostWritesFile(body: Record<string, unknown>, what: string): string | undefined {
  const file = body['lost_writes_file'];
  if (file !== undefined && (typeof file !== 'string' || !file.startsWith('/'))) {
    throw new ControlRequestError('illegal_argument_exception', `[lost_writes_file] in ${what} must be an absolute path on the daemon's host`, 400);
  }
  return file;
}
