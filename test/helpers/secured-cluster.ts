/**
 * One extra Elasticsearch 8.19 node with security on, for tests of TLS and authentication: HTTPS
 * with certificates this helper makes with `openssl`, HTTP basic auth through the file realm
 * (docs/architecture.md, "Facts about the test distributions"), single node. Started lazily by the first
 * `securedCluster()` call, shared by every test file of the run, and stopped by a mocha root
 * `after` hook registered below (or by `stopSecuredCluster()`).
 *
 * TLS (`makeTestCertificates`): a test CA signs the node's HTTP certificate (for 127.0.0.1 and
 * localhost; the node sends it with the CA as its chain, so the CA's fingerprint can be pinned)
 * and a client certificate. The node asks for client certificates
 * (`client_authentication: optional`): none is fine, one from the test CA is accepted, any other is
 * refused — which lets mutual TLS be tested without locking out clients that send none. Also made,
 * for tests against endpoints of their own: an expired certificate, one for another host name, an
 * unrelated CA, and a client certificate that CA signed.
 *
 * Users (file realm) and their roles, in the node's `roles.yml`:
 *  - `ccr_admin`, superuser: test set-up.
 *  - `ccr_leader` and `ccr_follower`: the least privileges README's "Security" section gives a
 *    leader and a follower user, on indices named `ccr-sec-*` (LEAST_PRIVILEGE_PATTERN).
 *  - `ccr_revocable`: the leader role's privileges on `ccr-sec-revocable-*`, in a role of its own
 *    that a test may take away (`setRole`) while a follow runs.
 * Passwords are random, so that a leak in any output is unambiguous. The `users` and `users_roles`
 * files are written here directly, with PBKDF2 hashes in the file realm's format
 * (`{PBKDF2}<cost>$<salt>$<hash>`, PBKDF2-HMAC-SHA512, 32-byte salt and hash), rather than with
 * `elasticsearch-users`, which starts a JVM per user (~15 s each on a busy 2-core machine).
 *
 * How the node is prepared, without any hook in LocalNode:
 *  - LocalNode copies the distribution's `config/` into `<baseDir>/<name>/config` only when that
 *    folder does not exist yet, so we create it first: copy the distribution's config, add the
 *    users, roles and certificates. As root, LocalNode then `chown -R`s the whole node dir to the
 *    node user before the JVM starts, so the files written here by root are the node user's too.
 *  - LocalNode's health and version probes send no credentials; on a secured node they get 401 and
 *    the start times out. So requests *without* credentials are mapped to an anonymous user whose
 *    only role (`ccr_test_health`) has the cluster `monitor` privilege: enough for
 *    `_cluster/health` and `_nodes/_local`, nothing on any index. A request *with* credentials is
 *    still authenticated as sent: a wrong password gets 401. The probes trust the test CA through
 *    LocalNode's `https` option. Elasticsearch also adds anonymous roles to every authenticated
 *    user: the least-privilege roles are tested with cluster `monitor` on top, which they have
 *    anyway.
 *
 * Environment variables (like clusters.ts): CCR_TEST_SECURED_ES_URL with
 * CCR_TEST_SECURED_ES_USERNAME, CCR_TEST_SECURED_ES_PASSWORD and, for an https:// URL,
 * CCR_TEST_SECURED_ES_CA (a PEM file) use a secured cluster you already run instead of starting
 * one. Tests that need this helper's users or certificates skip on such a cluster.
 */
import { execFile } from 'node:child_process';
import { pbkdf2Sync, randomBytes, X509Certificate } from 'node:crypto';
import { appendFile, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterConfig } from '../../src/cluster/cluster-config.js';
import { ELASTICSEARCH_8, LocalNode, ensureDistribution } from '../../src/local-cluster/index.js';
import { removeStaleBaseDirs } from './clusters.js';
import { waitFor } from './wait-for.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** A certificate and its key, as files and as PEM text. */
export interface CertificatePair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestCertificates {
  readonly dir: string;
  /** The test CA: signs the node's HTTP certificate, `client`, `expired` and `wrongHost`. */
  readonly ca: CertificatePair;
  /** SHA-256 fingerprint of the test CA, lowercase hex without colons. */
  readonly caFingerprint: string;
  /** The node's HTTP certificate (127.0.0.1, localhost); `cert` is the chain: itself, then the CA. */
  readonly node: CertificatePair;
  /** A client certificate from the test CA: the node accepts it. */
  readonly client: CertificatePair;
  /** A CA nothing here trusts, and a client certificate it signed. */
  readonly otherCa: CertificatePair;
  readonly untrustedClient: CertificatePair;
  /** From the test CA, for 127.0.0.1, but expired yesterday. */
  readonly expired: CertificatePair;
  /** From the test CA, valid, but for wrong-host.invalid only. */
  readonly wrongHost: CertificatePair;
}

