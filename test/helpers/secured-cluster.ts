/**
 * One extra Elasticsearch 8.19 node with security on, for tests of authentication: HTTP basic auth
 * through the file realm (CLUSTERS.md, "Security on ES 8.19's zip"), plain HTTP, single node.
 * Started lazily by the first `securedCluster()` call, shared by every test file of the run, and
 * stopped by a mocha root `after` hook registered below (or by `stopSecuredCluster()`).
 *
 * How the node is prepared, without any hook in LocalNode:
 *  - LocalNode copies the distribution's `config/` into `<baseDir>/<name>/config` only when that
 *    folder does not exist yet, so we create it first: copy the distribution's config, then run
 *    `bin/elasticsearch-users useradd USER -p PASS -r superuser` with `ES_PATH_CONF` pointing at the
 *    copy. As root, LocalNode then `chown -R`s the whole node dir to the node user before the JVM
 *    starts, so the users files written here by root are the node user's too.
 *  - LocalNode's health and version probes send no credentials; on a secured node they get 401 and
 *    the start times out. So requests *without* credentials are mapped to an anonymous user whose
 *    only role (`ccr_test_health`, in the copy's `roles.yml`) has the cluster `monitor` privilege:
 *    enough for `_cluster/health` and `_nodes/_local`, nothing on any index. A request *with*
 *    credentials is still authenticated as sent: a wrong password gets 401.
 *
 * Environment variables (like clusters.ts): CCR_TEST_SECURED_ES_URL with
 * CCR_TEST_SECURED_ES_USERNAME and CCR_TEST_SECURED_ES_PASSWORD use a secured cluster you already
 * run instead of starting one.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, cp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterConfig } from '../../src/cluster/cluster-config.js';
import { ELASTICSEARCH_8, LocalNode, ensureDistribution } from '../../src/cluster/local/index.js';
import { removeStaleBaseDirs } from './clusters.js';

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
  /** A cluster config with the superuser's credentials. */
  clusterConfig(alias: string): ClusterConfig;
}

const NODE_NAME = 'securedEs';
const BASE_DIR_PREFIX = 'ccr-follow-secured-';
const USERNAME = 'ccr_admin';
const HEALTH_ROLE = 'ccr_test_health';
const REQUEST_TIMEOUT_MS = 30_000;
const USERS_TOOL_TIMEOUT_MS = 120_000;
const ENV_PREFIX = 'CCR_TEST_SECURED_ES';

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

function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function makeCluster(fields: { url: string; username: string; password: string; version: string; external: boolean; logFile: string | undefined }): SecuredCluster {
  return {
    ...fields,
    authorization: basicAuth(fields.username, fields.password),
    clusterConfig: (alias) => ({
      alias, urls: [fields.url], auth: { type: 'basic', username: fields.username, password: fields.password }, requestTimeoutMs: REQUEST_TIMEOUT_MS,
    }),
  };
}

