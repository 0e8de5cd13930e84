/**
 * The OpenSearch cross-cluster-replication plugin's REST API (`_plugins/_replication`), under the
 * same cluster prefix as the CCR API: `/follower/_plugins/_replication/orders/_start` starts the
 * follower index `orders` of the cluster alias `follower`, so the official OpenSearch client's
 * `replication` namespace, given `http://<daemon>/follower` as its node, drives ccr-follow. A thin
 * mapping onto the same FollowManager and AutoFollowCoordinator calls as ccr.ts: a follow started
 * through one API is seen and steered through the other. Refusals take the plugin's types and
 * statuses where it documents its own (README, "OpenSearch's replication API").
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FollowManager } from '../../follow/follow-manager.js';
import type { FollowerIndexStats } from '../../follow/index-follower.js';
import { followerKey, type FollowerKey } from '../../state/state-store.js';
import {
  checkBody, checkClusterAlias, checkFollowerPath, checkIndexName, checkPatternName, NO_BODY, objectBody, stringField, type BodySpec,
} from '../control-input.js';
import { ApiError } from './api-error.js';
import type { ApiDeps, FleetFollowers } from './ccr.js';

interface IndexParams { cluster: string; index: string }
interface ClusterParams { cluster: string }

const START_BODY: BodySpec = { fields: ['leader_alias', 'leader_index', 'use_roles', 'settings'], followParams: false };
const USE_ROLES_BODY: BodySpec = { fields: ['leader_cluster_role', 'follower_cluster_role'], followParams: false };
const UPDATE_BODY: BodySpec = { fields: ['settings'], followParams: false };
const RULE_BODY: BodySpec = { fields: ['leader_alias', 'name', 'pattern', 'use_roles'], followParams: false };
const DELETE_RULE_BODY: BodySpec = { fields: ['leader_alias', 'name'], followParams: false };

/** The plugin's status values. */
export type ReplicationStatusValue = 'BOOTSTRAPPING' | 'SYNCING' | 'PAUSED' | 'REPLICATION NOT IN PROGRESS';

const ACK = { acknowledged: true } as const;
/** The plugin's reason for a replication a user started or paused. */
const USER_INITIATED = 'User initiated';