export type SecuredUser = 'leader' | 'follower' | 'revocable';

export interface SecuredCluster {
  readonly url: string;
  /** A file-realm superuser. */
  readonly username: string;
  readonly password: string;
  readonly version: string;
  /** True when it came from CCR_TEST_SECURED_ES_URL rather than being started here. */
  readonly external: boolean;
  /** The node's stdout/stderr log; undefined for an external cluster. */
  readonly logFile: string | undefined;
  /** The `Authorization` header value for the superuser. */
  readonly authorization: string;
  /** PEM of the CA to trust for `url` (undefined for an external http:// cluster), and its file. */
  readonly ca: string | undefined;
  readonly caFile: string | undefined;
  /** Certificates and least-privilege users; undefined for an external cluster. */
  readonly certificates: TestCertificates | undefined;
  readonly users: Readonly<Record<SecuredUser, Credentials>> | undefined;
  /** A cluster config trusting `ca`, as the superuser or as `user`. */
  clusterConfig(alias: string, user?: Credentials): ClusterConfig;
  /**
   * Replaces one role of `roles.yml` (YAML body of the role, indented under its name) and waits
   * until the node applies it: `check` is the `_has_privileges` request `user` must now get
   * `expected` for. Local clusters only.
   */
  setRole(role: string, body: string, check: { user: Credentials; index: string; privilege: string; expected: boolean }): Promise<void>;
}

/** Index names the least-privilege roles cover. */
export const LEAST_PRIVILEGE_PATTERN = 'ccr-sec-*';
export const REVOCABLE_PATTERN = 'ccr-sec-revocable-*';

const NODE_NAME = 'securedEs';
const BASE_DIR_PREFIX = 'ccr-follow-secured-';
const ADMIN = 'ccr_admin';
const HEALTH_ROLE = 'ccr_test_health';
const REQUEST_TIMEOUT_MS = 30_000;
const ENV_PREFIX = 'CCR_TEST_SECURED_ES';

/**
 * The roles README's "Security" section documents, checked here by running follows with them.
 * Leader: read documents and shard stats, read index metadata, refresh. Follower: create and
 * write the follower index, keep its mapping, settings and aliases in step, read it back for
 * reconciliation. Both: `monitor` for `GET /`, `_nodes/_local` and `_cluster/state`.
 */
const BASE_ROLES: Readonly<Record<string, string>> = {
  [HEALTH_ROLE]: '  cluster: [ "monitor" ]\n',
  ccr_leader: roleBody(LEAST_PRIVILEGE_PATTERN, ['read', 'monitor', 'view_index_metadata', 'maintenance']),
  // With the state index of `daemon.state.cluster` (README: State in the follower cluster).
  ccr_follower: `${roleBody(LEAST_PRIVILEGE_PATTERN, ['read', 'write', 'manage'])}`
    + '    - names: [ ".ccr-follow-state*" ]\n      privileges: [ "create_index", "read", "write", "view_index_metadata", "maintenance" ]\n',
  ccr_revocable: roleBody(REVOCABLE_PATTERN, ['read', 'monitor', 'view_index_metadata', 'maintenance']),
};
const USER_ROLES: Readonly<Record<SecuredUser, string>> = { leader: 'ccr_leader', follower: 'ccr_follower', revocable: 'ccr_revocable' };

/** The YAML body of a role with cluster `monitor` and `privileges` on `pattern`. */
export function roleBody(pattern: string, privileges: readonly string[]): string {
  const indices = privileges.length === 0 ? '' : `  indices:\n    - names: [ "${pattern}" ]\n      privileges: [ ${privileges.map((p) => `"${p}"`).join(', ')} ]\n`;
  return `  cluster: [ "monitor" ]\n${indices}`;
}

let secured: Promise<SecuredCluster> | undefined;
let node: LocalNode | undefined;
let baseDir: string | undefined;

/** The shared secured node; the first call starts it, later calls get the same one (or the same failure). */
export function securedCluster(): Promise<SecuredCluster> {
  secured ??= process.env[`${ENV_PREFIX}_URL`] ? connectExternal() : startLocal();
  return secured;
}

