/**
 * Secured clusters: TLS (a CA file, a pinned CA fingerprint, client certificates, `verify: false`),
 * the three kinds of credentials from the environment, and what happens when any of it is wrong — a
 * clear error naming the cluster alias and what to fix, and a follower paused with that reason
 * rather than retried forever. Secrets must appear in no log line, stats, info, metrics or error
 * message.
 *
 * Against real servers only: the secured ES 8.19 node of `secured-cluster.ts` (HTTPS, file realm,
 * least-privilege roles), the shared test clusters as followers, and — for what one node cannot
 * show at once (an expired certificate, one for another host, a server that requires a client
 * certificate, a server that checks API-key and bearer headers) — small local Node endpoints
 * started here, which stand in for a cluster's HTTP layer, not for a cluster.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classify } from '../../src/cluster/classify.js';
import { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { ClusterConfig } from '../../src/cluster/cluster-config.js';
import { ClusterRegistry } from '../../src/cluster/cluster-registry.js';
import { ClusterError, ClusterTlsError, type TlsProblem } from '../../src/cluster/errors.js';
import { parseConfig } from '../../src/daemon/config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { FollowError } from '../../src/follow/follow-errors.js';
import type { FollowerInfo } from '../../src/follow/follow-manager.js';
import { memoryLogger, type MemoryLogger } from '../../src/util/logger.js';
import { testClusters, uniqueName, type TestCluster } from '../helpers/clusters.js';
import { compareIndices, createLeaderIndex, statsOf, waitForCaughtUp } from '../helpers/replication.js';
import {
  LEAST_PRIVILEGE_PATTERN, REVOCABLE_PATTERN, roleBody, securedCluster,
  type CertificatePair, type Credentials, type SecuredCluster, type TestCertificates,
} from '../helpers/secured-cluster.js';
import { waitFor } from '../helpers/wait-for.js';

/** Leader privileges of README's "Security" section, as in secured-cluster.ts. */
const LEADER_PRIVILEGES = ['read', 'monitor', 'view_index_metadata', 'maintenance'];
const API_KEY = `key-${'a1b2c3d4'.repeat(4)}`;
const BEARER = `tok-${'e5f6a7b8'.repeat(4)}`;

