/**
 * `POST /_ccr/promote`: the promotion of many followers in one request (src/follow/promote-many.ts),
 * wired to the parts it needs: the follow manager, the auto-follow patterns (paused first, and
 * their data streams), the promotion records and the cluster clients.
 *
 * Body: `{"all": true}`, `{"match": "<glob>"}` or `{"followers": ["<cluster>/<index>", ...]}` (what
 * one daemon of a fleet asks another, fleet-promote.ts), optionally `"leader": "<cluster alias>"`,
 * `"dry_run": true`, `"concurrency": <1..64>`. The answer says per index what happened; its
 * status is 200 whatever the outcome, with `succeeded` false when any index or stream failed (the
 * CLI exits 1 then), since a partial promotion is a result the operator must see, not an error.
 */
import type { FastifyInstance } from 'fastify';
import type { AutoFollowCoordinator } from '../autofollow/auto-follow-coordinator.js';
import { ClusterRegistry, UnknownClusterError } from '../cluster/cluster-registry.js';
import { FollowError } from '../follow/follow-errors.js';
import type { FollowManager } from '../follow/follow-manager.js';
import { promoteMany, type PromoteManyAnswer, type PromoteManyRequest } from '../follow/promote-many.js';
import type { StateStore } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import type { MetadataCoordinator } from '../cluster-metadata/metadata-coordinator.js';
import { checkBody, checkClusterAlias, checkFollowerPath, ControlRequestError, objectBody, type BodySpec } from './control-input.js';
import { FORWARDED_HEADER } from './peer-client.js';

export type PromoteMany = (req: PromoteManyRequest) => Promise<PromoteManyAnswer>;

const PROMOTE_MANY_BODY: BodySpec = { fields: ['all', 'match', 'followers', 'leader', 'dry_run', 'concurrency'], followParams: false };

export function promoteManyService(parts: {
  manager: FollowManager; autoFollow: AutoFollowCoordinator; state: StateStore; clusters: ClusterRegistry; logger: Logger;
  /** With it, `all` also promotes the cluster-metadata patterns of the leader (all leaders without `leader`). */
  metadata?: MetadataCoordinator;
}): PromoteMany {
  return async (req) => {
    if (req.leader !== undefined) checkLeaderAlias(parts.clusters, req.leader);
    const answer = await promoteMany(req, {
      manager: parts.manager,
      state: parts.state,
      patterns: () => parts.autoFollow.list().map((p) => ({ name: p.name, leaderCluster: String(p.pattern.remote_cluster), active: p.pattern.active })),
      pausePattern: (name) => parts.autoFollow.pause(name),
      streamFollowers: () => parts.autoFollow.list().flatMap((p) => p.stats.followed_indices
        .filter((f) => f.data_stream !== undefined && f.follower_index !== '')
        .map((f) => ({ stream: f.data_stream!, followerCluster: String(p.pattern.follower_cluster), leaderIndex: f.leader_index, followerIndex: f.follower_index }))),
      connect: (alias) => parts.clusters.client(alias),
      logger: parts.logger,
    });
    // Disaster day only: the templates are the whole cluster's, not one index's.
    if (req.all !== true || req.dryRun === true || !parts.metadata) return answer;
    const clusterMetadata = await parts.metadata.promote(req.leader === undefined ? {} : { leader: req.leader });
    return { ...answer, clusterMetadata, succeeded: answer.succeeded && clusterMetadata.every((r) => r.result === 'restored') };
  };
}

/**
 * `acrossFleet`, when given, answers a client's request for the whole fleet (fleet-promote.ts); a
 * request another daemon sent (its part of such a promotion) is this daemon's alone, never fanned out again.
 */
/** A `leader` the config does not define: refused before anything is done. */
export function checkLeaderAlias(clusters: ClusterRegistry, alias: string): void {
  if (clusters.has(alias)) return;
  const cause = new UnknownClusterError(alias, clusters.aliases);
  throw new FollowError('unknown_cluster_exception', cause.message, { cause });
}

export function registerPromoteManyRoute(app: FastifyInstance, promote: PromoteMany, acrossFleet?: PromoteMany): void {
  // Not a CCR API: CCR promotes nothing, and one follower at a time (/<cluster>/<index>/_ccr/promote).
  app.post('/_ccr/promote', async (req) => {
    const request = promoteManyRequest(req.body);
    return acrossFleet !== undefined && req.headers[FORWARDED_HEADER] === undefined ? acrossFleet(request) : promote(request);
  });
}

/** The body's shape; the values' meaning (one of all / match, the concurrency's range) is promote-many.ts's. */
function promoteManyRequest(raw: unknown): PromoteManyRequest {
  const what = 'a promotion of many';
  const body = objectBody(raw, what);
  checkBody(body, PROMOTE_MANY_BODY, what);
  const { all, match, followers, leader, dry_run: dryRun, concurrency } = body;
  for (const [name, value] of [['all', all], ['dry_run', dryRun]] as const) {
    if (value !== undefined && typeof value !== 'boolean') throw invalid(`[${name}] must be true or false`);
  }
  if (match !== undefined && (typeof match !== 'string' || match === '')) throw invalid('[match] must be a non-empty glob (* and ?)');
  if (followers !== undefined) {
    if (!Array.isArray(followers) || followers.length === 0) throw invalid('[followers] must be a non-empty list of follower indices (cluster/index)');
    for (const f of followers as unknown[]) {
      const [cluster, index, ...rest] = typeof f === 'string' ? f.split('/') : [];
      if (cluster === undefined || index === undefined || rest.length > 0) throw invalid(`[followers] must name follower indices as cluster/index, got ${JSON.stringify(f)}`);
      checkFollowerPath({ cluster, index });
    }
  }
  if (leader !== undefined) {
    if (typeof leader !== 'string') throw invalid('[leader] must be a cluster alias');
    checkClusterAlias(leader, 'leader');
  }
  if (concurrency !== undefined && typeof concurrency !== 'number') throw invalid('[concurrency] must be a number');
  return {
    ...(all === true ? { all: true } : {}),
    ...(match === undefined ? {} : { match: match as string }),
    ...(followers === undefined ? {} : { followers: followers as string[] }),
    ...(leader === undefined ? {} : { leader: leader as string }),
    ...(dryRun === true ? { dryRun: true } : {}),
    ...(concurrency === undefined ? {} : { concurrency: concurrency as number }),
  };
}

function invalid(message: string): ControlRequestError {
  return new ControlRequestError('illegal_argument_exception', message, 400);
}
