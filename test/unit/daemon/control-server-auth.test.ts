/**
 * The control API's token check and its input validation, through fastify's
 * `inject` against the real control server, the real FollowManager and AutoFollowCoordinator and a
 * real FileStateStore in a temp dir. Only the cluster connection is not real: a registry whose
 * connections go to a closed port and are counted, so a test sees whether a request got past the
 * door. Malformed requests must get their 4xx, reach no cluster and leave the state dir as it was.
 */
import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { AutoFollowCoordinator } from '../../../src/autofollow/auto-follow-coordinator.js';
import { ControlApiError, ControlClient, type HttpSend } from '../../../src/cli/control-client.js';
import { controlToken, CONTROL_TOKEN_ENV, controlUrl } from '../../../src/cli/cli-config.js';
import { ClusterClient } from '../../../src/cluster/cluster-client.js';
import type { ClusterConfig } from '../../../src/cluster/cluster-config.js';
import { ClusterRegistry } from '../../../src/cluster/cluster-registry.js';
import { findFreePorts } from '../../../src/local-cluster/index.js';
import { defaultConfig, parseConfig } from '../../../src/daemon/config.js';
import { ConfigError } from '../../../src/daemon/config-error.js';
import { checkControlBinding, ControlAuth, isLoopbackHost } from '../../../src/daemon/control-auth.js';
import { buildControlServer, CONTROL_BODY_LIMIT } from '../../../src/daemon/control-server.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { promoteManyService } from '../../../src/daemon/promote-many-api.js';
import { FollowManager } from '../../../src/follow/follow-manager.js';
import { FileStateStore } from '../../../src/state/file-state-store.js';
import { memoryLogger, silentLogger, type MemoryLogger } from '../../../src/util/logger.js';
import { SecretRegistry } from '../../../src/util/secrets.js';

const TOKEN = 'tok-3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e';
const WRONG = 'tok-0000000000000000000000000000000x';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };

/** Every file under `dir` with its content, so "unchanged" means byte for byte. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = entry.isFile() ? await readFile(file, 'utf8') : '<dir>';
  }
  return out;
}

interface Harness {
  app: FastifyInstance;
  stateDir: string;
  logger: MemoryLogger;
  manager: FollowManager;
  autoFollow: AutoFollowCoordinator;
  /** Connections the follow manager or the coordinator asked for: a request got past the door. */
  connects: string[];
  close(): Promise<void>;
}

