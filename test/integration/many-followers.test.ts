/**
 * Hundreds of followed indices of one leader: the daemon's idle cost does not grow with them
 * (one shared checkpoint probe and one shared metadata probe per cluster), and each follower
 * still sees its first new operation within about a second, its mapping changes, and a leader
 * index deleted and created again under its name.
 */
import { expect } from 'chai';
import { chunkNames, expressionPath } from '../../src/cluster/index-expressions.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import { testClusters, uniqueName, type TestCluster } from '../helpers/clusters.js';
import { startTestDaemon, type TestDaemon } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const FOLLOWERS = 200;
/** The goal (10 requests per second to the leader at 500 idle followers), scaled to FOLLOWERS. */
const IDLE_RATE_LIMIT = (10 * FOLLOWERS) / 500;
const FIRST_WRITE_BOUND_MS = 1500;
const USAGE_WINDOW_MS = 10_000;

/** A plain REST call to a test cluster (the test's own requests, not the daemon's). */
async function rest<T = unknown>(cluster: TestCluster, method: string, path: string, body?: unknown, ndjson?: string): Promise<T> {
  const res = await fetch(`${cluster.url}${path}`, {
    method,
    headers: { 'content-type': ndjson === undefined ? 'application/json' : 'application/x-ndjson' },
    ...(body === undefined && ndjson === undefined ? {} : { body: ndjson ?? JSON.stringify(body) }),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** REST requests the cluster's nodes have served, summed over actions, without the usage calls themselves. */
async function restRequestsServed(cluster: TestCluster): Promise<{ total: number; byAction: Record<string, number> }> {
  const usage = await rest<{ nodes: Record<string, { rest_actions?: Record<string, number> }> }>(cluster, 'GET', '/_nodes/usage');
  const byAction: Record<string, number> = {};
  for (const node of Object.values(usage.nodes)) {
    for (const [action, n] of Object.entries(node.rest_actions ?? {})) {
      if (action !== 'nodes_usage_action') byAction[action] = (byAction[action] ?? 0) + n;
    }
  }
  return { total: Object.values(byAction).reduce((a, b) => a + b, 0), byAction };
}

async function mapWithLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: limit }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

describe('many followers of one leader (ES → ES)', function () {
  this.timeout(600_000);
  let leader: TestCluster;
  let follower: TestCluster;
  let testDaemon: TestDaemon | undefined;
  let daemon: Daemon;
  const prefix = uniqueName('many');
  const leaderIndices = Array.from({ length: FOLLOWERS }, (_, i) => `${prefix}-${i}`);
  const followerOf = (leaderIndex: string): string => `${leaderIndex}-copy`;
  const stats = (leaderIndex: string) => daemon.manager.stats().find((s) => s.index === followerOf(leaderIndex))!;

  before(async function () {
    this.timeout(900_000);
    ({ leader, follower } = (await testClusters()).pair('elasticsearch', 'elasticsearch'));
    // Few requests: a template gives each index one shard, one bulk request creates them all.
    await rest(leader, 'PUT', `/_index_template/${prefix}`, {
      index_patterns: [`${prefix}-*`], template: { settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: { properties: { n: { type: 'long' } } } },
    });
    const created = Date.now();
    const lines = leaderIndices.flatMap((index) => [JSON.stringify({ index: { _index: index, _id: 'first' } }), JSON.stringify({ n: 1 })]);
    const bulk = await rest<{ errors: boolean }>(leader, 'POST', '/_bulk?refresh=false', undefined, `${lines.join('\n')}\n`);
    expect(bulk.errors).to.equal(false);
    console.log(`      ${FOLLOWERS} leader indices created in ${Date.now() - created} ms`);

    testDaemon = await startTestDaemon({ leader, follower });
    daemon = testDaemon.daemon;
    const started = Date.now();
    await mapWithLimit(leaderIndices, 8, (leaderIndex) => daemon.manager.follow({
      leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex: followerOf(leaderIndex),
    }));
    await waitFor(() => leaderIndices.every((i) => {
      const s = stats(i);
      return s.leader_checkpoints_seen && s.shards.every((sh) => sh.follower_global_checkpoint >= 0 && sh.lag_operations === 0);
    }), { timeoutMs: 300_000, intervalMs: 500, message: 'every follower to copy its first document' });
    console.log(`      ${FOLLOWERS} followers started and caught up in ${Date.now() - started} ms`);
  });

  after(async () => {
    await testDaemon?.stop();
    for (const [cluster, names] of [[leader, leaderIndices], [follower, leaderIndices.map(followerOf)]] as const) {
      if (cluster === undefined) continue;
      for (const chunk of chunkNames(names)) await rest(cluster, 'DELETE', `/${expressionPath(chunk)}?ignore_unavailable=true`).catch(() => undefined);
    }
    if (leader) await rest(leader, 'DELETE', `/_index_template/${prefix}`).catch(() => undefined);
  });

  it(`sends the idle leader, and the follower, fewer than ${IDLE_RATE_LIMIT} requests per second each (goal 10 at 500 followers, scaled)`, async () => {
    // The measured window must not hold the start's requests: wait until the daemon's own count
    // shows a whole rate window (10 s) with none but the shared probes'.
    // Each shard's first reconciliation passes belong to the start too: the first may run before
    // its first document was copied, so the second looks at the follower again; from the third on
    // an idle pass asks nothing.
    await waitFor(() => {
      const r = stats(leaderIndices[0]!).leader_requests?.per_second;
      return r !== undefined && r.reads === 0 && r.reconciliation === 0 && r.other === 0
        && daemon.manager.stats().every((f) => f.shards.every((sh) => sh.reconciliations >= 3));
    }, { timeoutMs: 240_000, intervalMs: 500, message: () => `an idle leader: ${JSON.stringify(stats(leaderIndices[0]!).leader_requests)}` });
    const [before, followerBefore] = await Promise.all([restRequestsServed(leader), restRequestsServed(follower)]);
    const from = Date.now();
    await new Promise<void>((resolve) => { setTimeout(resolve, USAGE_WINDOW_MS); });
    const [after, followerAfter] = await Promise.all([restRequestsServed(leader), restRequestsServed(follower)]);
    const seconds = (Date.now() - from) / 1000;
    const followerRate = (followerAfter.total - followerBefore.total) / seconds;
    const rate = (after.total - before.total) / seconds;
    const byAction = Object.fromEntries(Object.entries(after.byAction).map(([a, n]) => [a, n - (before.byAction[a] ?? 0)]).filter(([, n]) => (n as number) > 0));
    const own = stats(leaderIndices[0]!).leader_requests!;
    console.log(`      idle: ${rate.toFixed(2)} requests/s to the leader over ${seconds.toFixed(1)} s (${JSON.stringify(byAction)}); the daemon's own count: ${JSON.stringify(own.per_second)}`);
    const followerByAction = Object.fromEntries(Object.entries(followerAfter.byAction).map(([a, n]) => [a, n - (followerBefore.byAction[a] ?? 0)]).filter(([, n]) => (n as number) > 0));
    console.log(`      idle: ${followerRate.toFixed(2)} requests/s to the follower (${JSON.stringify(followerByAction)})`);
    expect(rate).to.be.below(IDLE_RATE_LIMIT);
    expect(followerRate).to.be.below(IDLE_RATE_LIMIT);
    // The followed names share a prefix nothing else on the leader has: one pattern, so one `_stats`
    // per 1 s tick (the names alone would take two request lines).
    expect((byAction['indices_stats_action'] ?? 0) / seconds).to.be.at.most(1.25);
    // The daemon counts what the leader served: the two views of one idle leader agree.
    const counted = Object.values(own.per_second).reduce((a, b) => a + b, 0);
    expect(Math.abs(counted - rate)).to.be.below(1.5);
  });

  it(`applies a write to a random idle index within ${FIRST_WRITE_BOUND_MS} ms`, async () => {
    const leaderIndex = leaderIndices[Math.floor(Math.random() * FOLLOWERS)]!;
    const written = Date.now();
    await rest(leader, 'PUT', `/${leaderIndex}/_doc/second`, { n: 2 });
    await waitFor(async () => {
      const res = await fetch(`${follower.url}/${followerOf(leaderIndex)}/_doc/second`, { signal: AbortSignal.timeout(5000) });
      return res.status === 200;
    }, { timeoutMs: 30_000, intervalMs: 20, message: `the write to ${leaderIndex} on the follower` });
    const applied = Date.now() - written;
    console.log(`      first write to idle ${leaderIndex} applied ${applied} ms after it was acknowledged`);
    expect(applied).to.be.at.most(FIRST_WRITE_BOUND_MS);
  });

  it('follows a mapping change on one of them', async () => {
    const leaderIndex = leaderIndices[7]!;
    await rest(leader, 'PUT', `/${leaderIndex}/_doc/mapped`, { n: 3, label: 'new field', when: '2026-12-07T05:00:00Z' });
    const leaderMapping = await rest<Record<string, { mappings: unknown }>>(leader, 'GET', `/${leaderIndex}/_mapping`);
    await waitFor(async () => {
      const followerMapping = await rest<Record<string, { mappings: unknown }>>(follower, 'GET', `/${followerOf(leaderIndex)}/_mapping`);
      const doc = await fetch(`${follower.url}/${followerOf(leaderIndex)}/_doc/mapped`, { signal: AbortSignal.timeout(5000) });
      return doc.status === 200 && JSON.stringify(followerMapping[followerOf(leaderIndex)]?.mappings) === JSON.stringify(leaderMapping[leaderIndex]?.mappings);
    }, { timeoutMs: 30_000, message: `the follower of ${leaderIndex} to have the leader's new mapping and the document that brought it` });
    const doc = await rest<{ _source: unknown }>(follower, 'GET', `/${followerOf(leaderIndex)}/_doc/mapped`);
    expect(doc._source).to.deep.equal({ n: 3, label: 'new field', when: '2026-12-07T05:00:00Z' });
  });

  it('pauses, naming the uuid change, a follower whose leader index is deleted and created again', async () => {
    const leaderIndex = leaderIndices[11]!;
    const key = `follower/${followerOf(leaderIndex)}`;
    const oldUuid = (await rest<Record<string, { settings: { index: { uuid: string } } }>>(leader, 'GET', `/${leaderIndex}/_settings/index.uuid`))[leaderIndex]!.settings.index.uuid;
    await rest(leader, 'DELETE', `/${leaderIndex}`);
    await rest(leader, 'PUT', `/${leaderIndex}/_doc/other?refresh=true`, { n: 99 });
    const newUuid = (await rest<Record<string, { settings: { index: { uuid: string } } }>>(leader, 'GET', `/${leaderIndex}/_settings/index.uuid`))[leaderIndex]!.settings.index.uuid;
    const pausedByError = (): Promise<NonNullable<ReturnType<typeof stats>['fatal_exception']>> => waitFor(() => {
      const s = stats(leaderIndex);
      return s.status === 'paused' ? s.fatal_exception : undefined;
    }, { timeoutMs: 30_000, message: `the follower of ${leaderIndex} to pause` });
    let fatal = await pausedByError();
    if (!/created again/.test(fatal.reason)) {
      // Seen missing between the delete and the create (a plain index_not_found pause): a resume
      // must then notice that the index now under that name is another one.
      expect(fatal.type).to.equal('index_not_found_exception');
      await daemon.manager.resume(key);
      fatal = await pausedByError();
    }
    expect(fatal.reason).to.include(oldUuid).and.to.include(newUuid);
    // The others follow on.
    expect(daemon.manager.stats().filter((s) => s.status === 'paused').map((s) => s.index)).to.deep.equal([followerOf(leaderIndex)]);
    const other = await rest<{ found: boolean }>(follower, 'GET', `/${followerOf(leaderIndex)}/_doc/other`).catch(() => ({ found: false }));
    expect(other.found).to.equal(false);
  });
});
