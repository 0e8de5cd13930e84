/**
 * Auto-follow, against real nodes:
 * 1. a pattern follows the daily indices created after it, under the templated names, and leaves
 *    alone an excluded index and one that existed before it (and hidden and closed ones);
 * 2. indices created while the daemon was down are followed when it is back, nothing twice;
 * 3. an index created while the pattern is paused is never followed, newer ones are after resume;
 * 4. a follower name that is taken is a recorded error, and the pattern goes on with the next index;
 * 5. a data stream on an Elasticsearch leader, rolled over: every backing index followed and the
 *    data queryable on the follower by the stream's name.
 * Plus: two patterns matching one index follow it once.
 *
 * The daemons run in this process with a 300 ms auto-follow interval. Every test has its own
 * index name prefix and pattern names.
 */
import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AutoFollowPatternView } from '../../src/autofollow/auto-follow-coordinator.js';
import type { AutoFollowStatsView } from '../../src/autofollow/auto-follow-stats.js';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { ClusterConfig } from '../../src/cluster/cluster-config.js';
import { ClusterRegistry } from '../../src/cluster/cluster-registry.js';
import type { DocumentWrite } from '../../src/cluster/types.js';
import { defaultConfig } from '../../src/daemon/config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/util/logger.js';
import { testClusters, uniqueName, type TestCluster } from '../helpers/clusters.js';
import { compareIndices, connect, createLeaderIndex, waitForCaughtUp } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';
import { pairTitle } from '../helpers/follow-fixture.js';

const POLL_INTERVAL_MS = 300;
const FOLLOW_TIMEOUT_MS = 60_000;

/** startTestDaemon's daemon, with a short auto-follow interval. */
async function startDaemon(pair: { leader: TestCluster; follower: TestCluster }, stateDir?: string): Promise<Daemon> {
  const dir = stateDir ?? (await mkdtemp(join(tmpdir(), 'ccr-follow-state-')));
  const clusters = new Map<string, ClusterConfig>([
    ['leader', pair.leader.clusterConfig('leader')],
    ['follower', pair.follower.clusterConfig('follower')],
  ]);
  const config = { ...defaultConfig(dir), clusters, stateDir: dir, control: { host: '127.0.0.1', port: 0 } };
  return Daemon.start({
    config, logger: silentLogger, clusters: new ClusterRegistry(clusters), checkpointIntervalMs: 200, autoFollowPollIntervalMs: POLL_INTERVAL_MS,
  });
}

