/**
 * The real clusters the test suite runs against, started once per test run (lazily, by the first
 * test that asks) and shared by all test files; mocha's global teardown stops them.
 *
 * Four single-node clusters: esLeader and esFollower (Elasticsearch 8.19.21), osLeader and
 * osFollower (OpenSearch 2.19.6), on loopback with a 512 MB heap, under
 * `<os.tmpdir()>/ccr-follow-test-<pid>/`.
 *
 * Environment variables:
 *   CCR_TEST_ES_LEADER_URL, CCR_TEST_ES_FOLLOWER_URL, CCR_TEST_OS_LEADER_URL, CCR_TEST_OS_FOLLOWER_URL
 *       Use a cluster you already run for that role instead of starting one, e.g.
 *       CCR_TEST_OS_FOLLOWER_URL=http://localhost:9201. Its flavor and version are detected; a
 *       cluster of the wrong flavor for the role is an error. Tests cannot stop/start/restart it.
 *   <same prefix>_USERNAME, <same prefix>_PASSWORD, e.g. CCR_TEST_ES_LEADER_USERNAME
 *       Basic auth for that external cluster.
 *   CCR_TEST_KEEP_DIRS=1
 *       Keep the nodes' directories (data, logs) after the run instead of deleting them.
 *   CCR_FOLLOW_CACHE, CCR_FOLLOW_JAVA_HOME
 *       Distribution cache and JDK, as for `ccr-follow quickstart`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterAuth, ClusterConfig } from '../../src/cluster/cluster-config.js';
import {
  DEFAULT_DISTRIBUTIONS,
  LocalNode,
  ensureDistribution,
  findFreePorts,
  type Flavor,
} from '../../src/local-cluster/index.js';

export type TestRole = 'esLeader' | 'esFollower' | 'osLeader' | 'osFollower';

export interface TestCluster {
  readonly role: TestRole;
  readonly flavor: Flavor;
  readonly version: string;
  readonly url: string;
  /** True when the cluster came from a CCR_TEST_*_URL variable rather than being started here. */
  readonly external: boolean;
  /** The node's stdout/stderr log; undefined for an external cluster. */
  readonly logFile: string | undefined;
  clusterConfig(alias: string): ClusterConfig;
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
}

export interface TestClusters {
  readonly esLeader: TestCluster;
  readonly esFollower: TestCluster;
  readonly osLeader: TestCluster;
  readonly osFollower: TestCluster;
  /** ES→ES, OS→OS, ES→OS (esLeader→osFollower) and OS→ES (osLeader→esFollower). */
  pair(leaderFlavor: Flavor, followerFlavor: Flavor): { leader: TestCluster; follower: TestCluster };
}

const ROLES: Readonly<Record<TestRole, { flavor: Flavor; envPrefix: string }>> = {
  esLeader: { flavor: 'elasticsearch', envPrefix: 'CCR_TEST_ES_LEADER' },
  esFollower: { flavor: 'elasticsearch', envPrefix: 'CCR_TEST_ES_FOLLOWER' },
  osLeader: { flavor: 'opensearch', envPrefix: 'CCR_TEST_OS_LEADER' },
  osFollower: { flavor: 'opensearch', envPrefix: 'CCR_TEST_OS_FOLLOWER' },
};
const ROLE_NAMES = Object.keys(ROLES) as TestRole[];
const BASE_DIR_PREFIX = 'ccr-follow-test-';
const REQUEST_TIMEOUT_MS = 30_000;

let clusters: Promise<TestClusters> | undefined;
/** Every node this process created, started or not, so teardown misses none. */
const startedNodes: LocalNode[] = [];
let baseDir: string | undefined;

/** The shared clusters; the first call starts them, later calls get the same ones. */
export function testClusters(): Promise<TestClusters> {
  clusters ??= startAll();
  return clusters;
}