/** Stops the node if this process started one and removes its directory (unless CCR_TEST_KEEP_DIRS=1). Idempotent. */
export async function stopSecuredCluster(): Promise<void> {
  await secured?.catch(() => undefined);
  secured = undefined;
  const started = node;
  node = undefined;
  try {
    await started?.stop();
  } finally {
    if (baseDir && process.env['CCR_TEST_KEEP_DIRS'] !== '1') await rm(baseDir, { recursive: true, force: true });
    baseDir = undefined;
  }
}

// A root-level hook: this module is first evaluated while mocha loads a spec file, outside any
// describe(), so `after` registers on the root suite and runs once, after every test file.
// Outside mocha (a script importing the helper) there is no `after`; stop explicitly there.
if (typeof after === 'function') {
  after(async function () {
    this.timeout(60_000);
    await stopSecuredCluster();
  });
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

interface ClusterFields {
  url: string; username: string; password: string; version: string; external: boolean; logFile: string | undefined;
  ca: string | undefined; caFile: string | undefined; certificates: TestCertificates | undefined;
  users: Readonly<Record<SecuredUser, Credentials>> | undefined; rolesFile: string | undefined;
}

function makeCluster(fields: ClusterFields): SecuredCluster {
  const { rolesFile, ...visible } = fields;
  const cluster: SecuredCluster = {
    ...visible,
    authorization: basicAuth(fields.username, fields.password),
    clusterConfig: (alias, user = fields) => ({
      alias, urls: [fields.url], auth: { type: 'basic', username: user.username, password: user.password }, requestTimeoutMs: REQUEST_TIMEOUT_MS,
      ...(fields.ca !== undefined ? { tls: { ca: fields.ca, rejectUnauthorized: true } } : {}),
    }),
    setRole: async (role, body, check) => {
      if (!rolesFile) throw new Error('setRole needs a secured node started by this helper');
      // In place (not a new file): the node user keeps owning it, and the node's file watcher
      // reloads roles.yml on its own (5 s by default).
      await writeFile(rolesFile, rolesYaml({ ...BASE_ROLES, [role]: body }));
      await waitFor(async () => (await hasPrivilege(cluster, check.user, check.index, check.privilege)) === check.expected, {
        timeoutMs: 60_000, intervalMs: 500,
        message: `${check.user.username} to have ${check.privilege} on ${check.index}: ${check.expected} (roles.yml reloaded)`,
      });
    },
  };
  return cluster;
}

function rolesYaml(roles: Readonly<Record<string, string>>): string {
  return `# ccr-follow tests (test/helpers/secured-cluster.ts)\n${Object.entries(roles).map(([name, body]) => `${name}:\n${body}`).join('')}`;
}

async function hasPrivilege(cluster: SecuredCluster, user: Credentials, index: string, privilege: string): Promise<boolean> {
  const res = await requestJson(cluster, 'POST', '/_security/user/_has_privileges', basicAuth(user.username, user.password), {
    index: [{ names: [index], privileges: [privilege] }],
  });
  const body = res.body as { has_all_requested?: boolean } | undefined;
  if (res.status !== 200 || typeof body?.has_all_requested !== 'boolean') throw new Error(`_has_privileges answered ${res.status}: ${JSON.stringify(body)}`);
  return body.has_all_requested;
}

async function startLocal(): Promise<SecuredCluster> {
  const started = Date.now();
  await removeStaleBaseDirs(BASE_DIR_PREFIX);
  baseDir = join(tmpdir(), `${BASE_DIR_PREFIX}${process.pid}`);
  // Not mkdtemp: its mode 700 would lock out the unprivileged user the node runs as under root.
  await mkdir(baseDir, { recursive: true, mode: 0o755 });
  const local = await ensureDistribution(ELASTICSEARCH_8, { log: (msg) => console.log(`[secured] ${msg}`) });

  const configDir = join(baseDir, NODE_NAME, 'config');
  await cp(join(local.home, 'config'), configDir, { recursive: true });
  const certificates = await makeTestCertificates(join(configDir, 'certs'));
  // ES wants at least 6 characters.
  const password = `pw-${randomBytes(9).toString('hex')}`;
  const users: Record<SecuredUser, Credentials> = {
    leader: { username: 'ccr_leader', password: `pw-${randomBytes(9).toString('hex')}` },
    follower: { username: 'ccr_follower', password: `pw-${randomBytes(9).toString('hex')}` },
    revocable: { username: 'ccr_revocable', password: `pw-${randomBytes(9).toString('hex')}` },
  };
  const all: [Credentials, string][] = [
    [{ username: ADMIN, password }, 'superuser'],
    ...(Object.entries(users) as [SecuredUser, Credentials][]).map(([kind, user]): [Credentials, string] => [user, USER_ROLES[kind]]),
  ];
  await writeFile(join(configDir, 'users'), all.map(([user]) => `${user.username}:${fileRealmHash(user.password)}\n`).join(''));
  await writeFile(join(configDir, 'users_roles'), all.map(([user, role]) => `${role}:${user.username}\n`).join(''));
  const rolesFile = join(configDir, 'roles.yml');
  await appendFile(rolesFile, `\n${rolesYaml(BASE_ROLES)}`);

  node = new LocalNode({
    name: NODE_NAME,
    distribution: ELASTICSEARCH_8,
    baseDir,
    heap: '512m',
    https: { ca: certificates.ca.cert },
    extraSettings: {
      'xpack.security.enabled': 'true',
      'xpack.security.http.ssl.enabled': 'true',
      // Relative to the config folder, where ES may read them.
      'xpack.security.http.ssl.key': 'certs/node.key',
      'xpack.security.http.ssl.certificate': 'certs/node.pem',
      'xpack.security.http.ssl.certificate_authorities': 'certs/ca.pem',
      'xpack.security.http.ssl.client_authentication': 'optional',
      'xpack.security.transport.ssl.enabled': 'false',
      'xpack.security.authc.anonymous.username': 'ccr_test_health_probe',
      'xpack.security.authc.anonymous.roles': HEALTH_ROLE,
    },
  });
  await node.start();
  const cluster = makeCluster({
    url: node.url, username: ADMIN, password, version: node.version ?? ELASTICSEARCH_8.version, external: false, logFile: node.logFile,
    ca: certificates.ca.cert, caFile: certificates.ca.certFile, certificates, users, rolesFile,
  });
  await assertAuthenticates(cluster);
  console.log(`[secured] ${NODE_NAME}: Elasticsearch ${cluster.version} with security and TLS at ${cluster.url} (users ${ADMIN}, ${Object.values(users).map((u) => u.username).join(', ')}; started in ${((Date.now() - started) / 1000).toFixed(1)} s, log ${node.logFile})`);
  return cluster;
}

async function connectExternal(): Promise<SecuredCluster> {
  const url = process.env[`${ENV_PREFIX}_URL`]!.replace(/\/+$/, '');
  const username = process.env[`${ENV_PREFIX}_USERNAME`];
  const password = process.env[`${ENV_PREFIX}_PASSWORD`];
  const caFile = process.env[`${ENV_PREFIX}_CA`] || undefined;
  if (!username || !password) throw new Error(`${ENV_PREFIX}_URL is set: set ${ENV_PREFIX}_USERNAME and ${ENV_PREFIX}_PASSWORD too`);
  const ca = caFile === undefined ? undefined : await readFile(caFile, 'utf8');
  const fields = { url, username, password, external: true, logFile: undefined, ca, caFile, certificates: undefined, users: undefined, rolesFile: undefined };
  const version = await assertAuthenticates(makeCluster({ ...fields, version: 'unknown' }));
  console.log(`[secured] Elasticsearch ${version} with security at ${url} (external)`);
  return makeCluster({ ...fields, version });
}

/** Checks that the credentials work and that security is really on; returns the node's version. */
async function assertAuthenticates(cluster: SecuredCluster): Promise<string> {
  const res = await requestJson(cluster, 'GET', '/_security/_authenticate', cluster.authorization);
  const body = res.body as { username?: string } | undefined;
  if (res.status !== 200 || body?.username !== cluster.username) {
    throw new Error(`secured node at ${cluster.url}: GET /_security/_authenticate as ${cluster.username} answered ${res.status} (${JSON.stringify(body)})`);
  }
  const wrong = await requestJson(cluster, 'GET', '/_cluster/health', basicAuth(cluster.username, `${cluster.password}-wrong`));
  if (wrong.status !== 401) throw new Error(`secured node at ${cluster.url}: a wrong password got HTTP ${wrong.status}, expected 401: is security on?`);
  for (const user of Object.values(cluster.users ?? {})) {
    const as = await requestJson(cluster, 'GET', '/_security/_authenticate', basicAuth(user.username, user.password));
    if (as.status !== 200) throw new Error(`secured node at ${cluster.url}: ${user.username} cannot authenticate (HTTP ${as.status}: ${JSON.stringify(as.body)})`);
  }
  const nodes = await requestJson(cluster, 'GET', '/_nodes/_local?filter_path=nodes.*.version', cluster.authorization);
  const info = nodes.body as { nodes?: Record<string, { version?: string }> } | undefined;
  return Object.values(info?.nodes ?? {})[0]?.version ?? 'unknown';
}

/** One request to the secured node, trusting its CA (`fetch` cannot be given one). */
export function requestJson(cluster: Pick<SecuredCluster, 'url' | 'ca'>, method: string, path: string, authorization: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, cluster.url);
  if (url.protocol === 'http:') {
    return fetch(url, {
      method, headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    }).then(async (res) => ({ status: res.status, body: await res.json().catch(() => undefined) }));
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, {
      method, ca: cluster.ca, timeout: REQUEST_TIMEOUT_MS,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', reject);
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/**
 * Makes the test certificates in `dir` with `openssl` (EC P-256 keys: fast to make). Each leaf
 * certificate says what it is for (serverAuth / clientAuth), as ES and Node check.
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const file = (name: string): string => join(dir, name);
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  const makeCa = async (name: string, cn: string): Promise<CertificatePair> => {
    await openssl(['req', '-x509', ...newKey, '-keyout', file(`${name}.key`), '-out', file(`${name}.pem`), '-days', '30', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    return pair(name);
  };
  const makeLeaf = async (name: string, issuer: string, opts: { cn: string; san?: string; usage: 'serverAuth' | 'clientAuth'; days: number }): Promise<void> => {
    await openssl(['req', ...newKey, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${opts.cn}`]);
    const extensions = [
      'basicConstraints=critical,CA:FALSE',
      `extendedKeyUsage=${opts.usage}`,
      ...(opts.san ? [`subjectAltName=${opts.san}`] : []),
    ];
    await writeFile(file(`${name}.ext`), `${extensions.join('\n')}\n`);
    // A negative -days puts notAfter before notBefore (now): an expired certificate, made today.
    await openssl(['x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${issuer}.pem`), '-CAkey', file(`${issuer}.key`),
      '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', String(opts.days), '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`)]);
  };
  const pair = async (name: string, certName = name): Promise<CertificatePair> => ({
    certFile: file(`${certName}.pem`), keyFile: file(`${name}.key`),
    cert: await readFile(file(`${certName}.pem`), 'utf8'), key: await readFile(file(`${name}.key`), 'utf8'),
  });

  const ca = await makeCa('ca', 'ccr-follow test CA');
  const otherCa = await makeCa('other-ca', 'ccr-follow unrelated test CA');
  const localhost = 'IP:127.0.0.1,DNS:localhost';
  await makeLeaf('node-leaf', 'ca', { cn: 'localhost', san: localhost, usage: 'serverAuth', days: 30 });
  // The node sends its certificate with the CA after it, so clients can pin the CA's fingerprint.
  await writeFile(file('node.pem'), `${await readFile(file('node-leaf.pem'), 'utf8')}${ca.cert}`);
  await cp(file('node-leaf.key'), file('node.key'));
  await makeLeaf('client', 'ca', { cn: 'ccr-follow test client', usage: 'clientAuth', days: 30 });
  await makeLeaf('untrusted-client', 'other-ca', { cn: 'ccr-follow untrusted client', usage: 'clientAuth', days: 30 });
  await makeLeaf('expired', 'ca', { cn: 'localhost', san: localhost, usage: 'serverAuth', days: -1 });
  await makeLeaf('wrong-host', 'ca', { cn: 'wrong-host.invalid', san: 'DNS:wrong-host.invalid', usage: 'serverAuth', days: 30 });
  return {
    dir,
    ca,
    caFingerprint: new X509Certificate(ca.cert).fingerprint256.replace(/:/g, '').toLowerCase(),
    node: await pair('node'),
    client: await pair('client'),
    otherCa,
    untrustedClient: await pair('untrusted-client'),
    expired: await pair('expired'),
    wrongHost: await pair('wrong-host'),
  };
}

/** A password hash the file realm reads (Elasticsearch's `Hasher.PBKDF2`: cost 10000). */
function fileRealmHash(password: string): string {
  const salt = randomBytes(32);
  return `{PBKDF2}10000$${salt.toString('base64')}$${pbkdf2Sync(password, salt, 10_000, 32, 'sha512').toString('base64')}`;
}

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { timeout: 60_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${err.message}; ${stderr.trim()}`));
      else resolve();
    });
  });
}
