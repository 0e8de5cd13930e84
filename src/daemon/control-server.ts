/**
 * The control HTTP server: the status page, `/metrics`, and two APIs mounted from `api/`:
 * Elasticsearch CCR's (`api/ccr.ts`) and OpenSearch's replication plugin's
 * (`api/opensearch-replication.ts`). A follower index is named by its cluster alias and index:
 * `PUT /<follower_cluster>/<follower_index>/_ccr/follow`. Bound to loopback by default (see
 * config.ts). Errors answer `{error: {root_cause, type, reason}, status}` as both APIs document.
 *
 * What reaches a handler has been checked in this order, each step refusing with a 4xx and never
 * changing anything: the bearer token when one is configured (control-auth.ts, 401), only the
 * query parameters the route documents and the common ones (api/common-options.ts), in their
 * forms (400), the body's size (413), its
 * Content-Type (415) and JSON syntax (400), then the
 * path parameters and the body's shape (control-input.ts, 400). Only then do the follow manager and
 * the auto-follow coordinator see the request, and they refuse bad values before they act.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AutoFollowCoordinator } from '../autofollow/auto-follow-coordinator.js';
import type { MetadataCoordinator } from '../cluster-metadata/metadata-coordinator.js';
import { FollowError } from '../follow/follow-errors.js';
import type { FollowManager } from '../follow/follow-manager.js';
import type { Logger } from '../util/logger.js';
import { ApiError, errorBody } from './api/api-error.js';
import { answerOptions, COMMON_QUERY, renderAnswer, type AnswerOptions } from './api/common-options.js';
import { mountCcrApi } from './api/ccr.js';
import { mountClusterMetadataApi } from './api/cluster-metadata.js';
import { mountReplicationApi } from './api/opensearch-replication.js';
import { ControlAuth, refusalReason } from './control-auth.js';
import { checkQuery, ControlRequestError, shown, type QuerySpec } from './control-input.js';
import { buildMetrics, METRICS_CONTENT_TYPE } from './metrics.js';
import type { FollowerHistory } from './follower-history.js';
import { registerHistoryRoute } from './history-api.js';
import { registerPromoteManyRoute, type PromoteMany } from './promote-many-api.js';
import { STATUS_PAGE_HTML } from './status-page.js';
import { type Fleet, LOCAL_FOLLOWERS_PATH } from './fleet.js';
import { ANSWERED_BY_HEADER, FORWARDED_BY_HEADER, FORWARDED_HEADER, type PeerSend } from './peer-client.js';
import type { RunningDaemon } from '../util/ownership.js';
import type { FleetFollowers, ListedPatterns } from './api/ccr.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The query parameters the route documents (none when absent). */
    query?: QuerySpec;
  }
}

export interface ControlServerDeps {
  readonly manager: FollowManager;
  readonly autoFollow: AutoFollowCoordinator;
  readonly logger: Logger;
  readonly version: string;
  /** When set, every request but the status page's HTML needs `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** `POST /_ccr/promote` (promote-many-api.ts); without it the route does not exist. */
  readonly promoteMany?: PromoteMany;
  /** With several daemons: `POST /_ccr/promote` from a client, over the whole fleet (fleet-promote.ts). */
  readonly promoteManyAcrossFleet?: PromoteMany;
  /** `GET /_status/history` (history-api.ts); without it the route does not exist. */
  readonly history?: FollowerHistory;
  /** `/_ccr/cluster_metadata` (api/cluster-metadata.ts); without it the routes do not exist. */
  readonly metadata?: MetadataCoordinator;
  /**
   * The daemons sharing the state (fleet.ts): `/_fleet/daemons`, every follower once in stats and
   * info, and requests about a follower or pattern another daemon runs forwarded to it (`send`).
   * Without it the daemon answers for itself alone.
   */
  readonly fleet?: Fleet;
  readonly send?: PeerSend;
}

/** How long the daemon that runs a resource has to answer a forwarded request (a promotion reads every shard). */
const FORWARD_TIMEOUT_MS = 120_000;

