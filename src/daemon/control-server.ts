/**
 * The control HTTP API, mirroring Elasticsearch CCR's REST API. A follower index is named by its
 * cluster alias and index: `PUT /<follower_cluster>/<follower_index>/_ccr/follow`. Bound to
 * loopback by default (see config.ts). Errors answer `{error: {type, reason}, status}` as ES does.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { AutoFollowCoordinator } from '../autofollow/auto-follow-coordinator.js';
import { FollowError } from '../follow/follow-errors.js';
import type { FollowManager } from '../follow/follow-manager.js';
import { followerKey } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import { buildMetrics, METRICS_CONTENT_TYPE } from './metrics.js';
import { STATUS_PAGE_HTML } from './status-page.js';

interface IndexParams { cluster: string; index: string }
interface PatternParams { name: string }
type Body = Record<string, unknown> | undefined;

export interface ControlServerDeps {
  readonly manager: FollowManager;
  readonly autoFollow: AutoFollowCoordinator;
  readonly logger: Logger;
  readonly version: string;
}

export function buildControlServer(deps: ControlServerDeps): FastifyInstance {
  const { manager, autoFollow } = deps;
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  // An empty POST body is common from curl and from our CLI: treat it as {}.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body).trim();
    if (text === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new FollowError('illegal_argument_exception', 'request body is not valid JSON'), undefined);
    }
  });

  app.setErrorHandler((err, _req, reply) => sendError(reply, err, deps.logger));
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { type: 'resource_not_found_exception', reason: `no route for ${req.method} ${req.url}` }, status: 404 });
  });

  // JSON for API clients (the CLI, curl -H 'Accept: application/json'), the status page for browsers.
  app.get('/', async (req, reply) => {
    if (prefersHtml(req.headers.accept)) return reply.type('text/html; charset=utf-8').send(STATUS_PAGE_HTML);
    return { name: 'ccr-follow', version: deps.version, tagline: 'cross-cluster replication over REST' };
  });

  const metrics = buildMetrics({ followers: () => manager.stats(), autoFollow: () => autoFollow.stats() });
  app.get('/metrics', async (_req, reply) => reply.type(METRICS_CONTENT_TYPE).send(await metrics.scrape()));

  app.put<{ Params: IndexParams; Body: Body }>('/:cluster/:index/_ccr/follow', async (req) => {
    const { remote_cluster, leader_index, ...params } = req.body ?? {};
    if (typeof remote_cluster !== 'string' || typeof leader_index !== 'string') {
      throw new FollowError('illegal_argument_exception', 'the body needs "remote_cluster" and "leader_index" strings');
    }
    return manager.follow({
      leaderCluster: remote_cluster, leaderIndex: leader_index,
      followerCluster: req.params.cluster, followerIndex: req.params.index, params,
    });
  });

  app.post<{ Params: IndexParams }>('/:cluster/:index/_ccr/pause_follow', async (req) => {
    await manager.pause(keyOf(req.params));
    return { acknowledged: true };
  });

  app.post<{ Params: IndexParams; Body: Body }>('/:cluster/:index/_ccr/resume_follow', async (req) => {
    await manager.resume(keyOf(req.params), req.body ?? {});
    return { acknowledged: true };
  });

  app.post<{ Params: IndexParams }>('/:cluster/:index/_ccr/unfollow', async (req) => {
    await manager.unfollow(keyOf(req.params));
    return { acknowledged: true };
  });

  app.get<{ Params: IndexParams }>('/:cluster/:index/_ccr/stats', async (req) => ({ indices: manager.stats(keyOf(req.params)) }));
  app.get('/_ccr/stats', async () => ({ auto_follow_stats: autoFollow.stats(), follow_stats: { indices: manager.stats() } }));
  app.get<{ Params: IndexParams }>('/:cluster/:index/_ccr/info', async (req) => ({ follower_indices: manager.info(keyOf(req.params)) }));
  app.get('/_ccr/info', async () => ({ follower_indices: manager.info() }));

  // ---- auto-follow patterns: CCR's /_ccr/auto_follow API ---------------------------------------
  // (Pattern names cannot start with "_", so these never meet the /<cluster>/<index>/... routes.)

  app.put<{ Params: PatternParams; Body: Body }>('/_ccr/auto_follow/:name', async (req) => {
    await autoFollow.put(req.params.name, req.body ?? {});
    return { acknowledged: true };
  });

  app.get('/_ccr/auto_follow', async () => ({ patterns: autoFollow.list() }));
  app.get<{ Params: PatternParams }>('/_ccr/auto_follow/:name', async (req) => ({ patterns: autoFollow.list(req.params.name) }));

  app.delete<{ Params: PatternParams }>('/_ccr/auto_follow/:name', async (req) => {
    await autoFollow.delete(req.params.name);
    return { acknowledged: true };
  });

  app.post<{ Params: PatternParams }>('/_ccr/auto_follow/:name/pause', async (req) => {
    await autoFollow.pause(req.params.name);
    return { acknowledged: true };
  });

  app.post<{ Params: PatternParams }>('/_ccr/auto_follow/:name/resume', async (req) => {
    await autoFollow.resume(req.params.name);
    return { acknowledged: true };
  });

  return app;
}

/** Only a browser asks for text/html before (or instead of) JSON. */
function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const html = accept.indexOf('text/html');
  const json = accept.indexOf('application/json');
  return html >= 0 && (json < 0 || html < json);
}

function keyOf(p: IndexParams): string {
  return followerKey(p.cluster, p.index);
}

function sendError(reply: FastifyReply, err: unknown, logger: Logger): FastifyReply {
  if (err instanceof FollowError) {
    return reply.code(err.status).send({ error: { type: err.type, reason: err.message }, status: err.status });
  }
  const fastifyStatus = (err as { statusCode?: number }).statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    return reply.code(fastifyStatus).send({ error: { type: 'illegal_argument_exception', reason: (err as Error).message }, status: fastifyStatus });
  }
  logger.error(`control API request failed: ${(err as Error).message}`);
  return reply.code(500).send({ error: { type: 'exception', reason: (err as Error).message }, status: 500 });
}