/** Stops every node started here and removes their directories (unless CCR_TEST_KEEP_DIRS=1). */
export async function stopTestClusters(): Promise<void> {
  await clusters?.catch(() => undefined);
  clusters = undefined;
  const nodes = startedNodes.splice(0);
  const results = await Promise.allSettled(nodes.map((n) => n.stop()));
  if (baseDir && process.env['CCR_TEST_KEEP_DIRS'] !== '1') await rm(baseDir, { recursive: true, force: true });
  baseDir = undefined;
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0) throw new Error(`could not stop test clusters: ${failed.map((f) => String(f.reason)).join('; ')}`);
}

/** A fresh name per test, e.g. `leader-3fa9c02b`, so tests never share an index. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

async function startAll(): Promise<TestClusters> {
  const started = Date.now();
  const externalRoles = ROLE_NAMES.filter((role) => process.env[`${ROLES[role].envPrefix}_URL`]);
  const localRoles = ROLE_NAMES.filter((role) => !externalRoles.includes(role));

  const settled = await Promise.allSettled([
    ...externalRoles.map((role) => connectExternal(role)),
    ...(localRoles.length > 0 ? [startLocal(localRoles)] : []),
  ]);
  const failures = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => errorText(r.reason));
  if (failures.length > 0) throw new Error(`test clusters did not start:\n${failures.join('\n\n')}`);

  const byRole = new Map<TestRole, TestCluster>();
  for (const result of settled) {
    if (result.status !== 'fulfilled') continue;
    for (const cluster of [result.value].flat()) byRole.set(cluster.role, cluster);
  }
  const get = (role: TestRole): TestCluster => byRole.get(role)!;
  console.log(`[clusters] ready in ${seconds(Date.now() - started)}`);
  return {
    esLeader: get('esLeader'),
    esFollower: get('esFollower'),
    osLeader: get('osLeader'),
    osFollower: get('osFollower'),
    pair(leaderFlavor, followerFlavor) {
      return {
        leader: get(leaderFlavor === 'elasticsearch' ? 'esLeader' : 'osLeader'),
        follower: get(followerFlavor === 'elasticsearch' ? 'esFollower' : 'osFollower'),
      };
    },
  };
}

async function startLocal(roles: TestRole[]): Promise<TestCluster[]> {
  await removeStaleBaseDirs();
  baseDir = join(tmpdir(), `${BASE_DIR_PREFIX}${process.pid}`);
  // Not mkdtemp: its mode 700 would lock out the unprivileged user the nodes run as under root.
  await mkdir(baseDir, { recursive: true, mode: 0o755 });

  // Fetch each distribution once before the parallel starts, so node start times are JVM only.
  const fetchStarted = Date.now();
  const flavors = [...new Set(roles.map((role) => ROLES[role].flavor))];
  await Promise.all(flavors.map((f) => ensureDistribution(DEFAULT_DISTRIBUTIONS[f], { log: (msg) => console.log(`[clusters] ${msg}`) })));
  const fetchMs = Date.now() - fetchStarted;
  if (fetchMs > 1_000) console.log(`[clusters] distributions ready in ${seconds(fetchMs)}`);

  // All ports from one call so that no two nodes (HTTP or transport) can get the same one.
  const ports = await findFreePorts(roles.length * 2);
  const nodes = roles.map((role, i) => {
    const node = new LocalNode({
      name: role,
      distribution: DEFAULT_DISTRIBUTIONS[ROLES[role].flavor],
      baseDir: baseDir!,
      httpPort: ports[2 * i]!,
      transportPort: ports[2 * i + 1]!,
      heap: '512m',
      // Four JVMs starting at once on a 2-core CI runner took up to 72 s here; leave headroom.
      startTimeoutMs: 240_000,
    });
    startedNodes.push(node);
    return node;
  });

  const results = await Promise.allSettled(
    nodes.map(async (node) => {
      const nodeStarted = Date.now();
      await node.start();
      console.log(
        `[clusters] ${node.name}: ${productName(node.flavor)} ${node.version} at ${node.url} ` +
          `(started in ${seconds(Date.now() - nodeStarted)}, log ${node.logFile})`,
      );
      return new LocalTestCluster(node.name as TestRole, node);
    }),
  );
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => errorText(r.reason));
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
  return results.map((r) => (r as PromiseFulfilledResult<TestCluster>).value);
}

class LocalTestCluster implements TestCluster {
  readonly external = false;
  constructor(
    readonly role: TestRole,
    private readonly node: LocalNode,
  ) {}

  get flavor(): Flavor {
    return this.node.flavor;
  }
  get version(): string {
    return this.node.version ?? this.node.distribution.version;
  }
  get url(): string {
    return this.node.url;
  }
  get logFile(): string {
    return this.node.logFile;
  }
  clusterConfig(alias: string): ClusterConfig {
    return { alias, urls: [this.url], auth: { type: 'none' }, requestTimeoutMs: REQUEST_TIMEOUT_MS };
  }
  stop(): Promise<void> {
    return this.node.stop();
  }
  start(): Promise<void> {
    return this.node.start();
  }
  restart(): Promise<void> {
    return this.node.restart();
  }
}

class ExternalTestCluster implements TestCluster {
  readonly external = true;
  readonly logFile = undefined;
  constructor(
    readonly role: TestRole,
    readonly flavor: Flavor,
    readonly version: string,
    readonly url: string,
    private readonly auth: ClusterAuth,
  ) {}

  clusterConfig(alias: string): ClusterConfig {
    return { alias, urls: [this.url], auth: this.auth, requestTimeoutMs: REQUEST_TIMEOUT_MS };
  }
  stop(): Promise<void> {
    return this.notOurs('stop');
  }
  start(): Promise<void> {
    return this.notOurs('start');
  }
  restart(): Promise<void> {
    return this.notOurs('restart');
  }
  private notOurs(action: string): Promise<never> {
    return Promise.reject(
      new Error(`cannot ${action} ${this.role}: it is an external cluster (${ROLES[this.role].envPrefix}_URL=${this.url}); check cluster.external first`),
    );
  }
}

/** Detects flavor and version the way the product does: GET /_nodes/_local + X-Elastic-Product. */
async function connectExternal(role: TestRole): Promise<TestCluster> {
  const { envPrefix, flavor: expected } = ROLES[role];
  const url = process.env[`${envPrefix}_URL`]!.replace(/\/+$/, '');
  const username = process.env[`${envPrefix}_USERNAME`];
  const auth: ClusterAuth = username ? { type: 'basic', username, password: process.env[`${envPrefix}_PASSWORD`] ?? '' } : { type: 'none' };
  const headers: Record<string, string> =
    auth.type === 'basic' ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` } : {};

  let res: Response;
  try {
    res = await fetch(`${url}/_nodes/_local?filter_path=nodes.*.version`, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`${envPrefix}_URL=${url} does not answer: ${String((err as { cause?: unknown }).cause ?? err)}`);
  }
  const body = (await res.json().catch(() => undefined)) as { nodes?: Record<string, { version?: string }> } | undefined;
  const version = Object.values(body?.nodes ?? {})[0]?.version;
  if (!res.ok || !version) throw new Error(`${envPrefix}_URL=${url}: GET /_nodes/_local answered ${res.status} without a version`);
  const flavor: Flavor = res.headers.get('x-elastic-product') === 'Elasticsearch' ? 'elasticsearch' : 'opensearch';
  if (flavor !== expected) throw new Error(`${envPrefix}_URL=${url} is ${productName(flavor)} ${version}, but ${role} must be ${productName(expected)}`);
  console.log(`[clusters] ${role}: ${productName(flavor)} ${version} at ${url} (external)`);
  return new ExternalTestCluster(role, flavor, version, url, auth);
}

/** Removes `<tmpdir>/<prefix><pid>` dirs left by earlier runs that were killed before their teardown (their pid is gone). */
export async function removeStaleBaseDirs(prefix: string = BASE_DIR_PREFIX): Promise<void> {
  const entries = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = Number(entry.startsWith(prefix) ? entry.slice(prefix.length) : NaN);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) {
      await rm(join(tmpdir(), entry), { recursive: true, force: true });
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function productName(flavor: Flavor): string {
  return flavor === 'elasticsearch' ? 'Elasticsearch' : 'OpenSearch';
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