/**
 * Bodies are a few hundred bytes (a follow request with every parameter is under 1 KiB); 64 KiB
 * leaves room for long auto-follow pattern lists while a client cannot make the daemon buffer much.
 */
export const CONTROL_BODY_LIMIT = 64 * 1024;
/**
 * A follower index name is at most 255 bytes, 765 characters percent-encoded: longer path segments
 * must still reach the name check (a 400 naming the rule) rather than fall through to a 404.
 */
const MAX_PARAM_LENGTH = 16 * 1024;
/** How much of a body over CONTROL_BODY_LIMIT is read and thrown away after the 413 (see discardBody). */
const DRAIN_LIMIT = 4 * 1024 * 1024;
/** Time a client has to send its whole request (not to get the answer): a stalled client is cut off. */
const REQUEST_TIMEOUT_MS = 30_000;

export function buildControlServer(deps: ControlServerDeps): FastifyInstance {
  const { manager, autoFollow } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: CONTROL_BODY_LIMIT,
    requestTimeout: REQUEST_TIMEOUT_MS,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Malformed percent-encoding and the like, found by the router before any hook runs: answered
    // in the API's error format rather than fastify's.
    frameworkErrors: (err, _req, reply) => sendError(reply, err, deps.logger),
    clientErrorHandler,
  });

  // JSON only: fastify's text/plain parser would hand a string to handlers that expect an object,
  // and anything else is answered 415 by fastify. An empty body is common from curl and from our
  // CLI (a POST without parameters): it reads as {}.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      done(new ControlRequestError('illegal_argument_exception', `unsupported charset [${shown(charset)}]: the control API reads UTF-8 JSON`, 415), undefined);
      return;
    }
    const text = String(body).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new ControlRequestError('illegal_argument_exception', `request body is not valid JSON: ${shown((err as Error).message)}`, 400), undefined);
    }
  });

  app.setErrorHandler(async (err, req, reply) => {
    if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') await discardBody(reply, DRAIN_LIMIT);
    // About a follower or pattern another daemon runs: that daemon answers. A request that was
    // itself forwarded is never forwarded again, so no loop can form (it gets the 409 naming the owner).
    const { runBy, lookUp } = err as { runBy?: RunningDaemon; lookUp?: () => Promise<RunningDaemon | 'unowned' | 'unknown'> };
    const forwarded = req.headers[FORWARDED_HEADER] !== undefined;
    const mayForward = deps.fleet !== undefined && deps.send !== undefined && !forwarded;
    if (forwarded && runBy === undefined && lookUp !== undefined) {
      // Forwarded here by a daemon whose view was newer than this one's last scan: name the owner as stored now.
      const now = await lookUp().catch(() => 'unknown' as const);
      if (now !== 'unknown' && now !== 'unowned') {
        return sendError(reply, new ApiError('illegal_state_exception', `${req.method} ${req.url.split('?')[0]} is about a resource run by ${now.description}, `
          + 'not by this daemon; a forwarded request is not forwarded again', 409), deps.logger);
      }
    }
    if (mayForward && (runBy?.control !== undefined || lookUp !== undefined)) {
      // Who holds the lease now, read from its document: the last scan may be a renewal period old,
      // and the daemon it names may have handed the follower over since (that daemon would answer
      // a forwarded request with "not run here", never forwarding it on).
      const now = lookUp ? await lookUp().catch((e: unknown) => {
        deps.logger.warn(`cannot read who runs what ${req.method} ${req.url.split('?')[0]} is about: ${(e as Error).message}`);
        return 'unknown' as const;
      }) : 'unknown';
      if (now === 'unowned') {
        const reason = `${req.method} ${req.url.split('?')[0]} is about a follower no daemon runs at this moment (handed over, starting, or its daemon `
          + 'died and another takes it within lease_timeout): nothing was applied; try again in a few seconds';
        return sendError(reply, new ApiError('cluster_unavailable_exception', reason, 503), deps.logger);
      }
      const target = now === 'unknown' ? runBy : now;
      if (target?.control !== undefined) return forward(req, reply, target, deps);
    }
    return sendError(reply, err, deps.logger);
  });
  // Node hands CONNECT (a proxy tunnel) to this event instead of the router, and with no listener
  // just drops the connection: answer it like any other method the API does not have.
  app.server.on('connect', (_req: unknown, socket: Duplex) => {
    const body = JSON.stringify(errorBody('illegal_argument_exception', 'CONNECT is not supported: this is not a proxy', 405));
    endSocket(socket, 405, body);
  });

  // Every route's method and path, so a known path asked with the wrong method gets 405 naming the
  // right ones (as ES answers) instead of a 404 that suggests the path is wrong.
  const routes: { method: string; path: RegExp }[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, path: routePattern(route.url ?? route.path) });
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = [...new Set(routes.filter((r) => r.path.test(path)).map((r) => r.method))];
    if (allowed.length > 0 && !allowed.includes(req.method)) {
      void reply.code(405).header('allow', allowed.join(', ')).send(errorBody('illegal_argument_exception',
        `Incorrect HTTP method for uri [${shown(path)}] and method [${shown(req.method)}], allowed: [${allowed.join(', ')}]`, 405));
      return;
    }
    void reply.code(404).send(errorBody('resource_not_found_exception', `no route for ${shown(req.method)} ${shown(path)}`, 404));
  });

  const auth = deps.token === undefined ? undefined : new ControlAuth(deps.token, deps.logger);
  /** The common options of each request that asked for any (checked with its query). */
  const answerOptionsOf = new WeakMap<FastifyRequest, AnswerOptions>();
  // onRequest: before the body is read, so an unauthenticated client cannot make us buffer it.
  app.addHook('onRequest', async (req, reply) => {
    if (auth && !isStatusPageRequest(req)) {
      const refusal = auth.check(req.headers.authorization);
      if (refusal) {
        auth.logRefusal(refusal, { method: req.method, url: req.url, remoteAddress: req.socket.remoteAddress });
        // Of an unauthenticated client, no more than a body the API would accept is read.
        await discardBody(reply, CONTROL_BODY_LIMIT);
        return reply.code(401).header('www-authenticate', 'Bearer realm="ccr-follow"')
          .send(errorBody('security_exception', refusalReason(refusal), 401));
      }
    }
    if (!req.is404) {
      const given = checkQuery(req.query, req.url.split('?')[0]!, { ...COMMON_QUERY, ...req.routeOptions.config.query });
      const options = answerOptions(given);
      if (options) answerOptionsOf.set(req, options);
    }
    return undefined;
  });

  // Who answered: with several daemons, a change was applied by the daemon this names (a forwarded
  // answer keeps the name the daemon that applied it gave). Not told to a client the token refused,
  // nor with the status page's HTML, which is served without one: the host is not theirs to learn.
  const answeredBy = deps.fleet ? `${deps.fleet.self.id} on ${deps.fleet.self.host}` : undefined;
  // `?pretty`, `?human`, `?filter_path`, `?format=yaml` on every JSON answer, errors included.
  app.addHook('onSend', async (req, reply, payload) => {
    if (answeredBy !== undefined && reply.statusCode !== 401 && !isStatusPageRequest(req) && !reply.hasHeader(ANSWERED_BY_HEADER)) {
      void reply.header(ANSWERED_BY_HEADER, answeredBy);
    }
    const options = answerOptionsOf.get(req);
    const type = String(reply.getHeader('content-type') ?? '');
    if (!options || typeof payload !== 'string' || !type.startsWith('application/json')) return payload;
    if (options.yaml) void reply.header('content-type', 'application/yaml; charset=utf-8');
    return renderAnswer(JSON.parse(payload), options);
  });

  // JSON for API clients (the CLI, curl -H 'Accept: application/json'), the status page for
  // browsers. The page is static (no data: it fetches that with the token, see status-page.ts),
  // so it is served without one: a browser cannot add an Authorization header to a page load.
  app.get('/', async (req, reply) => {
    if (prefersHtml(req.headers.accept)) return reply.type('text/html; charset=utf-8').header('referrer-policy', 'no-referrer').send(STATUS_PAGE_HTML);
    return { name: 'ccr-follow', version: deps.version, tagline: 'cross-cluster replication over REST' };
  });

  const metrics = buildMetrics({
    followers: () => manager.stats(), autoFollow: () => autoFollow.stats(), ...(deps.metadata ? { metadata: () => deps.metadata!.list() } : {}),
    ...(deps.fleet ? { fleet: () => deps.fleet!.gauges() } : {}),
  });
  app.get('/metrics', async (_req, reply) => reply.type(METRICS_CONTENT_TYPE).send(await metrics.scrape()));

  const followers = async (): Promise<FleetFollowers> => (deps.fleet ? deps.fleet.followers() : { stats: manager.stats(), info: manager.info() });
  const patterns = async (): Promise<ListedPatterns> => (deps.fleet ? deps.fleet.patterns() : { patterns: autoFollow.list(), autoFollowStats: autoFollow.stats() });
  const followersAndPatterns = async (): Promise<FleetFollowers & ListedPatterns> => (deps.fleet
    ? deps.fleet.followersAndPatterns() : { ...(await followers()), ...(await patterns()) });
  mountCcrApi(app, { manager, autoFollow, followers, patterns, followersAndPatterns });
  mountReplicationApi(app, { manager, autoFollow, followers, patterns, followersAndPatterns });
  if (deps.fleet) {
    const fleet = deps.fleet;
    app.get('/_fleet/daemons', async () => ({ daemons: fleet.daemons() }));
    // What this daemon runs itself: what another daemon asks when it lists the fleet's followers.
    app.get(LOCAL_FOLLOWERS_PATH, async () => fleet.local());
  }

  if (deps.promoteMany) registerPromoteManyRoute(app, deps.promoteMany, deps.promoteManyAcrossFleet);
  if (deps.history) registerHistoryRoute(app, deps.history);
  if (deps.metadata) mountClusterMetadataApi(app, deps.metadata);

  return app;
}