async function startLocal(): Promise<SecuredCluster> {
  const started = Date.now();
  await removeStaleBaseDirs(BASE_DIR_PREFIX);
  baseDir = join(tmpdir(), `${BASE_DIR_PREFIX}${process.pid}`);
  // Not mkdtemp: its mode 700 would lock out the unprivileged user the node runs as under root.
  await mkdir(baseDir, { recursive: true, mode: 0o755 });
  const local = await ensureDistribution(ELASTICSEARCH_8, { log: (msg) => console.log(`[secured] ${msg}`) });

  // ES wants at least 6 characters; random so that a leak in any output is unambiguous.
  const password = `pw-${randomBytes(9).toString('hex')}`;
  const configDir = join(baseDir, NODE_NAME, 'config');
  await cp(join(local.home, 'config'), configDir, { recursive: true });
  await run(join(local.home, 'bin', 'elasticsearch-users'), ['useradd', USERNAME, '-p', password, '-r', 'superuser'], {
    ...process.env, ES_PATH_CONF: configDir, ES_JAVA_HOME: local.javaHome, JAVA_HOME: local.javaHome,
  }, password);
  await appendFile(join(configDir, 'roles.yml'), `\n# ccr-follow tests: what LocalNode's credential-less health probe may read.\n${HEALTH_ROLE}:\n  cluster: [ "monitor" ]\n`);

  node = new LocalNode({
    name: NODE_NAME,
    distribution: ELASTICSEARCH_8,
    baseDir,
    heap: '512m',
    extraSettings: {
      'xpack.security.enabled': 'true',
      'xpack.security.http.ssl.enabled': 'false',
      'xpack.security.transport.ssl.enabled': 'false',
      'xpack.security.authc.anonymous.username': 'ccr_test_health_probe',
      'xpack.security.authc.anonymous.roles': HEALTH_ROLE,
    },
  });
  await node.start();
  const cluster = makeCluster({ url: node.url, username: USERNAME, password, version: node.version ?? ELASTICSEARCH_8.version, external: false, logFile: node.logFile });
  await assertAuthenticates(cluster);
  console.log(`[secured] ${NODE_NAME}: Elasticsearch ${cluster.version} with security at ${cluster.url} (user ${USERNAME}; started in ${((Date.now() - started) / 1000).toFixed(1)} s, log ${node.logFile})`);
  return cluster;
}

async function connectExternal(): Promise<SecuredCluster> {
  const url = process.env[`${ENV_PREFIX}_URL`]!.replace(/\/+$/, '');
  const username = process.env[`${ENV_PREFIX}_USERNAME`];
  const password = process.env[`${ENV_PREFIX}_PASSWORD`];
  if (!username || !password) throw new Error(`${ENV_PREFIX}_URL is set: set ${ENV_PREFIX}_USERNAME and ${ENV_PREFIX}_PASSWORD too`);
  const probe = makeCluster({ url, username, password, version: 'unknown', external: true, logFile: undefined });
  const cluster = makeCluster({ url, username, password, version: await assertAuthenticates(probe), external: true, logFile: undefined });
  console.log(`[secured] Elasticsearch ${cluster.version} with security at ${url} (external)`);
  return cluster;
}

/** Checks that the credentials work and that security is really on; returns the node's version. */
async function assertAuthenticates(cluster: SecuredCluster): Promise<string> {
  const res = await fetch(`${cluster.url}/_security/_authenticate`, { headers: { authorization: cluster.authorization }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = (await res.json().catch(() => undefined)) as { username?: string } | undefined;
  if (!res.ok || body?.username !== cluster.username) {
    throw new Error(`secured node at ${cluster.url}: GET /_security/_authenticate as ${cluster.username} answered ${res.status} (${JSON.stringify(body)})`);
  }
  const wrong = await fetch(`${cluster.url}/_cluster/health`, { headers: { authorization: basicAuth(cluster.username, `${cluster.password}-wrong`) }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  await wrong.arrayBuffer();
  if (wrong.status !== 401) throw new Error(`secured node at ${cluster.url}: a wrong password got HTTP ${wrong.status}, expected 401: is security on?`);
  const nodes = await fetch(`${cluster.url}/_nodes/_local?filter_path=nodes.*.version`, { headers: { authorization: cluster.authorization }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const info = (await nodes.json().catch(() => undefined)) as { nodes?: Record<string, { version?: string }> } | undefined;
  return Object.values(info?.nodes ?? {})[0]?.version ?? 'unknown';
}

/** Runs a tool; its output is in the error when it fails, with `secret` blanked out. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv, secret: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: USERS_TOOL_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (!err) return resolve();
      const output = `${stdout}${stderr}`.split(secret).join('<password>').trim();
      reject(new Error(`${file} ${args[0]} failed (${err.message.split(secret).join('<password>').split('\n')[0]}): ${output}`));
    });
  });
}