async function harness(token: string | undefined): Promise<Harness> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'ccr-control-auth-'));
  const state = await FileStateStore.open(stateDir);
  const [closedPort] = await findFreePorts(1);
  const cluster = (alias: string): ClusterConfig => ({ alias, urls: [`http://127.0.0.1:${closedPort}`], auth: { type: 'none' }, requestTimeoutMs: 2_000 });
  const connects: string[] = [];
  const clusters = new ClusterRegistry(new Map([['leader', cluster('leader')], ['follower', cluster('follower')]]), (config, signal) => {
    connects.push(config.alias);
    return ClusterClient.connect(config, signal);
  });
  const logger = memoryLogger();
  const manager = new FollowManager({ clusters, state, logger });
  const autoFollow = new AutoFollowCoordinator({ clusters, state, followers: manager, logger, pollIntervalMs: 60_000 });
  const promoteMany = promoteManyService({ manager, autoFollow, state, clusters, logger });
  const app = buildControlServer({ manager, autoFollow, logger, version: '9.9.9', token, promoteMany });
  await app.ready();
  return {
    app, stateDir, logger, manager, autoFollow, connects,
    async close() {
      await app.close();
      await autoFollow.close();
      await manager.close();
      await clusters.close();
      await state.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** One request of each route, well-formed, as an authenticated client would send it. */
const ROUTES: readonly { method: 'GET' | 'PUT' | 'POST' | 'DELETE'; url: string; body?: unknown }[] = [
  { method: 'GET', url: '/' },
  { method: 'GET', url: '/metrics' },
  { method: 'GET', url: '/_ccr/stats' },
  { method: 'GET', url: '/_ccr/info' },
  { method: 'GET', url: '/_ccr/auto_follow' },
  { method: 'GET', url: '/_ccr/auto_follow/daily' },
  { method: 'PUT', url: '/_ccr/auto_follow/daily', body: { remote_cluster: 'leader', leader_index_patterns: ['logs-*'] } },
  { method: 'DELETE', url: '/_ccr/auto_follow/daily' },
  { method: 'POST', url: '/_ccr/auto_follow/daily/pause' },
  { method: 'POST', url: '/_ccr/auto_follow/daily/resume' },
  { method: 'PUT', url: '/follower/orders/_ccr/follow', body: { remote_cluster: 'leader', leader_index: 'orders' } },
  { method: 'POST', url: '/follower/orders/_ccr/pause_follow' },
  { method: 'POST', url: '/follower/orders/_ccr/resume_follow', body: {} },
  { method: 'POST', url: '/follower/orders/_ccr/unfollow' },
  { method: 'POST', url: '/follower/orders/_ccr/promote' },
  { method: 'POST', url: '/_ccr/promote', body: { all: true } },
  { method: 'POST', url: '/leader/orders/_ccr/failback', body: { remote_cluster: 'follower', leader_index: 'orders', dry_run: true } },
  { method: 'POST', url: '/follower/orders/_ccr/switchover', body: { remote_cluster: 'leader', leader_index: 'orders' } },
  { method: 'GET', url: '/follower/orders/_ccr/stats' },
  { method: 'GET', url: '/follower/orders/_ccr/info' },
  { method: 'GET', url: '/no/such/route' },
];

function expectApiError(res: LightMyRequestResponse, status: number, type: string, reason: RegExp): void {
  const shown = `${res.statusCode} ${res.body}`;
  expect(res.statusCode, shown).to.equal(status);
  expect(res.headers['content-type'], shown).to.match(/^application\/json/);
  const body = res.json<{ error: { type: string; reason: string }; status: number }>();
  expect(body.status, shown).to.equal(status);
  expect(body.error.type, shown).to.equal(type);
  expect(body.error.reason, shown).to.match(reason);
}

describe('control API token', () => {
  describe('ControlAuth.check', () => {
    const auth = new ControlAuth(TOKEN, silentLogger);

    it('accepts the token as a Bearer credential, the scheme in any case', () => {
      expect(auth.check(`Bearer ${TOKEN}`)).to.equal(undefined);
      expect(auth.check(`bearer ${TOKEN}`)).to.equal(undefined);
      expect(auth.check(`BEARER  ${TOKEN} `)).to.equal(undefined);
    });

    it('tells a missing token from a malformed header and a wrong token', () => {
      expect(auth.check(undefined)).to.equal('missing');
      expect(auth.check('')).to.equal('missing');
      for (const header of ['Bearer', 'Bearer ', TOKEN, `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`, `Bearer ${TOKEN} extra`, `Token ${TOKEN}`]) {
        expect(auth.check(header), header).to.equal('malformed');
      }
      expect(auth.check([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]), 'a repeated header').to.equal('malformed');
    });

    it('refuses wrong tokens of every length without throwing (digests are compared, not the tokens)', () => {
      for (const given of [WRONG, 'x', TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), 'y'.repeat(10_000)]) {
        expect(auth.check(`Bearer ${given}`), given.slice(0, 40)).to.equal('wrong');
      }
    });

    it('logs a refusal with method, path and peer but never the token sent, nor the query string', () => {
      const logger = memoryLogger();
      const logging = new ControlAuth(TOKEN, logger);
      logging.logRefusal('wrong', { method: 'GET', url: `/_ccr/stats?token=${WRONG}`, remoteAddress: '127.0.0.1' });
      expect(logger.entries).to.have.length(1);
      const entry = logger.entries[0]!;
      expect(entry.level).to.equal('warn');
      expect(entry.message).to.equal('control API: refused GET "/_ccr/stats" from 127.0.0.1: wrong token');
      expect(JSON.stringify(entry)).not.to.include(WRONG);
    });

    it('logs at most 10 refusals a minute, then says how many it left out', () => {
      const logger = memoryLogger();
      let now = 1_000_000;
      const logging = new ControlAuth(TOKEN, logger, () => now);
      for (let i = 0; i < 25; i += 1) logging.logRefusal('missing', { method: 'GET', url: `/x${i}`, remoteAddress: '127.0.0.1' });
      expect(logger.entries).to.have.length(10);
      now += 60_000;
      logging.logRefusal('missing', { method: 'GET', url: '/y', remoteAddress: '127.0.0.1' });
      expect(logger.entries).to.have.length(11);
      expect(logger.entries[10]!.meta).to.include({ refusals_not_logged: 15 });
    });
  });

  describe('where the control API may listen', () => {
    it('knows loopback addresses from the rest', () => {
      for (const host of ['127.0.0.1', '127.3.2.1', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
        expect(isLoopbackHost(host), host).to.equal(true);
      }
      for (const host of ['0.0.0.0', '::', '10.1.2.3', '192.168.0.1', '::ffff:10.0.0.1', 'fe80::1%eth0', 'example.com', 'localhost.example.com', '127.1']) {
        expect(isLoopbackHost(host), host).to.equal(false);
      }
    });

    it('refuses a non-loopback address without a token, naming the setting to add', () => {
      expect(() => checkControlBinding({ host: '0.0.0.0' })).to.throw(ConfigError, /^daemon\.control\.host: the control API may listen on an address other machines can reach only with a token: set daemon\.control\.token .*, got "0\.0\.0\.0"$/);
      expect(() => checkControlBinding({ host: '0.0.0.0', token: TOKEN })).not.to.throw();
      expect(() => checkControlBinding({ host: '127.0.0.1' })).not.to.throw();
    });

    it('Daemon.start refuses before it opens the state directory or binds', async () => {
      let opened = false;
      const config = { ...defaultConfig('/nonexistent'), control: { host: '0.0.0.0', port: 0 } };
      let error: unknown;
      try {
        await Daemon.start({ config, logger: silentLogger, openState: () => { opened = true; throw new Error('must not be reached'); } });
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(ConfigError);
      expect(opened).to.equal(false);
    });
  });

  describe('daemon.control.token in the config', () => {
    const parse = (yaml: string, env: NodeJS.ProcessEnv = {}, secrets = new SecretRegistry()) => parseConfig(yaml, { env, baseDir: '/etc/ccr', sourceName: 'ccr-follow.yml' }, secrets);

    it('is read from ${VAR} and registered as a secret, so logs lose it', async () => {
      const secrets = new SecretRegistry();
      const config = await parse('daemon:\n  control:\n    host: 0.0.0.0\n    token: "${MY_TOKEN}"\n', { MY_TOKEN: TOKEN }, secrets);
      expect(config.control).to.deep.equal({ host: '0.0.0.0', port: 9809, token: TOKEN });
      expect(secrets.redact(`header Bearer ${TOKEN}`)).to.equal('header Bearer <redacted>');
    });

    it('is absent by default', async () => {
      expect((await parse('daemon:\n  control:\n    port: 9000\n')).control).to.deep.equal({ host: '127.0.0.1', port: 9000 });
    });

    for (const [name, value, rule] of [
      ['too short', '"short-token"', /expected at least 16 printable ASCII characters/],
      ['with a space', '"sixteen chars or more with spaces"', /expected at least 16 printable ASCII characters/],
      ['empty', '""', /expected a non-empty string/],
      ['a number', '1234567890123456789', /expected a non-empty string \(quote values that look like numbers\)/],
    ] as const) {
      it(`is refused when ${name}, without showing it`, async () => {
        let error: unknown;
        try {
          await parse(`daemon:\n  control:\n    token: ${value}\n`);
        } catch (err) {
          error = err;
        }
        expect(error).to.be.instanceOf(ConfigError);
        const message = (error as ConfigError).message;
        expect(message).to.match(/^ccr-follow\.yml:3:\d+: daemon\.control\.token: /).and.to.match(rule);
        expect(message).to.match(/got <redacted>$/);
        if (value !== '""') expect(message).not.to.include(value.replaceAll('"', ''));
      });
    }
  });

  describe('the CLI side', () => {
    const config = { ...defaultConfig('/tmp'), control: { host: '127.0.0.1', port: 9809, token: TOKEN } };

    it('takes $CCR_FOLLOW_CONTROL_TOKEN over the config, and only the variable with --url', () => {
      expect(CONTROL_TOKEN_ENV).to.equal('CCR_FOLLOW_CONTROL_TOKEN');
      expect(controlToken({}, config)).to.equal(TOKEN);
      expect(controlToken({ CCR_FOLLOW_CONTROL_TOKEN: WRONG }, config)).to.equal(WRONG);
      expect(controlToken({ CCR_FOLLOW_CONTROL_TOKEN: '' }, config), 'an empty variable counts as unset').to.equal(TOKEN);
      expect(controlToken({}), '--url: the config is not read').to.equal(undefined);
      expect(controlToken({ CCR_FOLLOW_CONTROL_TOKEN: WRONG })).to.equal(WRONG);
      expect(controlUrl(config)).to.equal('http://127.0.0.1:9809');
    });

    it('sends the token as a Bearer header, and explains a 401', async () => {
      const seen: (Readonly<Record<string, string>> | undefined)[] = [];
      const send: HttpSend = async (_url, _method, _body, headers) => {
        seen.push(headers);
        return { status: 401, text: JSON.stringify({ error: { type: 'security_exception', reason: 'invalid authentication token' }, status: 401 }) };
      };
      const withToken = new ControlClient('http://127.0.0.1:9809', { token: TOKEN, send });
      const without = new ControlClient('http://127.0.0.1:9809', { send });
      const refused = async (client: ControlClient): Promise<ControlApiError> => {
        try {
          await client.request('GET', '/_ccr/stats');
        } catch (err) {
          expect(err).to.be.instanceOf(ControlApiError);
          return err as ControlApiError;
        }
        throw new Error('expected a ControlApiError');
      };
      const a = await refused(withToken);
      const b = await refused(without);
      expect(seen).to.deep.equal([{ authorization: `Bearer ${TOKEN}` }, {}]);
      expect(a.status).to.equal(401);
      expect(a.message).to.match(/^invalid authentication token \(the token sent was refused: check \$CCR_FOLLOW_CONTROL_TOKEN/);
      expect(b.message).to.match(/set the daemon's token in \$CCR_FOLLOW_CONTROL_TOKEN, or as daemon\.control\.token in the config file/);
      expect(a.message + b.message).not.to.include(TOKEN);
    });
  });

  describe('the control server with a token', () => {
    let h: Harness;
    before(async () => {
      h = await harness(TOKEN);
    });
    after(() => h.close());

    it('answers 401 to every route, known or not, without a token or with a wrong one, and changes nothing', async () => {
      const before = await snapshot(h.stateDir);
      for (const route of ROUTES) {
        for (const headers of [{}, { authorization: `Bearer ${WRONG}` }, { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }]) {
          const res = await h.app.inject({ method: route.method, url: route.url, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(route.body ?? {}) });
          const where = `${route.method} ${route.url} with ${JSON.stringify(Object.keys(headers))}`;
          expectApiError(res, 401, 'security_exception', /authentication token|Authorization header/);
          expect(res.headers['www-authenticate'], where).to.equal('Bearer realm="ccr-follow"');
        }
      }
      expect(h.connects, 'no request reached a cluster').to.deep.equal([]);
      expect(await snapshot(h.stateDir)).to.deep.equal(before);
      const logged = JSON.stringify(h.logger.entries);
      expect(logged).not.to.include(TOKEN);
      expect(logged).not.to.include(WRONG);
      expect(h.logger.entries.filter((e) => e.level === 'warn').length, 'refusals are logged, at most 10 a minute').to.equal(10);
    });

    it('serves the status page HTML to a browser without a token: it holds no data, and fetches that with the token', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(res.statusCode).to.equal(200);
      expect(res.headers['content-type']).to.match(/^text\/html/);
      expect(res.headers['referrer-policy']).to.equal('no-referrer');
      expect(res.body).to.include("Authorization: 'Bearer ' + token").and.to.include('location.hash').and.not.to.include(TOKEN);
      // The same path for an API client, or with a query string, still needs the token.
      expectApiError(await h.app.inject({ method: 'GET', url: '/', headers: { accept: 'application/json' } }), 401, 'security_exception', /missing/);
      expectApiError(await h.app.inject({ method: 'GET', url: '/?x=1', headers: { accept: 'text/html' } }), 401, 'security_exception', /missing/);
    });

    it('answers every route with the token', async () => {
      for (const url of ['/', '/metrics', '/_ccr/stats', '/_ccr/info', '/_ccr/auto_follow']) {
        const res = await h.app.inject({ method: 'GET', url, headers: AUTH });
        expect(res.statusCode, `${url}: ${res.body}`).to.equal(200);
      }
      expect((await h.app.inject({ method: 'GET', url: '/', headers: AUTH })).json()).to.include({ name: 'ccr-follow', version: '9.9.9' });
      expectApiError(await h.app.inject({ method: 'GET', url: '/follower/orders/_ccr/stats', headers: AUTH }), 404, 'resource_not_found_exception', /is not a follower index/);
    });
  });

  describe('the control server without a token', () => {
    let h: Harness;
    before(async () => {
      h = await harness(undefined);
    });
    after(() => h.close());

    it('answers without one, as before (loopback only: Daemon.start sees to that)', async () => {
      for (const url of ['/', '/metrics', '/_ccr/stats', '/_ccr/info', '/_ccr/auto_follow']) {
        expect((await h.app.inject({ method: 'GET', url })).statusCode, url).to.equal(200);
      }
    });
  });

  describe('input validation', () => {
    let h: Harness;
    before(async () => {
      h = await harness(TOKEN);
    });
    after(() => h.close());

    const follow = '/follower/orders/_ccr/follow';
    const good = { remote_cluster: 'leader', leader_index: 'orders' };
    const json = (body: unknown): string => JSON.stringify(body);
    /** [title, method, url, content-type or null, payload, status, reason, error type if not the usual one]. */
    const CASES: readonly (readonly [string, string, string, string | null, string | undefined, number, RegExp, string?])[] = [
      ['malformed JSON', 'PUT', follow, 'application/json', '{"remote_cluster": "leader",', 400, /^request body is not valid JSON: /],
      ['a JSON array', 'PUT', follow, 'application/json', '[1, 2]', 400, /^the body of a follow request must be a JSON object, got an array$/],
      ['a JSON string', 'PUT', follow, 'application/json', '"orders"', 400, /must be a JSON object, got a string$/],
      ['JSON null', 'PUT', follow, 'application/json', 'null', 400, /must be a JSON object, got null$/],
      ['no body', 'PUT', follow, 'application/json', undefined, 400, /^a follow request needs \[remote_cluster\]/],
      ['unknown parameters, all named', 'PUT', follow, 'application/json', json({ ...good, foo: 1, index_settings: {}, __proto__x: 2 }), 400,
        /^unknown follow parameters \[foo\], \[index_settings\], \[__proto__x\]; known: max_read_request_operation_count, .*, repair_foreign_writes \(besides remote_cluster, leader_index, settings, data_stream_name\)$/],
      ['a __proto__ key', 'PUT', follow, 'application/json', '{"remote_cluster":"leader","leader_index":"orders","__proto__":{"x":1}}', 400, /^unknown follow parameter \[__proto__\]/],
      ['remote_cluster of the wrong type', 'PUT', follow, 'application/json', json({ ...good, remote_cluster: ['leader'] }), 400, /needs \[remote_cluster\]: .* got an array$/],
      ['leader_index of the wrong type', 'PUT', follow, 'application/json', json({ ...good, leader_index: 7 }), 400, /needs \[leader_index\]: .* got a number$/],
      ['a malformed remote alias', 'PUT', follow, 'application/json', json({ ...good, remote_cluster: '../leader' }), 400, /^invalid remote cluster alias \[\.\.\/leader\]/],
      ['an unknown remote alias', 'PUT', follow, 'application/json', json({ ...good, remote_cluster: 'nope' }), 400, /^unknown cluster alias \[nope\]; configured: leader, follower$/, 'unknown_cluster_exception'],
      ['an invalid leader index name', 'PUT', follow, 'application/json', json({ ...good, leader_index: 'Orders' }), 400, /^invalid leader index name \[Orders\]: must be lowercase$/],
      ['a NUL in the leader index', 'PUT', follow, 'application/json', json({ ...good, leader_index: 'ord\u0000ers' }), 400, /holds a control, invisible or invalid character: \[ord\\u0000ers\]$/],
      ['a zero-width space in the leader index', 'PUT', follow, 'application/json', json({ ...good, leader_index: 'or\u200bders' }), 400, /invisible/],
      ['a lone surrogate', 'PUT', follow, 'application/json', '{"remote_cluster":"leader","leader_index":"\\ud800x"}', 400, /invalid character/],
      ['a follow parameter of the wrong type', 'PUT', follow, 'application/json', json({ ...good, max_read_request_size: { mb: 32 } }), 400, /^follow parameter \[max_read_request_size\]: expected a number or a string$/],
      ['a follow parameter out of range', 'PUT', follow, 'application/json', json({ ...good, max_outstanding_read_requests: -1 }), 400, /must be greater than 0/],
      ['a non-integer count', 'PUT', follow, 'application/json', json({ ...good, max_outstanding_read_requests: 1.5 }), 400, /expected a whole number/],
      ['text/plain', 'PUT', follow, 'text/plain', json(good), 415, /^unsupported Content-Type: send the body as JSON with `Content-Type: application\/json`$/],
      ['a form body (curl -d without -H)', 'PUT', follow, 'application/x-www-form-urlencoded', 'remote_cluster=leader', 415, /unsupported Content-Type/],
      ['no Content-Type', 'PUT', follow, null, json(good), 415, /unsupported Content-Type/],
      ['a charset other than UTF-8', 'PUT', follow, 'application/json; charset=utf-16', json(good), 415, /^unsupported charset \[utf-16\]/],
      ['a body over the limit', 'PUT', follow, 'application/json', json({ ...good, pad: 'x'.repeat(CONTROL_BODY_LIMIT) }), 413, /^request body too large: the control API takes at most 64kb$/],
      ['an index name with an encoded slash', 'PUT', '/follower/a%2Fb/_ccr/follow', 'application/json', json(good), 400, /^invalid follower index name \[a\/b\]: must not contain '\/'$/],
      // (`..` in the path is in the integration test: inject normalises dot segments, as fetch does.)
      ['a leader index ..', 'PUT', follow, 'application/json', json({ ...good, leader_index: '..' }), 400, /^invalid leader index name \[\.\.\]: must not be '\.' or '\.\.'$/],
      ['an overlong index name', 'PUT', `/follower/${'a'.repeat(256)}/_ccr/follow`, 'application/json', json(good), 400, /must be at most 255 bytes$/],
      ['an encoded control character', 'GET', '/follower/a%0Ab/_ccr/stats', null, undefined, 400, /^invalid follower index name \[a\\u000ab\]: must not contain control/],
      ['a right-to-left override', 'GET', '/follower/a%E2%80%AEb/_ccr/info', null, undefined, 400, /must not contain control, invisible or invalid characters/],
      ['invalid percent-encoding', 'GET', '/follower/a%ZZ/_ccr/stats', null, undefined, 400, /^malformed URL: invalid percent-encoding$/],
      ['invalid UTF-8 in percent-encoding', 'GET', '/follower/a%C0%AF/_ccr/stats', null, undefined, 400, /^malformed URL/],
      ['a malformed follower alias', 'POST', '/fol.lower/orders/_ccr/pause_follow', null, undefined, 400, /^invalid follower cluster alias \[fol\.lower\]/],
      ['an empty path segment', 'GET', '//orders/_ccr/stats', null, undefined, 400, /^invalid follower cluster alias \[\]/],
      ['a query parameter', 'GET', '/_ccr/stats?pretty&token=abc', null, undefined, 400, /^request \[\/_ccr\/stats\] contains unrecognized parameter: \[token\]$/],
      ['a common option of the wrong form', 'GET', '/_ccr/stats?human=yes', null, undefined, 400, /^Failed to parse value \[yes\] as only \[true\] or \[false\] are allowed\.$/],
      ['parameters on pause', 'POST', '/follower/orders/_ccr/pause_follow', 'application/json', json({ force: true }), 400, /^unknown parameter \[force\] in pause_follow; pause_follow takes no parameters$/],
      ['unknown resume parameters', 'POST', '/follower/orders/_ccr/resume_follow', 'application/json', json({ remote_cluster: 'leader' }), 400, /^unknown follow parameter \[remote_cluster\]; known: max_read_request_operation_count, .*repair_foreign_writes$/],
      ['an invalid pattern name', 'PUT', '/_ccr/auto_follow/_daily', 'application/json', json({ remote_cluster: 'leader', leader_index_patterns: ['logs-*'] }), 400, /^invalid auto-follow pattern name \[_daily\]/],
      ['an invalid pattern name on delete', 'DELETE', '/_ccr/auto_follow/a%2F..', null, undefined, 400, /^invalid auto-follow pattern name \[a\/\.\.\]/],
      ['unknown pattern parameters', 'PUT', '/_ccr/auto_follow/daily', 'application/json', json({ remote_cluster: 'leader', leader_index_patterns: ['logs-*'], active: true }), 400, /^unknown follow parameter \[active\]; known: .* \(besides remote_cluster, follower_cluster, leader_index_patterns, leader_index_exclusion_patterns, follow_index_pattern, settings\)$/],
      ['pattern lists of the wrong type', 'PUT', '/_ccr/auto_follow/daily', 'application/json', json({ remote_cluster: 'leader', leader_index_patterns: [1] }), 400, /^\[leader_index_patterns\] must be a list of index patterns$/],
      ['an invalid pattern', 'PUT', '/_ccr/auto_follow/daily', 'application/json', json({ remote_cluster: 'leader', leader_index_patterns: ['Logs-*'] }), 400, /must be lowercase/],
      ['a wrong method', 'DELETE', '/_ccr/stats', null, undefined, 405, /^Incorrect HTTP method for uri \[\/_ccr\/stats\] and method \[DELETE\], allowed: \[GET, HEAD\]$/],
      ['a wrong method on a follower route', 'GET', follow, null, undefined, 405, /allowed: \[PUT\]$/],
    ];

    for (const [title, method, url, contentType, payload, status, reason, type] of CASES) {
      it(`refuses ${title} with ${status}`, async () => {
        const before = await snapshot(h.stateDir);
        const headers: Record<string, string> = { ...AUTH, ...(contentType === null ? {} : { 'content-type': contentType }) };
        const res = await h.app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) });
        expectApiError(res, status, type ?? 'illegal_argument_exception', reason);
        expect(h.connects, 'no cluster was asked').to.deep.equal([]);
        expect(await snapshot(h.stateDir), 'the state dir').to.deep.equal(before);
        expect(h.manager.info()).to.deep.equal([]);
        expect(h.autoFollow.list()).to.deep.equal([]);
      });
    }

    it('lets a well-formed follow request through to the follow manager, which asks the cluster', async () => {
      const res = await h.app.inject({ method: 'PUT', url: follow, headers: JSON_HEADERS, payload: json({ ...good, max_read_request_size: '16mb', repair_foreign_writes: false }) });
      // The clusters are a closed port: the request got past every check and failed at the cluster.
      expectApiError(res, 502, 'cluster_unavailable_exception', /^cluster \[leader\]: /);
      expect(h.connects).to.deep.equal(['leader']);
      h.connects.length = 0;
      // An index name at the 255-byte limit, percent-encoded (765 characters), also reaches the manager.
      const long = 'é'.repeat(127) + 'x';
      const atLimit = await h.app.inject({ method: 'GET', url: `/follower/${encodeURIComponent(long)}/_ccr/stats`, headers: AUTH });
      expectApiError(atLimit, 404, 'resource_not_found_exception', /is not a follower index$/);
    });
  });
});

describe('failback and switchover routes', () => {
  it('refuse a malformed body before asking any cluster, naming the field', async () => {
    const h = await harness(TOKEN);
    try {
      const post = (url: string, body: unknown) => h.app.inject({ method: 'POST', url, headers: JSON_HEADERS, payload: JSON.stringify(body) });
      const failback = '/leader/orders/_ccr/failback';
      const good = { remote_cluster: 'follower', leader_index: 'orders' };
      expectApiError(await post(failback, { ...good, lost_writes_file: 'lost.ndjson' }), 400, 'illegal_argument_exception', /\[lost_writes_file\] .* absolute path/);
      expectApiError(await post(failback, { ...good, dry_run: 'yes' }), 400, 'illegal_argument_exception', /\[dry_run\] .* true or false/);
      expectApiError(await post(failback, { ...good, force: true }), 400, 'illegal_argument_exception', /unknown parameter \[force\]/);
      expectApiError(await post(failback, { leader_index: 'orders' }), 400, 'illegal_argument_exception', /needs \[remote_cluster\]/);
      expectApiError(await post('/follower/orders/_ccr/switchover', { remote_cluster: 'leader' }), 400, 'illegal_argument_exception', /needs \[leader_index\]/);
      expect(h.connects).to.deep.equal([]);
    } finally {
      await h.close();
    }
  });
});