/**
 * Sends a request about a resource `runBy` runs to that daemon and answers with its answer. The
 * peer request carries the body, the fleet's own token and the forwarded mark, nothing of the
 * client's (peer-client.ts). When the owner cannot be reached nothing was applied: 503, saying so.
 */
async function forward(req: FastifyRequest, reply: FastifyReply, runBy: RunningDaemon, deps: ControlServerDeps): Promise<FastifyReply> {
  const self = deps.fleet!.self;
  try {
    const answer = await deps.send!(runBy.control!, {
      method: req.method, path: req.url, from: self.id, timeoutMs: FORWARD_TIMEOUT_MS, ...(req.body === undefined ? {} : { body: req.body }),
      ...(deps.token === undefined ? {} : { token: deps.token }),
    });
    void reply.code(answer.status).header(ANSWERED_BY_HEADER, answer.answeredBy ?? runBy.id).header(FORWARDED_BY_HEADER, `${self.id} on ${self.host}`);
    if (answer.contentType !== undefined) void reply.type(answer.contentType);
    deps.logger.debug(`forwarded ${req.method} ${req.url.split('?')[0]} to ${runBy.description}: ${answer.status}`);
    return reply.send(answer.text);
  } catch (err) {
    // Refused before a byte was sent: certainly not applied. Cut off or timed out after sending: it may have been.
    const notSent = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH'].includes((err as { code?: string }).code ?? '');
    const outcome = notSent ? 'nothing was applied; try again' : 'whether it was applied is unknown: check with stats before repeating it';
    const reason = `${req.method} ${req.url.split('?')[0]} is about a resource run by ${runBy.description}, which did not answer `
      + `(${(err as Error).message}): ${outcome}, once that daemon answers or its lease has moved (lease_timeout)`;
    return sendError(reply, new ApiError('cluster_unavailable_exception', reason, 503), deps.logger);
  }
}