export function mountReplicationApi(app: FastifyInstance, deps: ApiDeps): void {
  const { manager, autoFollow } = deps;
  const base = '/:cluster/_plugins/_replication';

  app.put<{ Params: IndexParams }>(`${base}/:index/_start`, async (req) => {
    checkFollowerPath(req.params);
    const what = 'a start replication request';
    const body = objectBody(req.body, what);
    checkBody(body, START_BODY, what);
    const leaderAlias = stringField(body, 'leader_alias', what, 'the alias of the leader cluster');
    const leaderIndex = stringField(body, 'leader_index', what, 'the leader index');
    checkClusterAlias(leaderAlias, 'leader');
    checkIndexName(leaderIndex, 'leader');
    checkUseRoles(body['use_roles'], what);
    const key = keyOf(req.params);
    if (manager.has(key)) {
      throw new ApiError('resource_already_exists_exception', `Cant use same index again for replication. [${key}] is already a follower index`, 400);
    }
    await manager.follow({
      leaderCluster: leaderAlias, leaderIndex, followerCluster: req.params.cluster, followerIndex: req.params.index,
      ...(body['settings'] === undefined ? {} : { settings: body['settings'] }),
    });
    return ACK;
  });

  app.post<{ Params: IndexParams }>(`${base}/:index/_pause`, async (req) => {
    const key = replicatedOf(req, manager, 'pause');
    if (manager.info(key)[0]!.status === 'paused') throw new ApiError('resource_already_exists_exception', `Index ${req.params.index} is already paused`, 400);
    await manager.pause(key);
    return ACK;
  });

  app.post<{ Params: IndexParams }>(`${base}/:index/_resume`, async (req) => {
    const key = replicatedOf(req, manager, 'resume');
    if (manager.info(key)[0]!.status === 'active') {
      throw new ApiError('resource_already_exists_exception', `Replication on Index ${req.params.index} is already running`, 400);
    }
    await manager.resume(key);
    return ACK;
  });

  // The plugin's stop ends a running or a paused replication alike: ccr-follow pauses it first
  // (checkpoints saved), then unfollows, leaving an ordinary index.
  app.post<{ Params: IndexParams }>(`${base}/:index/_stop`, async (req) => {
    const key = replicatedOf(req, manager, 'stop');
    if (manager.info(key)[0]!.status === 'active') await manager.pause(key);
    await manager.unfollow(key);
    return ACK;
  });

  app.get<{ Params: IndexParams }>(`${base}/:index/_status`, async (req) => {
    const key = replicatedOf(req, manager, 'status');
    const stats = manager.stats(key)[0]!;
    const status = replicationStatus(stats);
    return {
      status,
      reason: stats.status === 'paused' && stats.fatal_exception ? stats.fatal_exception.reason : USER_INITIATED,
      leader_alias: stats.remote_cluster,
      leader_index: stats.leader_index,
      follower_index: stats.index,
      ...(status === 'SYNCING' ? { syncing_details: syncingDetails(stats) } : {}),
    };
  });

  app.put<{ Params: IndexParams }>(`${base}/:index/_update`, async (req) => {
    checkFollowerPath(req.params);
    const what = 'an update settings request';
    const body = objectBody(req.body, what);
    checkBody(body, UPDATE_BODY, what);
    if (body['settings'] === undefined) throw new ApiError('illegal_argument_exception', `${what} needs [settings]: the index settings to change`, 400);
    const key = replicated(manager, req.params);
    await manager.updateSettings(key, body['settings']);
    return ACK;
  });

  app.post<{ Params: ClusterParams }>(`${base}/_autofollow`, async (req) => {
    checkClusterAlias(req.params.cluster, 'follower');
    const what = 'a replication rule';
    const body = objectBody(req.body, what);
    checkBody(body, RULE_BODY, what);
    const leaderAlias = stringField(body, 'leader_alias', what, 'the alias of the leader cluster');
    const name = stringField(body, 'name', what, 'the rule\'s name');
    const pattern = stringField(body, 'pattern', what, 'the leader index pattern, e.g. "logs-*"');
    checkClusterAlias(leaderAlias, 'leader');
    checkPatternName(name);
    checkUseRoles(body['use_roles'], what);
    // The plugin's rule follows each matching index under its own name, as CCR's default does.
    await autoFollow.put(name, { remote_cluster: leaderAlias, follower_cluster: req.params.cluster, leader_index_patterns: [pattern] });
    return ACK;
  });

  app.delete<{ Params: ClusterParams }>(`${base}/_autofollow`, async (req) => {
    checkClusterAlias(req.params.cluster, 'follower');
    const what = 'a delete replication rule request';
    const body = objectBody(req.body, what);
    checkBody(body, DELETE_RULE_BODY, what);
    const leaderAlias = stringField(body, 'leader_alias', what, 'the alias of the leader cluster');
    const name = stringField(body, 'name', what, 'the rule\'s name');
    checkClusterAlias(leaderAlias, 'leader');
    checkPatternName(name);
    const rule = (await deps.patterns()).patterns.find((p) => p.name === name);
    if (rule === undefined || rule.pattern['follower_cluster'] !== req.params.cluster || rule.pattern['remote_cluster'] !== leaderAlias) {
      throw new ApiError('resource_not_found_exception', `no replication rule [${name}] from [${leaderAlias}] on [${req.params.cluster}]`, 404);
    }
    await autoFollow.delete(name);
    return ACK;
  });

  app.get<{ Params: ClusterParams }>(`${base}/leader_stats`, async (req) => {
    checkClusterAlias(req.params.cluster, 'leader');
    return leaderStats(owned(await deps.followers()).filter((s) => s.remote_cluster === req.params.cluster));
  });

  app.get<{ Params: ClusterParams }>(`${base}/follower_stats`, async (req) => {
    checkClusterAlias(req.params.cluster, 'follower');
    return followerStats(owned(await deps.followers()).filter((s) => s.follower_cluster === req.params.cluster));
  });

  app.get<{ Params: ClusterParams }>(`${base}/autofollow_stats`, async (req) => {
    checkClusterAlias(req.params.cluster, 'follower');
    const fleet = await deps.patterns();
    const clusterWide = new Map<string, number>();
    for (const e of fleet.autoFollowStats.recent_auto_follow_errors) clusterWide.set(e.leader_index, (clusterWide.get(e.leader_index) ?? 0) + 1);
    const rules = fleet.patterns.filter((p) => p.pattern['follower_cluster'] === req.params.cluster).map((p) => ({
      name: p.name,
      pattern: (p.pattern['leader_index_patterns'] as string[]).join(','),
      leader_alias: String(p.pattern['remote_cluster']),
      num_success_start_replication: p.stats.number_of_successful_follow_indices,
      num_failed_start_replication: p.stats.number_of_failed_follow_indices,
      // Errors that concern the whole leader cluster are keyed by the pattern's name alone (auto-follow-stats.ts).
      num_failed_leader_calls: clusterWide.get(p.name) ?? 0,
      failed_indices: p.stats.failed_indices.map((f) => f.leader_index),
    }));
    return {
      num_success_start_replication: sum(rules.map((r) => r.num_success_start_replication)),
      num_failed_start_replication: sum(rules.map((r) => r.num_failed_start_replication)),
      num_failed_leader_calls: sum(rules.map((r) => r.num_failed_leader_calls)),
      failed_indices: rules.flatMap((r) => r.failed_indices),
      autofollow_stats: rules,
    };
  });
}