/** One control API call; a status outside 2xx throws with the answer. */
async function api<T>(daemon: Daemon, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${daemon.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await res.json()) as T;
  if (!res.ok) throw Object.assign(new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(answer)}`), { status: res.status, answer });
  return answer;
}

async function pattern(daemon: Daemon, name: string): Promise<AutoFollowPatternView> {
  const { patterns } = await api<{ patterns: AutoFollowPatternView[] }>(daemon, 'GET', `/_ccr/auto_follow/${name}`);
  return patterns[0]!;
}

function followerOf(daemon: Daemon, leaderIndex: string): string | undefined {
  return daemon.manager.info().find((f) => f.remote_cluster === 'leader' && f.leader_index === leaderIndex)?.follower_index;
}

/** Waits until the daemon follows `leaderIndex`, then until the follower holds what the leader has. */
async function waitFollowedAndCaughtUp(daemon: Daemon, leader: ClusterClient, leaderIndex: string): Promise<string> {
  const followerIndex = await waitFor(() => followerOf(daemon, leaderIndex), {
    timeoutMs: FOLLOW_TIMEOUT_MS, message: `a follower of leader/${leaderIndex}`,
  });
  await waitForCaughtUp(daemon, leader, leaderIndex, followerIndex);
  return followerIndex;
}

/**
 * Waits until a whole auto-follow round of `leader` has run after `since` (epoch ms): the round
 * that ends first after it may have started before, the one after that cannot have.
 */
async function waitForRoundAfter(daemon: Daemon, since: number): Promise<void> {
  const lastEnd = async (): Promise<number | undefined> => {
    const stats = (await api<{ auto_follow_stats: AutoFollowStatsView }>(daemon, 'GET', '/_ccr/stats')).auto_follow_stats;
    const ms = stats.auto_followed_clusters.find((c) => c.cluster_name === 'leader')?.time_since_last_check_millis;
    return ms === null || ms === undefined ? undefined : Date.now() - ms;
  };
  const endedAfter = (t: number) => async (): Promise<number | undefined> => {
    const end = await lastEnd();
    return end !== undefined && end > t ? end : undefined;
  };
  const first = await waitFor(endedAfter(since), { timeoutMs: 30_000, message: 'an auto-follow round' });
  await waitFor(endedAfter(first + POLL_INTERVAL_MS / 2), { timeoutMs: 30_000, message: 'a second auto-follow round' });
}

async function writeDocs(client: ClusterClient, index: string, count: number, from = 0): Promise<void> {
  const docs: DocumentWrite[] = Array.from({ length: count }, (_, i) => ({ op: 'index', id: `d${from + i}`, source: { n: from + i, text: `doc ${from + i}` } }));
  await client.writeDocuments(index, docs, { refresh: true });
}

/** Patterns, followers and indices a test created, removed after it. */
class Created {
  readonly leader: string[] = [];
  readonly follower: string[] = [];
  readonly patterns: string[] = [];

  /** Patterns, then followers (their tasks would fail on deleted indices), then the indices. */
  async cleanUp(daemon: Daemon | undefined, leader: ClusterClient, follower: ClusterClient): Promise<void> {
    if (daemon) {
      await Promise.allSettled(this.patterns.map((name) => api(daemon, 'DELETE', `/_ccr/auto_follow/${name}`)));
      for (const f of daemon.manager.info()) {
        if (!this.follower.includes(f.follower_index)) continue;
        const key = `follower/${f.follower_index}`;
        if (f.status === 'active') await daemon.manager.pause(key);
        await daemon.manager.unfollow(key);
      }
    }
    await Promise.allSettled([...this.leader.map((i) => leader.deleteIndex(i)), ...this.follower.map((i) => follower.deleteIndex(i))]);
  }
}

describe('auto-follow patterns', function () {
  this.timeout(300_000);

  describe('ES → OS', () => {
    let daemon: Daemon;
    let leader: ClusterClient;
    let follower: ClusterClient;
    let created: Created;

    before(async () => {
      const pair = (await testClusters()).pair('elasticsearch', 'opensearch');
      daemon = await startDaemon(pair);
      [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
    });

    beforeEach(() => {
      created = new Created();
    });

    afterEach(async () => {
      await created.cleanUp(daemon, leader, follower);
    });

    after(async () => {
      await daemon?.stop();
      await Promise.all([leader?.close(), follower?.close()]);
    });

    it('follows the daily indices created after the pattern, under the templated names, and nothing else', async () => {
      const p = uniqueName('af1');
      const name = `${p}-daily`;
      const existing = `${p}-logs-existing`;
      const excluded = `${p}-logs-debug-2026.11.21`;
      const hidden = `${p}-logs-hidden`;
      const closed = `${p}-logs-closed`;
      const daily = [`${p}-logs-2026.11.21`, `${p}-logs-2026.11.22`, `${p}-logs-2026.11.23`];
      await createLeaderIndex(leader, existing);
      created.leader.push(existing, excluded, hidden, closed, ...daily);
      created.follower.push(...[existing, excluded, hidden, closed, ...daily].map((i) => `${i}-replica`));

      const started = Date.now();
      await api(daemon, 'PUT', `/_ccr/auto_follow/${name}`, {
        remote_cluster: 'leader', leader_index_patterns: [`${p}-logs-*`], leader_index_exclusion_patterns: [`${p}-logs-debug-*`],
        follow_index_pattern: '{{leader_index}}-replica', max_read_request_operation_count: 500,
      });
      created.patterns.push(name);
      // Created before the daily ones: any round that sees the last daily index sees these too.
      await createLeaderIndex(leader, excluded);
      await leader.createIndex(hidden, { settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 0, 'index.hidden': true }, mappings: {} });
      // Every new index is open for a moment; hidden until it is closed, no round can see it open.
      await leader.createIndex(closed, { settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 0, 'index.hidden': true }, mappings: {} });
      await leader.raw('close index', { method: 'POST', path: `/${closed}/_close` });
      await leader.putSettings(closed, { 'index.hidden': false });
      for (const [i, index] of daily.entries()) {
        await createLeaderIndex(leader, index);
        await writeDocs(leader, index, 100 + i);
      }

      for (const index of daily) {
        const followerIndex = await waitFollowedAndCaughtUp(daemon, leader, index);
        expect(followerIndex).to.equal(`${index}-replica`);
        expect(await compareIndices(leader, index, follower, followerIndex)).to.deep.equal([]);
      }
      console.log(`      three daily indices followed and caught up ${Date.now() - started} ms after the pattern was put`);

      for (const skipped of [existing, excluded, hidden, closed]) {
        expect(followerOf(daemon, skipped), skipped).to.equal(undefined);
        expect(await follower.indexExists(`${skipped}-replica`), `${skipped}-replica`).to.equal(false);
      }
      // Skipped while closed, not forgotten: like CCR, it is followed once opened.
      await leader.raw('open index', { method: 'POST', path: `/${closed}/_open`, query: { wait_for_active_shards: 1 } });
      expect(await waitFollowedAndCaughtUp(daemon, leader, closed)).to.equal(`${closed}-replica`);

      const info = daemon.manager.info().find((f) => f.follower_index === `${daily[0]}-replica`)!;
      expect(info.parameters.max_read_request_operation_count, 'the pattern\'s follow parameters').to.equal(500);

      const view = await pattern(daemon, name);
      expect(view.pattern).to.deep.include({
        active: true, remote_cluster: 'leader', follower_cluster: 'follower', leader_index_patterns: [`${p}-logs-*`],
        leader_index_exclusion_patterns: [`${p}-logs-debug-*`], follow_index_pattern: '{{leader_index}}-replica', max_read_request_operation_count: 500,
      });
      expect(view.stats.number_of_successful_follow_indices).to.equal(4);
      expect(view.stats.number_of_failed_follow_indices).to.equal(0);
      expect(view.stats.recent_auto_follow_errors).to.deep.equal([]);
      expect(view.stats.followed_indices.map((f) => [f.leader_index, f.follower_index]).sort()).to.deep.equal([...daily, closed].map((i) => [i, `${i}-replica`]));
      expect(view.stats.number_of_existing_indices).to.equal(1);
      const stats = (await api<{ auto_follow_stats: AutoFollowStatsView }>(daemon, 'GET', '/_ccr/stats')).auto_follow_stats;
      expect(stats.number_of_successful_follow_indices).to.be.at.least(3);
      expect(stats.auto_followed_clusters.map((c) => c.cluster_name)).to.deep.equal(['leader']);
    });

    it('pauses: an index created while paused is never followed, one created after resume is', async () => {
      const p = uniqueName('af3');
      const name = `${p}-pausable`;
      const [before, during, after] = ['before', 'during', 'after'].map((s) => `${p}-logs-${s}`) as [string, string, string];
      created.leader.push(before, during, after);
      created.follower.push(before, during, after);
      await api(daemon, 'PUT', `/_ccr/auto_follow/${name}`, { remote_cluster: 'leader', leader_index_patterns: [`${p}-logs-*`] });
      created.patterns.push(name);

      await createLeaderIndex(leader, before);
      await writeDocs(leader, before, 50);
      await waitFollowedAndCaughtUp(daemon, leader, before);

      await api(daemon, 'POST', `/_ccr/auto_follow/${name}/pause`);
      expect((await pattern(daemon, name)).pattern.active).to.equal(false);
      const pausedAt = Date.now();
      await createLeaderIndex(leader, during);
      await writeDocs(leader, during, 10);
      // The follower started before the pause keeps following.
      await writeDocs(leader, before, 50, 50);
      await waitForCaughtUp(daemon, leader, before, before);
      await waitForRoundAfter(daemon, pausedAt);
      expect(followerOf(daemon, during), 'the index created while paused, while paused').to.equal(undefined);

      await api(daemon, 'POST', `/_ccr/auto_follow/${name}/resume`);
      await createLeaderIndex(leader, after);
      await writeDocs(leader, after, 20);
      await waitFollowedAndCaughtUp(daemon, leader, after);
      await waitForRoundAfter(daemon, Date.now());
      expect(followerOf(daemon, during), 'the index created while paused, after resume').to.equal(undefined);
      expect(await follower.indexExists(during)).to.equal(false);
      const view = await pattern(daemon, name);
      expect(view.pattern.active).to.equal(true);
      expect(view.stats.followed_indices.map((f) => f.leader_index).sort()).to.deep.equal([after, before]);
    });

    it('records a follower name that is taken as an error and goes on with the next index', async () => {
      const p = uniqueName('af4');
      const name = `${p}-clash`;
      const [first, second] = [`${p}-logs-1`, `${p}-logs-2`];
      created.leader.push(first, second);
      created.follower.push(`${first}-copy`, `${second}-copy`);
      // Taken on the follower by an ordinary index.
      await createLeaderIndex(follower, `${first}-copy`);
      await api(daemon, 'PUT', `/_ccr/auto_follow/${name}`, {
        remote_cluster: 'leader', leader_index_patterns: [`${p}-logs-*`], follow_index_pattern: '{{leader_index}}-copy',
      });
      created.patterns.push(name);

      await createLeaderIndex(leader, first);
      await writeDocs(leader, first, 10);
      const failed = await waitFor(async () => {
        const view = await pattern(daemon, name);
        return view.stats.number_of_failed_follow_indices > 0 && view;
      }, { timeoutMs: FOLLOW_TIMEOUT_MS, message: 'the failure to be recorded' });
      expect(failed.stats.recent_auto_follow_errors).to.have.length(1);
      const error = failed.stats.recent_auto_follow_errors[0]!;
      expect(error.leader_index).to.equal(`${name}:${first}`);
      expect(error.auto_follow_exception.type).to.equal('resource_already_exists_exception');
      expect(error.auto_follow_exception.reason).to.include(`${first}-copy`);
      expect(failed.stats.failed_indices).to.deep.equal([{ leader_index: first, reason: `resource_already_exists_exception: ${error.auto_follow_exception.reason}` }]);
      const global = (await api<{ auto_follow_stats: AutoFollowStatsView }>(daemon, 'GET', '/_ccr/stats')).auto_follow_stats;
      expect(global.recent_auto_follow_errors.map((e) => e.leader_index)).to.include(`${name}:${first}`);

      await createLeaderIndex(leader, second);
      await writeDocs(leader, second, 30);
      const followerIndex = await waitFollowedAndCaughtUp(daemon, leader, second);
      expect(followerIndex).to.equal(`${second}-copy`);
      expect(await compareIndices(leader, second, follower, followerIndex)).to.deep.equal([]);
      const view = await pattern(daemon, name);
      // Given up on, not retried every round.
      expect(view.stats.number_of_failed_follow_indices).to.equal(1);
      expect(view.stats.number_of_successful_follow_indices).to.equal(1);
      expect(followerOf(daemon, first)).to.equal(undefined);
    });

    it('follows an index two patterns match once, by the pattern put first; the other says why it skipped it', async () => {
      const p = uniqueName('af6');
      const [earlier, later] = [`${p}-earlier`, `${p}-later`];
      const index = `${p}-logs-1`;
      created.leader.push(index);
      created.follower.push(`${index}-a`, `${index}-b`);
      await api(daemon, 'PUT', `/_ccr/auto_follow/${earlier}`, { remote_cluster: 'leader', leader_index_patterns: [`${p}-logs-*`], follow_index_pattern: '{{leader_index}}-a' });
      created.patterns.push(earlier);
      await api(daemon, 'PUT', `/_ccr/auto_follow/${later}`, { remote_cluster: 'leader', leader_index_patterns: [`${p}-*`], follow_index_pattern: '{{leader_index}}-b' });
      created.patterns.push(later);

      await createLeaderIndex(leader, index);
      expect(await waitFollowedAndCaughtUp(daemon, leader, index)).to.equal(`${index}-a`);
      const skipped = await waitFor(async () => (await pattern(daemon, later)).stats.skipped_indices[0], {
        timeoutMs: FOLLOW_TIMEOUT_MS, message: 'the later pattern to record its skip',
      });
      expect(skipped).to.deep.equal({ leader_index: index, reason: `already followed into [follower/${index}-a] (by auto-follow pattern [${earlier}], put earlier)` });
      expect(daemon.manager.info().filter((f) => f.leader_index === index)).to.have.length(1);
      expect(await follower.indexExists(`${index}-b`)).to.equal(false);
    });
  });

  describe('across a daemon restart (ES → ES)', () => {
    let pair: { leader: TestCluster; follower: TestCluster };
    let leader: ClusterClient;
    let follower: ClusterClient;
    const daemons: Daemon[] = [];
    const created = new Created();

    before(async () => {
      pair = (await testClusters()).pair('elasticsearch', 'elasticsearch');
      [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
    });

    after(async () => {
      await created.cleanUp(daemons.at(-1), leader, follower);
      await Promise.allSettled(daemons.map((d) => d.stop()));
      await Promise.all([leader?.close(), follower?.close()]);
    });

    it('follows the indices created while the daemon was down when it is back, and nothing twice', async () => {
      const p = uniqueName('af2');
      const name = `${p}-daily`;
      const indices = [1, 2, 3].map((n) => `${p}-logs-${n}`);
      created.leader.push(...indices);
      created.follower.push(...indices);

      const stateDir = await mkdtemp(join(tmpdir(), 'ccr-follow-state-'));
      const first = await startDaemon(pair, stateDir);
      daemons.push(first);
      await api(first, 'PUT', `/_ccr/auto_follow/${name}`, { remote_cluster: 'leader', leader_index_patterns: [`${p}-logs-*`] });
      await createLeaderIndex(leader, indices[0]!);
      await writeDocs(leader, indices[0]!, 40);
      await waitFollowedAndCaughtUp(first, leader, indices[0]!);
      await first.stop();

      // While no daemon runs.
      for (const index of indices.slice(1)) {
        await createLeaderIndex(leader, index);
        await writeDocs(leader, index, 60);
      }

      const restarted = Date.now();
      const second = await startDaemon(pair, stateDir);
      daemons.push(second);
      created.patterns.push(name);
      for (const index of indices) {
        expect(await waitFollowedAndCaughtUp(second, leader, index)).to.equal(index);
        expect(await compareIndices(leader, index, follower, index)).to.deep.equal([]);
      }
      console.log(`      both indices created while down followed and caught up ${Date.now() - restarted} ms after the restart`);
      await waitForRoundAfter(second, Date.now());

      const view = await pattern(second, name);
      expect(view.stats.followed_indices.map((f) => f.leader_index).sort()).to.deep.equal(indices);
      // A second attempt at the index followed before the restart would have failed with "already exists".
      expect(view.stats.recent_auto_follow_errors).to.deep.equal([]);
      expect(view.stats.number_of_successful_follow_indices, 'followed by the second daemon').to.equal(2);
      expect(second.manager.info().filter((f) => f.leader_index.startsWith(p)).map((f) => f.follower_index).sort()).to.deep.equal(indices);
    });
  });

  for (const flavors of [['elasticsearch', 'elasticsearch'], ['opensearch', 'opensearch'], ['opensearch', 'elasticsearch']] as const) describe(`data streams (${pairTitle(flavors)})`, () => {
    let pair: { leader: TestCluster; follower: TestCluster };
    let stateDir: string;
    let daemon: Daemon;
    let leader: ClusterClient;
    let follower: ClusterClient;
    const created = new Created();

    before(async () => {
      pair = (await testClusters()).pair(flavors[0], flavors[1]);
      stateDir = await mkdtemp(join(tmpdir(), 'ccr-follow-state-'));
      daemon = await startDaemon(pair, stateDir);
      [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
    });

    after(async () => {
      await created.cleanUp(daemon, leader, follower);
      await daemon?.stop();
      await Promise.all([leader?.close(), follower?.close()]);
    });

    it('follows every backing index of a rolled-over data stream, queryable on the follower by the stream\'s name, also after a restart', async () => {
      const p = uniqueName('af5');
      const stream = `${p}-stream`;
      const name = `${p}-streams`;
      await leader.raw('put index template', {
        method: 'PUT', path: `/_index_template/${p}-template`,
        body: {
          index_patterns: [`${p}-stream*`], data_stream: {},
          template: { settings: { 'index.number_of_shards': 2, 'index.number_of_replicas': 0 }, mappings: { properties: { '@timestamp': { type: 'date' }, n: { type: 'integer' } } } },
        },
      });
      await api(daemon, 'PUT', `/_ccr/auto_follow/${name}`, { remote_cluster: 'leader', leader_index_patterns: [`${p}-stream*`] });
      created.patterns.push(name);

      const writeToStream = async (from: number, count: number): Promise<void> => {
        const lines = Array.from({ length: count }, (_, i) => `{"create":{}}\n${JSON.stringify({ '@timestamp': new Date(Date.UTC(2026, 10, 21, 0, 0, from + i)).toISOString(), n: from + i })}\n`);
        const res = await leader.raw<{ errors: boolean }>('write to the stream', { method: 'POST', path: `/${stream}/_bulk`, query: { refresh: 'true' }, ndjson: lines.join('') });
        expect(res.body.errors, 'stream bulk errors').to.equal(false);
      };
      await writeToStream(0, 120);
      await leader.raw('roll over', { method: 'POST', path: `/${stream}/_rollover` });
      await writeToStream(120, 80);

      const resolved = await leader.raw<{ data_streams: { name: string; backing_indices: string[] }[] }>('resolve', {
        method: 'GET', path: `/_resolve/index/${stream}`, query: { expand_wildcards: 'all' },
      });
      const backing = resolved.body.data_streams[0]!.backing_indices;
      expect(backing).to.have.length(2);
      created.leader.push(backing[0]!); // the write index cannot be deleted, nor the stream on this distribution
      created.follower.push(...backing);

      for (const index of backing) {
        expect(await waitFollowedAndCaughtUp(daemon, leader, index)).to.equal(index);
      }
      const count = async (client: ClusterClient): Promise<number> => (await client.raw<{ count: number }>('count', { method: 'GET', path: `/${stream}/_count` })).body.count;
      const followerCountReaches = (n: number): Promise<boolean> => waitFor(async () => {
        await follower.refresh(stream);
        return (await count(follower)) === n;
      }, { timeoutMs: FOLLOW_TIMEOUT_MS, message: `${n} documents under ${stream} on the follower` });
      expect(await count(leader)).to.equal(200);
      await followerCountReaches(200);
      const hits = await follower.raw<{ hits: { hits: { _index: string }[] } }>('search', {
        method: 'POST', path: `/${stream}/_search`, body: { size: 200, query: { range: { n: { gte: 100, lt: 140 } } } },
      });
      expect(new Set(hits.body.hits.hits.map((h) => h._index))).to.deep.equal(new Set(backing));
      expect(hits.body.hits.hits).to.have.length(40);

      const view = await pattern(daemon, name);
      expect(view.stats.followed_indices.map((f) => f.data_stream)).to.deep.equal([stream, stream]);
      expect(view.stats.recent_auto_follow_errors).to.deep.equal([]);

      // A restart: the followers and the alias over them come back, and new data arrives under the name.
      await daemon.stop();
      await writeToStream(200, 50);
      daemon = await startDaemon(pair, stateDir);
      await followerCountReaches(250);
      expect((await pattern(daemon, name)).stats.number_of_successful_follow_indices, 'nothing followed again').to.equal(0);
    });
  });
});