/** Only a browser asks for text/html before (or instead of) JSON. */
function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const html = accept.indexOf('text/html');
  const json = accept.indexOf('application/json');
  return html >= 0 && (json < 0 || html < json);
}

/** A browser loading the status page: it gets the static HTML, which carries no data. */
function isStatusPageRequest(req: FastifyRequest): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && req.url === '/' && prefersHtml(req.headers.accept);
}

/** `/:cluster/:index/_ccr/stats` → a RegExp over raw request paths. */
function routePattern(url: string): RegExp {
  const parts = url.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('/')}$`);
}

/**
 * Fastify's own refusals, by code, with a message that says what to do. Any other fastify error
 * with a 4xx status keeps its message.
 */
const FASTIFY_ERRORS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: `request body too large: the control API takes at most ${CONTROL_BODY_LIMIT / 1024}kb`,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported Content-Type: send the body as JSON with `Content-Type: application/json`',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the request body does not match its Content-Length',
  FST_ERR_BAD_URL: 'malformed URL: invalid percent-encoding',
  FST_ERR_MAX_PARAM_LENGTH: 'a path segment is too long',
};

/**
 * Reads and throws away the rest of a refused request's body, up to `limit` bytes, before the
 * answer goes out. Node ends a connection as soon as its answer is sent when the client asked for
 * `Connection: close` (fastify asks for it too after a refused body), and a client still sending
 * then gets a reset instead of the answer. Past `limit`, or with a declared length past it, the
 * connection is closed instead, so nobody can make the daemon read without end.
 */
async function discardBody(reply: FastifyReply, limit: number): Promise<void> {
  const raw = reply.request.raw;
  const declared = raw.headers['content-length'];
  const hasBody = (declared !== undefined && declared !== '0') || raw.headers['transfer-encoding'] !== undefined;
  if (Number(declared) > limit) {
    reply.header('connection', 'close');
    return;
  }
  const drained = !hasBody || raw.complete || await new Promise<boolean>((resolve) => {
    let read = 0;
    const finish = (whole: boolean): void => {
      raw.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onClose);
      resolve(whole);
    };
    const onData = (chunk: Buffer): void => {
      read += chunk.length;
      if (read > limit) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onClose = (): void => finish(false);
    raw.on('data', onData).once('end', onEnd).once('close', onClose).once('error', onClose);
    raw.resume();
  });
  if (drained) reply.removeHeader('connection');
  else reply.header('connection', 'close');
}

/**
 * Requests Node's HTTP parser cannot read (an unknown method, a malformed header, headers over
 * 16 KiB, a client too slow to send its request), answered in the API's error format on the raw
 * socket, which is then closed: nothing else on that connection can be trusted.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'the request was not received in time']
    : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'request headers too large']
      : [400, `malformed HTTP request${err.code !== undefined ? ` (${err.code})` : ''}`];
  endSocket(socket, status, JSON.stringify(errorBody('illegal_argument_exception', reason, status)));
}

/** Writes a whole JSON answer on a raw socket and closes it. */
function endSocket(socket: Duplex, status: number, body: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  socket.end(head + body, () => socket.destroy());
}

function sendError(reply: FastifyReply, err: unknown, logger: Logger): FastifyReply {
  if (err instanceof FollowError || err instanceof ControlRequestError || err instanceof ApiError) {
    return reply.code(err.status).send(errorBody(err.type, err.message, err.status));
  }
  const { statusCode, code } = err as { statusCode?: number; code?: string };
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const reason = (code !== undefined && Object.hasOwn(FASTIFY_ERRORS, code) ? FASTIFY_ERRORS[code] : undefined) ?? (err as Error).message;
    return reply.code(statusCode).send(errorBody('illegal_argument_exception', reason, statusCode));
  }
  logger.error(`control API request failed: ${(err as Error).message}`);
  return reply.code(500).send(errorBody('exception', (err as Error).message, 500));
}