/**
 * The plugin's status of a follower: PAUSED (by a user or an error: the reason says which);
 * BOOTSTRAPPING while it starts, until the leader's checkpoints are known, or while a shard has
 * applied nothing of a leader shard that has operations (the first copy); SYNCING after that;
 * REPLICATION NOT IN PROGRESS once its follow has stopped (the daemon shutting down).
 */
export function replicationStatus(stats: FollowerIndexStats): ReplicationStatusValue {
  if (stats.status === 'paused' || stats.state === 'paused') return 'PAUSED';
  if (stats.state === 'closed') return 'REPLICATION NOT IN PROGRESS';
  const copying = stats.shards.some((s) => s.follower_global_checkpoint < 0 && s.leader_global_checkpoint >= 0);
  return stats.state === 'starting' || !stats.leader_checkpoints_seen || copying ? 'BOOTSTRAPPING' : 'SYNCING';
}

/**
 * Summed over the shards, as the plugin reports them (-1 per shard before anything): equal leader
 * and follower checkpoints mean fully synced. `seq_no` is the follower's own highest seq_no.
 */
function syncingDetails(stats: FollowerIndexStats): { leader_checkpoint: number; follower_checkpoint: number; seq_no: number } {
  return {
    leader_checkpoint: sum(stats.shards.map((s) => s.leader_global_checkpoint)),
    follower_checkpoint: sum(stats.shards.map((s) => s.follower_global_checkpoint)),
    seq_no: sum(stats.shards.map((s) => s.follower_max_seq_no ?? -1)),
  };
}

/**
 * The plugin's leader stats, of the followers reading from this cluster. ccr-follow reads the
 * leader with searches, which read Lucene: nothing comes from the translog.
 */
/** The fleet's followers some daemon runs (a follower nobody runs has no shard stats to sum). */
function owned(followers: FleetFollowers): FollowerIndexStats[] {
  return followers.stats.filter((s) => s.state !== 'unowned') as FollowerIndexStats[];
}

function leaderStats(followers: readonly FollowerIndexStats[]): Record<string, unknown> {
  const perIndex = (list: readonly FollowerIndexStats[]): Record<string, number> => {
    const shards = list.flatMap((f) => f.shards);
    const read = sum(shards.map((s) => s.operations_read));
    const readTime = sum(shards.map((s) => s.total_read_time_millis));
    return {
      operations_read: read, translog_size_bytes: 0, operations_read_lucene: read, operations_read_translog: 0,
      total_read_time_lucene_millis: readTime, total_read_time_translog_millis: 0, bytes_read: sum(shards.map((s) => s.bytes_read)),
    };
  };
  const byLeader = new Map<string, FollowerIndexStats[]>();
  for (const f of followers) byLeader.set(f.leader_index, [...(byLeader.get(f.leader_index) ?? []), f]);
  return {
    num_replicated_indices: byLeader.size,
    ...perIndex(followers),
    index_stats: Object.fromEntries([...byLeader].map(([leader, list]) => [leader, perIndex(list)])),
  };
}