describe('secured clusters: TLS, credentials, privileges', function () {
  this.timeout(300_000);

  let secured: SecuredCluster;
  let certs: TestCertificates;
  let users: NonNullable<SecuredCluster['users']>;
  let shared: TestCluster;
  let admin: ClusterClient;
  let sharedFollower: ClusterClient;
  let workDir: string;
  /** Every secret of this file: none may show up in any output. */
  let secrets: string[];
  const created: { client: () => ClusterClient; index: string }[] = [];
  const servers: Server[] = [];
  const daemons: Daemon[] = [];

  before(async function () {
    const started = Date.now();
    const [s, clusters] = await Promise.all([securedCluster(), testClusters()]);
    secured = s;
    shared = clusters.esFollower;
    if (!secured.certificates || !secured.users) {
      console.log(`      not run: the secured cluster is external (${secured.url}); these tests need the users and certificates of a node started here`);
      this.skip();
    }
    certs = secured.certificates;
    users = secured.users;
    [admin, sharedFollower] = await Promise.all([
      ClusterClient.connect(secured.clusterConfig('admin')), ClusterClient.connect(shared.clusterConfig('follower')),
    ]);
    workDir = await mkdtemp(join(tmpdir(), 'ccr-follow-secured-test-'));
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    secrets = [
      secured.password, b64(`${secured.username}:${secured.password}`),
      ...Object.values(users).flatMap((u) => [u.password, b64(`${u.username}:${u.password}`)]),
      API_KEY, BEARER, certs.client.key.split('\n')[1]!, certs.untrustedClient.key.split('\n')[1]!,
    ];
    console.log(`      set-up (secured node, shared clusters) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    await Promise.allSettled(daemons.map((d) => d.stop()));
    for (const { client, index } of created) await client().deleteIndex(index).catch(() => undefined);
    await Promise.allSettled([admin?.close(), sharedFollower?.close()]);
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    if (workDir && process.env['CCR_TEST_KEEP_DIRS'] !== '1') await rm(workDir, { recursive: true, force: true });
  });

  // ---- helpers ----------------------------------------------------------------------------------

  /** `text` holds none of this file's secrets. */
  function expectNoSecrets(text: string, what: string): void {
    for (const secret of secrets) expect(text.includes(secret), `${what} contains a secret (${secret.slice(0, 4)}…)`).to.equal(false);
  }

  /** The error connecting with `config` and making one request gives (it must fail). */
  async function failure(config: ClusterConfig, flavor?: 'elasticsearch' | 'opensearch'): Promise<ClusterError> {
    const client = flavor ? ClusterClient.withFlavor(config, flavor, '8.19.0') : undefined;
    try {
      const connected = client ?? (await ClusterClient.connect(config));
      try {
        await connected.raw('authenticate', { method: 'GET', path: '/_security/_authenticate' });
      } finally {
        if (!client) await connected.close();
      }
    } catch (err) {
      expect(err, String(err)).to.be.instanceOf(ClusterError);
      return err as ClusterError;
    } finally {
      await client?.close();
    }
    throw new Error(`expected ${config.alias} to fail`);
  }

  /** Checks a TLS failure with both clients: its problem, that it is fatal, and what the message says. */
  async function expectTlsFailure(config: ClusterConfig, problem: TlsProblem, message: RegExp): Promise<ClusterTlsError> {
    let last: ClusterTlsError | undefined;
    for (const flavor of [undefined, 'elasticsearch', 'opensearch'] as const) {
      const err = await failure(config, flavor);
      expect(err, `${flavor ?? 'connect'}: ${err.message}`).to.be.instanceOf(ClusterTlsError);
      const tls = err as ClusterTlsError;
      expect(tls.problem, tls.message).to.equal(problem);
      expect(tls.message).to.match(new RegExp(`^\\[${config.alias}\\] `));
      expect(tls.message).to.match(message);
      const verdict = classify(tls);
      expect(verdict.action, 'a TLS problem is fatal').to.equal('fatal');
      expectNoSecrets(tls.message, 'the error');
      last = tls;
    }
    return last!;
  }

  function securedConfig(alias: string, tls: ClusterConfig['tls'], over: Partial<ClusterConfig> = {}, user: Credentials = secured): ClusterConfig {
    return { alias, urls: [secured.url], auth: { type: 'basic', username: user.username, password: user.password }, requestTimeoutMs: 15_000, ...(tls ? { tls } : {}), ...over };
  }

  /** A local HTTPS (or HTTP) endpoint that answers like a cluster's root and records Authorization headers. */
  async function endpoint(opts: { tls?: Parameters<typeof createHttpsServer>[0]; flavor?: 'elasticsearch' | 'opensearch' } = {}): Promise<{ url: string; authorizations: (string | undefined)[] }> {
    const authorizations: (string | undefined)[] = [];
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      authorizations.push(req.headers.authorization);
      res.setHeader('content-type', 'application/json');
      if (opts.flavor !== 'opensearch') res.setHeader('x-elastic-product', 'Elasticsearch');
      res.end(JSON.stringify(req.url === '/'
        ? { version: { number: opts.flavor === 'opensearch' ? '2.19.0' : '8.19.0', ...(opts.flavor === 'opensearch' ? { distribution: 'opensearch' } : {}) } }
        : { ok: true }));
    };
    const server = opts.tls ? createHttpsServer(opts.tls, handler) : createHttpServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return { url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`, authorizations };
  }

  const serverTls = (pair: CertificatePair, extra: Parameters<typeof createHttpsServer>[0] = {}): Parameters<typeof createHttpsServer>[0] => ({
    cert: `${pair.cert}${certs.ca.cert}`, key: pair.key, ...extra,
  });

  /** YAML for one cluster alias. */
  function clusterYaml(alias: string, url: string, lines: { auth?: string[]; tls?: string[] } = {}): string {
    return [
      `  ${alias}:`,
      `    url: ${JSON.stringify(url)}`,
      ...(lines.auth ? ['    auth:', ...lines.auth.map((l) => `      ${l}`)] : []),
      ...(lines.tls ? ['    tls:', ...lines.tls.map((l) => `      ${l}`)] : []),
    ].join('\n');
  }

  /** YAML for the shared follower cluster (basic auth from the environment when it has any). */
  function sharedFollowerYaml(env: Record<string, string>): string {
    const auth = shared.clusterConfig('follower').auth;
    if (auth.type !== 'basic') return clusterYaml('follower', shared.url);
    env['SHARED_FOLLOWER_PASSWORD'] = auth.password;
    secrets.push(auth.password);
    return clusterYaml('follower', shared.url, { auth: [`username: ${JSON.stringify(auth.username)}`, 'password: ${SHARED_FOLLOWER_PASSWORD}'] });
  }

  /** A daemon in this process, from YAML (so `${VAR}` interpolation is the daemon's own). */
  async function startDaemon(yaml: string, env: Record<string, string>, stateDir: string, logger: MemoryLogger): Promise<Daemon> {
    const parsed = await parseConfig(yaml, { env, baseDir: workDir, sourceName: 'secured.yml' });
    const config = { ...parsed, stateDir, control: { host: '127.0.0.1', port: 0 } };
    const daemon = await Daemon.start({ config, logger, clusters: new ClusterRegistry(config.clusters), checkpointIntervalMs: 200 });
    daemons.push(daemon);
    return daemon;
  }

  async function stopDaemon(daemon: Daemon): Promise<void> {
    await daemon.stop();
    daemons.splice(daemons.indexOf(daemon), 1);
  }

  function infoOf(daemon: Daemon, key: string): FollowerInfo {
    const info = daemon.manager.info(key)[0];
    if (!info) throw new Error(`no info for ${key}`);
    return info;
  }

  function waitForFatalPause(daemon: Daemon, key: string, timeoutMs = 90_000): Promise<FollowerInfo> {
    return waitFor(() => {
      const info = infoOf(daemon, key);
      return info.status === 'paused' && info.fatal_exception ? info : false;
    }, { timeoutMs, intervalMs: 200, message: () => `${key} to be paused with a fatal_exception (info: ${JSON.stringify(infoOf(daemon, key))})` });
  }

  /** Everything a user can see of the daemon: logs, stats, info and metrics, through its API too. */
  async function expectNoSecretsAnywhere(daemon: Daemon, logger: MemoryLogger): Promise<void> {
    expectNoSecrets(JSON.stringify(logger.entries), 'the logs');
    expectNoSecrets(JSON.stringify(daemon.manager.stats()), 'stats');
    expectNoSecrets(JSON.stringify(daemon.manager.info()), 'info');
    for (const path of ['/_ccr/stats', '/_ccr/info', '/metrics', '/_ccr/auto_follow']) {
      const res = await fetch(`${daemon.url}${path}`, { signal: AbortSignal.timeout(30_000) });
      expectNoSecrets(await res.text(), `GET ${path}`);
    }
  }

  function printLogs(logger: MemoryLogger): void {
    const recent = logger.entries.filter((e) => e.level !== 'debug').slice(-30);
    console.log(`      daemon log (last ${recent.length}):\n${recent.map((e) => `        ${e.level} ${e.message} ${JSON.stringify(e.meta)}`).join('\n')}`);
  }

  async function writeDocs(client: ClusterClient, index: string, from: number, count: number, extra: Record<string, unknown> = {}): Promise<void> {
    const docs = Array.from({ length: count }, (_, i) => ({ op: 'index' as const, id: `doc-${from + i}`, source: { n: from + i, text: `document ${from + i}`, ...extra } }));
    await client.writeDocuments(index, docs);
  }

  // ---- TLS: what to trust ------------------------------------------------------------------------

  it('connects over HTTPS trusting the CA file, with the password from an environment variable', async () => {
    const config = await parseConfig(
      `clusters:\n${clusterYaml('leader', secured.url, { auth: [`username: ${users.leader.username}`, 'password: ${LEADER_PASSWORD}'], tls: [`ca: ${certs.ca.certFile}`] })}\n`,
      { env: { LEADER_PASSWORD: users.leader.password }, baseDir: workDir });
    const client = await ClusterClient.connect(config.clusters.get('leader')!);
    try {
      expect(client.info.flavor).to.equal('elasticsearch');
      expect(client.info.version).to.equal(secured.version);
      const me = await client.raw<{ username: string }>('authenticate', { method: 'GET', path: '/_security/_authenticate' });
      expect(me.body.username).to.equal(users.leader.username);
    } finally {
      await client.close();
    }
  });

  it("pins the cluster's CA by its SHA-256 fingerprint, with both clients", async () => {
    const config = securedConfig('pinned', { caFingerprint: certs.caFingerprint, rejectUnauthorized: true });
    const client = await ClusterClient.connect(config);
    try {
      expect(client.info.flavor).to.equal('elasticsearch');
    } finally {
      await client.close();
    }
    for (const flavor of ['elasticsearch', 'opensearch'] as const) {
      const forced = ClusterClient.withFlavor(config, flavor, secured.version);
      try {
        const me = await forced.raw<{ username: string }>('authenticate', { method: 'GET', path: '/_security/_authenticate' });
        expect(me.body.username, flavor).to.equal(secured.username);
      } finally {
        await forced.close();
      }
    }
  });

  it("refuses a wrong fingerprint fatally, listing the certificates' fingerprints the cluster presents", async () => {
    const wrong = 'ab'.repeat(32);
    const err = await expectTlsFailure(securedConfig('pinned', { caFingerprint: wrong, rejectUnauthorized: true }), 'fingerprint_mismatch',
      /no certificate the cluster presents has the configured SHA-256 fingerprint .*CA_FINGERPRINT_MISMATCH.*check clusters\.pinned\.tls\.fingerprint/);
    expect(err.message).to.include(certs.caFingerprint);
  });

  it('with a pinned fingerprint, still checks the host name (unlike a fingerprint-only check)', async () => {
    const wrongHost = await endpoint({ tls: serverTls(certs.wrongHost) });
    await expectTlsFailure({ ...securedConfig('pinned', { caFingerprint: certs.caFingerprint, rejectUnauthorized: true }), urls: [wrongHost.url] },
      'hostname_mismatch', /certificate is for another host name .*ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(wrongHost.authorizations, 'no request may reach a server that failed verification').to.deep.equal([]);
  });

  it('refuses an unknown CA fatally (none configured, or another one), naming tls.ca and tls.fingerprint', async () => {
    for (const tls of [undefined, { rejectUnauthorized: true }, { ca: certs.otherCa.cert, rejectUnauthorized: true }]) {
      await expectTlsFailure(securedConfig('east', tls), 'untrusted_certificate',
        /not signed by a trusted CA at https:\/\/127\.0\.0\.1:\d+ \(SELF_SIGNED_CERT_IN_CHAIN: .*set clusters\.east\.tls\.ca to the CA certificate .* or clusters\.east\.tls\.fingerprint/);
    }
  });

  it('refuses an expired certificate fatally, saying to renew it', async () => {
    const expired = await endpoint({ tls: serverTls(certs.expired) });
    await expectTlsFailure({ ...securedConfig('east', { ca: certs.ca.cert, rejectUnauthorized: true }), urls: [expired.url] },
      'expired_certificate', /certificate has expired .*\(CERT_HAS_EXPIRED: certificate has expired\).*renew the HTTP certificate of cluster \[east\]/);
  });

  it('refuses a certificate for another host name fatally, saying which names to use', async () => {
    const wrongHost = await endpoint({ tls: serverTls(certs.wrongHost) });
    await expectTlsFailure({ ...securedConfig('east', { ca: certs.ca.cert, rejectUnauthorized: true }), urls: [wrongHost.url] },
      'hostname_mismatch', /for another host name .*IP: 127\.0\.0\.1 is not in the cert's list.*use a host name the certificate lists in clusters\.east\.url/);
  });

  it('with verify: false, connects to a certificate it cannot verify, and the daemon warns at every start, naming the alias', async () => {
    const expired = await endpoint({ tls: serverTls(certs.expired) });
    const config = await parseConfig(`clusters:\n${clusterYaml('insecure', expired.url, { tls: ['verify: false'] })}\n${clusterYaml('checked', secured.url, { tls: [`ca: ${certs.ca.certFile}`] })}\n`,
      { env: {}, baseDir: workDir });
    const client = await ClusterClient.connect(config.clusters.get('insecure')!);
    await client.close();
    for (let start = 1; start <= 2; start += 1) {
      const logger = memoryLogger();
      const stateDir = await mkdtemp(join(workDir, 'state-'));
      const daemon = await startDaemon(`clusters:\n${clusterYaml('insecure', expired.url, { tls: ['verify: false'] })}\n${clusterYaml('checked', secured.url, { tls: [`ca: ${certs.ca.certFile}`] })}\n`, {}, stateDir, logger);
      await stopDaemon(daemon);
      const warnings = logger.entries.filter((e) => e.level === 'warn' && e.message.includes('verification is OFF'));
      expect(warnings.map((w) => w.message), `start ${start}`).to.have.length(1);
      expect(warnings[0]!.message).to.match(/^cluster \[insecure\]: TLS certificate verification is OFF \(clusters\.insecure\.tls\.verify: false\)/);
    }
  });

  // ---- TLS: who we are (mutual TLS) and which protocol ---------------------------------------

  it('mutual TLS with the real node: accepts a client certificate from its CA, refuses one from another CA', async () => {
    const good = securedConfig('mtls', { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key, rejectUnauthorized: true });
    for (const flavor of ['elasticsearch', 'opensearch'] as const) {
      const client = ClusterClient.withFlavor(good, flavor, secured.version);
      try {
        const me = await client.raw<{ username: string }>('authenticate', { method: 'GET', path: '/_security/_authenticate' });
        expect(me.body.username).to.equal(secured.username);
      } finally {
        await client.close();
      }
    }
    await expectTlsFailure(securedConfig('mtls', { ca: certs.ca.cert, cert: certs.untrustedClient.cert, key: certs.untrustedClient.key, rejectUnauthorized: true }),
      'client_certificate_refused', /the cluster refused our client certificate .*\(ERR_SSL_.*set clusters\.mtls\.tls\.cert and tls\.key to a client certificate the cluster trusts/);
  });

  it('mutual TLS with a server that requires a client certificate: refused without one, accepted with tls.cert and tls.key', async () => {
    const strict = await endpoint({ tls: serverTls(certs.node, { ca: certs.ca.cert, requestCert: true, rejectUnauthorized: true }) });
    const base = { ...securedConfig('strict', { ca: certs.ca.cert, rejectUnauthorized: true }), urls: [strict.url] };
    await expectTlsFailure(base, 'client_certificate_refused', /refused our client certificate \(or its absence\) .*ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED.*clusters\.strict\.tls\.cert/);
    const withCert = { ...base, tls: { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key, rejectUnauthorized: true } };
    const client = await ClusterClient.connect(withCert);
    await client.close();

    // TLS 1.2 refuses the handshake itself without a client certificate: with a pinned
    // fingerprint, reading the chain must not pass for an unreachable cluster (retried forever).
    const strict12 = await endpoint({ tls: serverTls(certs.node, { ca: certs.ca.cert, requestCert: true, rejectUnauthorized: true, maxVersion: 'TLSv1.2' }) });
    const pinned = { ...base, alias: 'strict12', urls: [strict12.url], tls: { caFingerprint: certs.caFingerprint, rejectUnauthorized: true } };
    await expectTlsFailure(pinned, 'handshake_refused', /refused the TLS handshake .*ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE.*clusters\.strict12\.tls\.cert and tls\.key/);
    const pinnedWithCert = { ...pinned, tls: { ...pinned.tls, cert: certs.client.cert, key: certs.client.key } };
    const pinnedClient = await ClusterClient.connect(pinnedWithCert);
    await pinnedClient.close();
  });

  it('says to write https:// for a TLS-only node, and http:// for a plain one', async () => {
    await expectTlsFailure({ ...securedConfig('east', undefined), urls: [secured.url.replace(/^https:/, 'http:')] }, 'tls_required',
      /the server speaks TLS only at http:\/\/127\.0\.0\.1:\d+ \(TLS_REQUIRED.*write https:\/\/ instead of http:\/\/ in clusters\.east\.url/);
    await expectTlsFailure({ ...securedConfig('east', { ca: certs.ca.cert, rejectUnauthorized: true }), urls: [shared.url.replace(/^http:/, 'https:')] }, 'not_tls',
      /the server does not speak TLS .*\(ERR_SSL_WRONG_VERSION_NUMBER.*write http:\/\/ instead of https:\/\/ in clusters\.east\.url/);
  });

  it('keeps an unreachable https:// cluster a connection error, retried (with a CA or a fingerprint)', async () => {
    const server = await endpoint({ tls: serverTls(certs.node) });
    const url = server.url;
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    for (const tls of [{ ca: certs.ca.cert, rejectUnauthorized: true }, { caFingerprint: certs.caFingerprint, rejectUnauthorized: true }]) {
      const err = await failure({ ...securedConfig('gone', tls), urls: [url] });
      expect(err.kind, err.message).to.equal('connection');
      expect(classify(err).action).to.equal('retry');
    }
  });

  // ---- credentials -------------------------------------------------------------------------------

  it('sends API keys and bearer tokens from environment variables in the Authorization header, with both clients, over TLS', async () => {
    for (const flavor of ['elasticsearch', 'opensearch'] as const) {
      const server = await endpoint({ tls: serverTls(certs.node), flavor });
      const config = await parseConfig([
        'clusters:',
        clusterYaml('keyed', server.url, { auth: ['api_key: ${CCR_API_KEY}'], tls: [`ca: ${certs.ca.certFile}`] }),
        clusterYaml('token', server.url, { auth: ['bearer: ${CCR_TOKEN}'], tls: [`ca: ${certs.ca.certFile}`] }),
        '',
      ].join('\n'), { env: { CCR_API_KEY: API_KEY, CCR_TOKEN: BEARER }, baseDir: workDir });
      for (const [alias, expected] of [['keyed', `ApiKey ${API_KEY}`], ['token', `Bearer ${BEARER}`]] as const) {
        server.authorizations.length = 0;
        const client = await ClusterClient.connect(config.clusters.get(alias)!);
        try {
          expect(client.info.flavor).to.equal(flavor);
          await client.raw('check', { method: 'GET', path: '/_check' });
        } finally {
          await client.close();
        }
        // Flavor detection (opensearch-js) and the flavor's own client both sent it.
        expect(server.authorizations.length, `${flavor} ${alias}`).to.be.at.least(2);
        expect(new Set(server.authorizations), `${flavor} ${alias}`).to.deep.equal(new Set([expected]));
      }
    }
  });

  it('refuses a wrong password at start, naming the alias and the credentials to check, without the password', async () => {
    const logger = memoryLogger();
    const wrong = `wrong-${users.leader.password}`;
    secrets.push(wrong);
    const env = { LEADER_PASSWORD: wrong };
    const yaml = `clusters:\n${clusterYaml('leader', secured.url, { auth: [`username: ${users.leader.username}`, 'password: ${LEADER_PASSWORD}'], tls: [`ca: ${certs.ca.certFile}`] })}\n${sharedFollowerYaml(env)}\n`;
    const daemon = await startDaemon(yaml, env, await mkdtemp(join(workDir, 'state-')), logger);
    const leaderIndex = uniqueName('ccr-sec-wrongpw');
    const followerIndex = uniqueName('follower-of-wrongpw');
    try {
      const err = await daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex }).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(FollowError);
      const message = (err as FollowError).message;
      expect((err as FollowError).type).to.equal('security_exception');
      expect(message).to.match(/^cluster \[leader\]: authentication refused: .*\[leader\] .* 401 security_exception: unable to authenticate user \[ccr_leader\].*check the credentials in clusters\.leader\.auth/);
      expectNoSecrets(message, 'the error');
      expect(await sharedFollower.indexExists(followerIndex)).to.equal(false);
      await expectNoSecretsAnywhere(daemon, logger);
    } finally {
      await stopDaemon(daemon);
    }
  });

  it('refuses at start a leader index the user may not read (403), naming the privilege', async () => {
    const leaderIndex = uniqueName('ccr-sec-other').replace('ccr-sec-', 'ccr-unlisted-'); // outside LEAST_PRIVILEGE_PATTERN
    await createLeaderIndex(admin, leaderIndex, { shards: 1 });
    created.push({ client: () => admin, index: leaderIndex });
    const logger = memoryLogger();
    const env = { LEADER_PASSWORD: users.leader.password };
    const yaml = `clusters:\n${clusterYaml('leader', secured.url, { auth: [`username: ${users.leader.username}`, 'password: ${LEADER_PASSWORD}'], tls: [`ca: ${certs.ca.certFile}`] })}\n${sharedFollowerYaml(env)}\n`;
    const daemon = await startDaemon(yaml, env, await mkdtemp(join(workDir, 'state-')), logger);
    try {
      const followerIndex = uniqueName('follower-of-unlisted');
      const err = await daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex }).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(FollowError);
      expect((err as FollowError).type).to.equal('security_exception');
      expect((err as FollowError).message).to.match(
        new RegExp(`^cluster \\[leader\\]: permission denied: .*403 security_exception: action \\[[^\\]]+\\] is unauthorized for user \\[ccr_leader\\].*on indices \\[${leaderIndex}\\].*grant the user of clusters\\.leader\\.auth the missing privilege`));
      expect(await sharedFollower.indexExists(followerIndex)).to.equal(false);
      await expectNoSecretsAnywhere(daemon, logger);
    } finally {
      await stopDaemon(daemon);
    }
  });

  // ---- real follows --------------------------------------------------------------------------

  it('follows with the least-privilege leader and follower roles of the README (both on the secured node)', async function () {
    const leaderIndex = uniqueName('ccr-sec-lp-leader');
    const followerIndex = uniqueName('ccr-sec-lp-follower');
    const aliasName = uniqueName('ccr-sec-lp-alias');
    expect(leaderIndex).to.match(new RegExp(`^${LEAST_PRIVILEGE_PATTERN.replace('*', '')}`));
    await createLeaderIndex(admin, leaderIndex, { shards: 2 });
    created.push({ client: () => admin, index: leaderIndex }, { client: () => admin, index: followerIndex });
    await writeDocs(admin, leaderIndex, 0, 100);
    const logger = memoryLogger();
    const env = { LEADER_PASSWORD: users.leader.password, FOLLOWER_PASSWORD: users.follower.password };
    const yaml = [
      'clusters:',
      clusterYaml('leader', secured.url, { auth: [`username: ${users.leader.username}`, 'password: ${LEADER_PASSWORD}'], tls: [`ca: ${certs.ca.certFile}`] }),
      clusterYaml('follower', secured.url, { auth: [`username: ${users.follower.username}`, 'password: ${FOLLOWER_PASSWORD}'], tls: [`fingerprint: ${certs.caFingerprint}`] }),
      '',
    ].join('\n');
    const daemon = await startDaemon(yaml, env, await mkdtemp(join(workDir, 'state-')), logger);
    try {
      await daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex, params: { reconcile_interval: '1s' } });
      await waitForCaughtUp(daemon, admin, leaderIndex, followerIndex);
      // What the follower user must be able to do beyond bulk writes: a new field (mapping), a
      // setting, an alias, and deletes found by reconciliation (reads of the follower index).
      await writeDocs(admin, leaderIndex, 100, 50, { added_later: 'a new field' });
      await admin.putSettings(leaderIndex, { 'index.max_result_window': 20_000 });
      await admin.updateAliases([{ add: { index: leaderIndex, alias: aliasName } }]);
      await admin.writeDocuments(leaderIndex, Array.from({ length: 10 }, (_, i) => ({ op: 'delete' as const, id: `doc-${i}` })));
      await waitFor(async () => {
        const stats = statsOf(daemon, followerIndex);
        if (stats.fatal_exception) throw new Error(`paused: ${stats.fatal_exception.reason}`);
        return (await compareIndices(admin, leaderIndex, admin, followerIndex)).length === 0;
      }, { timeoutMs: 120_000, intervalMs: 1000, message: () => `${followerIndex} to match ${leaderIndex}` });
      const meta = await admin.indexMetadata(followerIndex);
      expect(JSON.stringify(meta.mappings)).to.include('added_later');
      await waitFor(async () => {
        const m = await admin.indexMetadata(followerIndex);
        return String(m.settings['index.max_result_window']) === '20000' && Object.keys(m.aliases ?? {}).includes(aliasName);
      }, { timeoutMs: 60_000, intervalMs: 500, message: 'the setting and the alias on the follower' });
      expect(statsOf(daemon, followerIndex).status).to.equal('active');
      await expectNoSecretsAnywhere(daemon, logger);
    } catch (err) {
      printLogs(logger);
      throw err;
    } finally {
      await stopDaemon(daemon);
    }
  });

  it('keeps its state in the follower cluster with the README\'s state-index privileges, and no secret in it', async () => {
    const leaderIndex = uniqueName('ccr-sec-lp-leader');
    const followerIndex = uniqueName('ccr-sec-lp-follower');
    const stateIndex = `.ccr-follow-state-${uniqueName('t')}`;
    await createLeaderIndex(admin, leaderIndex, { shards: 2 });
    created.push({ client: () => admin, index: leaderIndex }, { client: () => admin, index: followerIndex }, { client: () => admin, index: stateIndex });
    await writeDocs(admin, leaderIndex, 0, 50);
    const logger = memoryLogger();
    const env = { LEADER_PASSWORD: users.leader.password, FOLLOWER_PASSWORD: users.follower.password };
    const yaml = [
      'clusters:',
      clusterYaml('leader', secured.url, { auth: [`username: ${users.leader.username}`, 'password: ${LEADER_PASSWORD}'], tls: [`ca: ${certs.ca.certFile}`] }),
      clusterYaml('follower', secured.url, { auth: [`username: ${users.follower.username}`, 'password: ${FOLLOWER_PASSWORD}'], tls: [`ca: ${certs.ca.certFile}`] }),
      'daemon:',
      `  state: { cluster: follower, index: "${stateIndex}" }`,
      '',
    ].join('\n');
    const first = await startDaemon(yaml, env, await mkdtemp(join(workDir, 'state-')), logger);
    try {
      await first.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
      await waitForCaughtUp(first, admin, leaderIndex, followerIndex);
    } catch (err) {
      printLogs(logger);
      throw err;
    } finally {
      await stopDaemon(first);
    }
    const record = await admin.getVersionedDocument(stateIndex, `follower:follower/${followerIndex}`);
    expect(record, 'the follow record in the state index').to.not.equal(undefined);
    await admin.refresh(stateIndex);
    const stored = JSON.stringify((await admin.raw<unknown>('read the state index', { method: 'POST', path: `/${stateIndex}/_search`, body: { size: 100 } })).body);
    expect(stored).to.contain(followerIndex);
    for (const secret of [users.leader.password, users.follower.password]) expect(stored).to.not.contain(secret);

    // Another daemon, another state directory: it carries on from the state index.
    await writeDocs(admin, leaderIndex, 50, 20);
    const second = await startDaemon(yaml, env, await mkdtemp(join(workDir, 'state-')), logger);
    try {
      await waitForCaughtUp(second, admin, leaderIndex, followerIndex);
      expect(await compareIndices(admin, leaderIndex, admin, followerIndex)).to.deep.equal([]);
    } finally {
      await stopDaemon(second);
    }
  });

  it('follows a secured HTTPS leader into a shared follower, and pauses with the reason when the leader user loses its privileges', async () => {
    const leaderIndex = uniqueName('ccr-sec-revocable-leader');
    expect(leaderIndex).to.match(new RegExp(`^${REVOCABLE_PATTERN.replace('*', '')}`));
    const followerIndex = uniqueName('follower-of-revocable');
    const key = `follower/${followerIndex}`;
    await createLeaderIndex(admin, leaderIndex, { shards: 2 });
    created.push({ client: () => admin, index: leaderIndex }, { client: () => sharedFollower, index: followerIndex });
    await writeDocs(admin, leaderIndex, 0, 200);
    const logger = memoryLogger();
    const env = { LEADER_PASSWORD: users.revocable.password };
    const yaml = `clusters:\n${clusterYaml('leader', secured.url, { auth: [`username: ${users.revocable.username}`, 'password: ${LEADER_PASSWORD}'], tls: [`ca: ${certs.ca.certFile}`] })}\n${sharedFollowerYaml(env)}\n`;
    const daemon = await startDaemon(yaml, env, await mkdtemp(join(workDir, 'state-')), logger);
    const check = { user: users.revocable, index: leaderIndex, privilege: 'read' };
    try {
      await daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
      await waitForCaughtUp(daemon, admin, leaderIndex, followerIndex);
      expect(await compareIndices(admin, leaderIndex, sharedFollower, followerIndex)).to.deep.equal([]);

      // An administrator takes the index privileges away while the follow runs.
      await secured.setRole('ccr_revocable', roleBody(REVOCABLE_PATTERN, []), { ...check, expected: false });
      await writeDocs(admin, leaderIndex, 200, 50);
      const info = await waitForFatalPause(daemon, key);
      console.log(`      fatal_exception: ${info.fatal_exception!.type}: ${info.fatal_exception!.reason}`);
      expect(info.fatal_exception!.type).to.equal('security_exception');
      expect(info.fatal_exception!.reason).to.match(
        new RegExp(`^\\[leader\\] .* 403 security_exception: action \\[[^\\]]+\\] is unauthorized for user \\[ccr_revocable\\].*${leaderIndex}.*; grant the user of clusters\\.leader\\.auth the missing privilege`));
      const stats = statsOf(daemon, followerIndex);
      expect(stats.status).to.equal('paused');
      expect(stats.fatal_exception?.reason).to.equal(info.fatal_exception!.reason);
      expect(logger.entries.some((e) => e.level === 'error' && e.message.includes('follower paused after a fatal error') && e.message.includes('[leader]'))).to.equal(true);
      await expectNoSecretsAnywhere(daemon, logger);

      // Once the privileges are back, a resume continues where it stopped.
      await secured.setRole('ccr_revocable', roleBody(REVOCABLE_PATTERN, LEADER_PRIVILEGES), { ...check, expected: true });
      await daemon.manager.resume(key);
      await waitForCaughtUp(daemon, admin, leaderIndex, followerIndex);
      expect(await compareIndices(admin, leaderIndex, sharedFollower, followerIndex)).to.deep.equal([]);
    } catch (err) {
      printLogs(logger);
      throw err;
    } finally {
      await secured.setRole('ccr_revocable', roleBody(REVOCABLE_PATTERN, LEADER_PRIVILEGES), { ...check, expected: true }).catch(() => undefined);
      await stopDaemon(daemon);
    }
  });

  it('pauses a restored follower when the daemon restarts with a wrong password, or with a CA that does not match, each with its reason', async () => {
    const leaderIndex = uniqueName('ccr-sec-restart-leader');
    const followerIndex = uniqueName('follower-of-restart');
    const key = `follower/${followerIndex}`;
    await createLeaderIndex(admin, leaderIndex, { shards: 2 });
    created.push({ client: () => admin, index: leaderIndex }, { client: () => sharedFollower, index: followerIndex });
    await writeDocs(admin, leaderIndex, 0, 100);
    const stateDir = await mkdtemp(join(workDir, 'state-'));
    const wrong = `rotated-${users.leader.password}`;
    secrets.push(wrong);
    const yamlWith = (env: Record<string, string>, tls: string[]): string =>
      `clusters:\n${clusterYaml('leader', secured.url, { auth: [`username: ${users.leader.username}`, 'password: ${LEADER_PASSWORD}'], tls })}\n${sharedFollowerYaml(env)}\n`;
    const run = async (password: string, tls: string[], body: (daemon: Daemon, logger: MemoryLogger) => Promise<void>): Promise<void> => {
      const logger = memoryLogger();
      const env = { LEADER_PASSWORD: password };
      const daemon = await startDaemon(yamlWith(env, tls), env, stateDir, logger);
      try {
        await body(daemon, logger);
        await expectNoSecretsAnywhere(daemon, logger);
      } catch (err) {
        printLogs(logger);
        throw err;
      } finally {
        await stopDaemon(daemon);
      }
    };
    const goodTls = [`ca: ${certs.ca.certFile}`];

    await run(users.leader.password, goodTls, async (daemon) => {
      await daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
      await waitForCaughtUp(daemon, admin, leaderIndex, followerIndex);
    });
    await writeDocs(admin, leaderIndex, 100, 20);

    // The password was rotated on the cluster, not in the daemon's environment.
    await run(wrong, goodTls, async (daemon) => {
      const info = await waitForFatalPause(daemon, key);
      expect(info.fatal_exception!.type).to.equal('security_exception');
      expect(info.fatal_exception!.reason).to.match(/^\[leader\] .* 401 security_exception: unable to authenticate user \[ccr_leader\].*; check the credentials in clusters\.leader\.auth/);
    });

    // The cluster's certificate now comes from a CA the config does not name.
    await run(users.leader.password, [`ca: ${certs.otherCa.certFile}`], async (daemon) => {
      await daemon.manager.resume(key);
      const info = await waitForFatalPause(daemon, key);
      expect(info.fatal_exception!.type).to.equal('ClusterTlsError');
      expect(info.fatal_exception!.reason).to.match(/^\[leader\] .*TLS: the cluster's certificate is not signed by a trusted CA .*SELF_SIGNED_CERT_IN_CHAIN.*set clusters\.leader\.tls\.ca/);
    });

    // Fixed: a resume carries on from the checkpoints.
    await run(users.leader.password, goodTls, async (daemon) => {
      expect(infoOf(daemon, key).status).to.equal('paused');
      await daemon.manager.resume(key);
      await waitForCaughtUp(daemon, admin, leaderIndex, followerIndex);
      expect(await compareIndices(admin, leaderIndex, sharedFollower, followerIndex)).to.deep.equal([]);
    });
  });
});