/**
 * The plugin's follower stats. Throttled requests are not told apart from other retried ones
 * (both count as failed): they show as 0.
 */
function followerStats(followers: readonly FollowerIndexStats[]): Record<string, unknown> {
  const perIndex = (f: FollowerIndexStats): Record<string, number> => ({
    operations_written: sum(f.shards.map((s) => s.operations_written)),
    operations_read: sum(f.shards.map((s) => s.operations_read)),
    failed_read_requests: sum(f.shards.map((s) => s.failed_read_requests)),
    throttled_read_requests: 0,
    failed_write_requests: sum(f.shards.map((s) => s.failed_write_requests)),
    throttled_write_requests: 0,
    follower_checkpoint: sum(f.shards.map((s) => s.follower_global_checkpoint)),
    leader_checkpoint: sum(f.shards.map((s) => s.leader_global_checkpoint)),
    total_write_time_millis: sum(f.shards.map((s) => s.total_write_time_millis)),
  });
  const statuses = followers.map((f) => ({ status: replicationStatus(f), failed: f.fatal_exception !== undefined }));
  const indices = followers.map(perIndex);
  const total = (field: string): number => sum(indices.map((i) => i[field] ?? 0));
  return {
    num_syncing_indices: statuses.filter((s) => s.status === 'SYNCING').length,
    num_bootstrapping_indices: statuses.filter((s) => s.status === 'BOOTSTRAPPING').length,
    num_paused_indices: statuses.filter((s) => s.status === 'PAUSED' && !s.failed).length,
    num_failed_indices: statuses.filter((s) => s.failed).length,
    num_shard_tasks: sum(followers.map((f) => f.shards.length)),
    num_index_tasks: followers.filter((f) => f.state === 'active' || f.state === 'starting').length,
    operations_written: total('operations_written'),
    operations_read: total('operations_read'),
    failed_read_requests: total('failed_read_requests'),
    throttled_read_requests: 0,
    failed_write_requests: total('failed_write_requests'),
    throttled_write_requests: 0,
    follower_checkpoint: total('follower_checkpoint'),
    leader_checkpoint: total('leader_checkpoint'),
    total_write_time_millis: total('total_write_time_millis'),
    index_stats: Object.fromEntries(followers.map((f, i) => [f.index, indices[i]])),
  };
}

/**
 * The key of a follower index the request names, refused as the plugin refuses an index it does
 * not replicate (400). A body, if any, must be `{}`.
 */
function replicatedOf(req: FastifyRequest<{ Params: IndexParams }>, manager: FollowManager, action: string): FollowerKey {
  checkFollowerPath(req.params);
  checkBody(objectBody(req.body, `a ${action} replication request`), NO_BODY, `a ${action} replication request`);
  return replicated(manager, req.params);
}

function replicated(manager: FollowManager, params: IndexParams): FollowerKey {
  const key = keyOf(params);
  if (!manager.has(key)) throw new ApiError('illegal_argument_exception', `No replication in progress for index:${params.index}`, 400);
  return key;
}

/**
 * `use_roles`: the security plugin's roles the replication runs as. Accepted and not used:
 * ccr-follow reads and writes as the users configured for each cluster alias.
 */
function checkUseRoles(value: unknown, what: string): void {
  if (value === undefined) return;
  const roles = objectBody(value, `[use_roles] of ${what}`);
  checkBody(roles, USE_ROLES_BODY, `[use_roles] of ${what}`);
  for (const field of USE_ROLES_BODY.fields) if (roles[field] !== undefined) stringField(roles, field, `[use_roles] of ${what}`, 'a role name');
}

function keyOf(p: IndexParams): FollowerKey {
  return followerKey(p.cluster, p.index);
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
