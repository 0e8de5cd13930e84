// Fleet selectors over three real daemons sharing one state index in the Elasticsearch 8 follower
// cluster (one fleet for the whole file, with a control token on every daemon):
// - an index expression in a path (`/follower/logs-*/_ccr/stats`, `_ccr/info`) asked of a daemon
//   that runs none of the matched followers lists every one, with its owner;
// - `auto-follow` list / get and the auto-follow stats (CCR's and OpenSearch's) asked of a daemon
//   that does not run the pattern show it once, with its owner and the owner's counts;
// - `promote --all` asked of a daemon that runs only some of the followers promotes every follower
//   of the fleet, each by the daemon that runs it (named per line); every promoted index takes
//   writes on the follower cluster and has its promotion record in the state index; the fleet's
//   active auto-follow patterns are paused first, wherever they run.
// Each follower is compared to its leader document by document before it is promoted.
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { DaemonRow, FleetFollowerStats, FleetPatternView } from '../../src/daemon/fleet.js';
import type { PromoteManyAnswer } from '../../src/follow/promote-many.js';
import type { PromotionRecord } from '../../src/state/state-store.js';
import { runCli } from '../helpers/cli-process.js';
import { testClusters, uniqueName, type TestCluster } from '../helpers/clusters.js';
import { DaemonProcess, stopAllDaemonProcesses } from '../helpers/daemon-process.js';
import { compareIndices, connect, createLeaderIndex, RandomWorkload } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const LEASE_TIMEOUT_MS = 6_000;
const RENEWAL_MS = LEASE_TIMEOUT_MS / 3;
const TOKEN = 'fleet-selectors-token-0123456789ab';

async function fleetStats(daemon: DaemonProcess): Promise<FleetFollowerStats[]> {
  return (await daemon.api<{ follow_stats: { indices: FleetFollowerStats[] } }>('GET', '/_ccr/stats')).follow_stats.indices;
}

async function memberId(daemon: DaemonProcess): Promise<string> {
  return (await daemon.api<{ daemons: DaemonRow[] }>('GET', '/_fleet/daemons')).daemons.find((d) => d.self)!.id;
}

function ownerId(s: FleetFollowerStats): string | undefined {
  return s.owner.status === 'owned' ? s.owner.id : undefined;
}

describe('fleet selectors across three daemons', function () {
  this.timeout(600_000);
  let clusters: { leader: TestCluster; follower: TestCluster };
  let leader: ClusterClient;
  let follower: ClusterClient;
  const created: [ClusterClient, string][] = [];
  const stateIndex = `.${uniqueName('ccr-fleet-selectors')}`;
  let daemons: DaemonProcess[] = [];
  const ids = new Map<DaemonProcess, string>();
  const cli = (d: DaemonProcess, ...args: string[]): ReturnType<typeof runCli> => runCli(['--url', d.url, ...args], { env: { CCR_FOLLOW_CONTROL_TOKEN: TOKEN } });
  const daemonOf = (id: string | undefined): DaemonProcess | undefined => daemons.find((d) => ids.get(d) === id);

  before(async () => {
    clusters = (await testClusters()).pair('elasticsearch', 'elasticsearch');
    [leader, follower] = await Promise.all([connect(clusters.leader, 'leader'), connect(clusters.follower, 'follower')]);
    created.push([follower, stateIndex]);
    const start = (): Promise<DaemonProcess> => DaemonProcess.start({ ...clusters, stateIndex, leaseTimeout: `${LEASE_TIMEOUT_MS / 1000}s`, controlToken: TOKEN });
    daemons = [await start(), await start(), await start()];
    for (const d of daemons) ids.set(d, await memberId(d));
    await waitFor(async () => (await daemons[0]!.api<{ daemons: DaemonRow[] }>('GET', '/_fleet/daemons')).daemons.length === 3,
      { timeoutMs: 4 * RENEWAL_MS, intervalMs: 300, message: 'the first daemon to list three' });
  });
  after(async () => {
    await stopAllDaemonProcesses();
    for (const [client, index] of created) await client.deleteIndex(index).catch(() => undefined);
    await Promise.all([leader?.close(), follower?.close()]);
  });

  /** A leader index with documents, followed through `via` (so it runs there first). */
  const follow = async (via: DaemonProcess, prefix: string, seed: number): Promise<{ leaderIndex: string; followerIndex: string }> => {
    const leaderIndex = uniqueName(`leader-${prefix}`);
    const followerIndex = uniqueName(`follower-${prefix}`);
    created.push([leader, leaderIndex], [follower, followerIndex]);
    await createLeaderIndex(leader, leaderIndex, { shards: 1 });
    await new RandomWorkload(leader, leaderIndex, { seed, ids: 60, batchSize: 20, deleteShare: 0.1 }).run(1);
    await via.api('PUT', `/follower/${followerIndex}/_ccr/follow`, { remote_cluster: 'leader', leader_index: leaderIndex, reconcile_interval: '1s' });
    return { leaderIndex, followerIndex };
  };

  /**
   * Who runs each follower of the fleet (and, under `pattern:<name>`, each auto-follow pattern), once
   * every one is owned and nothing moved for two renewal periods.
   */
  const settledOwners = async (): Promise<Map<string, string>> => {
    let last = '';
    let since = 0;
    let owners = new Map<string, string>();
    await waitFor(async () => {
      const stats = await fleetStats(daemons[0]!);
      const patterns = (await daemons[0]!.api<{ patterns: FleetPatternView[] }>('GET', '/_ccr/auto_follow')).patterns;
      owners = new Map([
        ...stats.map((s) => [s.index, ownerId(s) ?? 'unowned'] as const),
        ...patterns.map((p) => [`pattern:${p.name}`, p.owner.status === 'owned' ? p.owner.id : 'unowned'] as const),
      ]);
      const now = JSON.stringify([...owners]);
      if (now !== last || now.includes('"unowned"')) {
        last = now;
        since = Date.now();
        return false;
      }
      return Date.now() - since >= 2 * RENEWAL_MS;
    }, { timeoutMs: 10 * RENEWAL_MS + 20_000, intervalMs: 300, message: () => `every follower owned and settled: ${last}` });
    return owners;
  };

  it('an index expression in a path covers the followers of every daemon, asked of a daemon that runs none of them', async () => {
    const pairs = [await follow(daemons[0]!, 'wild', 2621), await follow(daemons[1]!, 'wild', 2622)];
    const names = pairs.map((p) => p.followerIndex).sort();
    const owners = await settledOwners();
    const asked = daemons.find((d) => names.every((n) => owners.get(n) !== ids.get(d)))!;
    expect(asked, 'a daemon that runs neither').to.not.equal(undefined);

    const stats = (await asked.api<{ indices: FleetFollowerStats[] }>('GET', '/follower/follower-wild-*/_ccr/stats')).indices;
    expect(stats.map((s) => s.index).sort()).to.deep.equal(names);
    for (const s of stats) {
      expect(ownerId(s), s.index).to.equal(owners.get(s.index));
      expect(s.shards, `${s.index}: its owner's own stats`).to.have.length(1);
    }
    const info = (await asked.api<{ follower_indices: { follower_index: string; owner: { id: string } }[] }>(
      'GET', `/follower/follower-wild-*,-${names[0]}/_ccr/info`)).follower_indices;
    expect(info.map((i) => [i.follower_index, i.owner.id])).to.deep.equal([[names[1], owners.get(names[1]!)]]);
    const plain = (await asked.api<{ indices: FleetFollowerStats[] }>('GET', `/follower/${names[0]},${names[1]}/_ccr/stats`)).indices;
    expect(plain.map((s) => s.index).sort()).to.deep.equal(names);
    expect((await asked.api<{ indices: unknown[] }>('GET', '/follower/nothing-here-*/_ccr/stats')).indices).to.deep.equal([]);
    const missing = await fetch(`${asked.url}/follower/no-such-follower/_ccr/stats`, { headers: asked.authHeaders() });
    expect(missing.status).to.equal(404);
  });

  it('lists, gets and counts every auto-follow pattern of the fleet once, asked of a daemon that does not run it', async () => {
    const name = uniqueName('af');
    await daemons[0]!.api('PUT', `/_ccr/auto_follow/${name}`, { remote_cluster: 'leader', leader_index_patterns: [`${name}-*`], follow_index_pattern: '{{leader_index}}' });
    const leaderIndex = `${name}-one`;
    created.push([leader, leaderIndex], [follower, leaderIndex]);
    await createLeaderIndex(leader, leaderIndex, { shards: 1 });
    await new RandomWorkload(leader, leaderIndex, { seed: 2631, ids: 20, batchSize: 10, deleteShare: 0 }).run(1);
    await waitFor(async () => (await fleetStats(daemons[0]!)).some((s) => s.index === leaderIndex), {
      timeoutMs: 60_000, intervalMs: 500, message: 'the pattern to follow the new index',
    });
    // Leases are shared out again after a new pattern and follower: asked once that has settled.
    const runner = (await settledOwners()).get(`pattern:${name}`);
    const asked = daemons.find((d) => ids.get(d) !== runner)!;

    // Listed once through a daemon that does not run it, with its owner and the runner's stats.
    const ours = async (path: string): Promise<FleetPatternView[]> => (await asked.api<{ patterns: FleetPatternView[] }>('GET', path)).patterns.filter((p) => p.name === name);
    const listed = await ours('/_ccr/auto_follow');
    expect(listed[0]?.stats.followed_indices.map((f) => f.leader_index)).to.deep.equal([leaderIndex]);
    expect(listed).to.have.length(1);
    expect(listed[0]!.owner.status === 'owned' && listed[0]!.owner.id).to.equal(runner);
    expect(await ours(`/_ccr/auto_follow/${name}`)).to.deep.equal(listed);
    expect((await ours('/follower/_ccr/auto_follow')).map((p) => p.name)).to.deep.equal([name]);
    expect((await ours(`/follower/_ccr/auto_follow/${name}`)).map((p) => p.name)).to.deep.equal([name]);
    const stats = await asked.api<{ auto_follow_stats: { number_of_successful_follow_indices: number } }>('GET', '/_ccr/stats');
    expect(stats.auto_follow_stats.number_of_successful_follow_indices, 'the runner\'s count, seen through another daemon').to.be.at.least(1);
    const rules = await asked.api<{ autofollow_stats: { name: string; num_success_start_replication: number }[] }>('GET', '/follower/_plugins/_replication/autofollow_stats');
    expect(rules.autofollow_stats.filter((r) => r.name === name).map((r) => r.num_success_start_replication)).to.deep.equal([1]);
    // Every daemon lists the same patterns, each once.
    for (const d of daemons) {
      const names = (await d.api<{ patterns: FleetPatternView[] }>('GET', '/_ccr/auto_follow')).patterns.map((p) => p.name);
      expect(names.filter((n) => n === name), `through ${d.pid}`).to.have.length(1);
    }
  });

  it('promote --all through a daemon that runs only some promotes every follower of the fleet, each by its owner', async () => {
    const pairs = [await follow(daemons[0]!, 'promote', 2611), await follow(daemons[1]!, 'promote', 2612), await follow(daemons[2]!, 'promote', 2613)];
    for (const p of pairs) {
      let differences: string[] = [];
      await waitFor(async () => (differences = await compareIndices(leader, p.leaderIndex, follower, p.followerIndex)).length === 0, {
        timeoutMs: 90_000, intervalMs: 1_000, message: () => `${p.followerIndex} to equal its leader: ${differences.slice(0, 5).join('; ')}`,
      });
    }
    const owners = new Map([...await settledOwners()].filter(([key]) => !key.startsWith('pattern:')));
    const ours = pairs.map((p) => owners.get(p.followerIndex)!);
    expect(new Set(ours).size, 'our followers run on at least two daemons').to.be.at.least(2);
    // Asked of a daemon that runs some of the fleet's followers, not all.
    const asked = daemonOf([...owners.values()].find((id) => [...owners.values()].some((other) => other !== id)))!;
    expect(asked).to.not.equal(undefined);

    // The fleet's active auto-follow patterns of that leader, wherever they run, are paused first.
    const active = (await asked.api<{ patterns: FleetPatternView[] }>('GET', '/_ccr/auto_follow')).patterns.filter((p) => p.pattern.active).map((p) => p.name).sort();

    const result = await cli(asked, 'promote', '--all', '--json');
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    const answer = JSON.parse(result.stdout) as PromoteManyAnswer;
    expect(answer.succeeded).to.equal(true);
    expect(answer.pausedAutoFollowPatterns).to.deep.equal(active);
    expect(answer.patternFailures).to.deep.equal([]);
    for (const d of daemons) {
      const patterns = (await d.api<{ patterns: FleetPatternView[] }>('GET', '/_ccr/auto_follow')).patterns;
      expect(patterns.filter((p) => p.pattern.active).map((p) => p.name), `active patterns through ${d.pid}`).to.deep.equal([]);
    }
    expect(answer.indices.map((i) => i.follower).sort(), 'every follower of the fleet, once').to.deep.equal([...owners.keys()].map((i) => `follower/${i}`).sort());
    for (const i of answer.indices) {
      const index = i.follower.slice('follower/'.length);
      expect(i.result, `${i.follower}: ${i.reason}`).to.equal('promoted');
      expect(i.daemon, i.follower).to.match(new RegExp(`^${owners.get(index)} on `));
    }

    await follower.refresh(stateIndex);
    const docs = await follower.raw<{ hits: { hits: { _source: { data: { promotion: PromotionRecord } } }[] } }>('state', {
      method: 'POST', path: `/${stateIndex}/_search`, body: { size: 100, query: { term: { kind: 'promotion' } } },
    });
    const records = docs.body.hits.hits.map((h) => h._source.data.promotion);
    for (const p of pairs) {
      expect(records.filter((r) => r.followerIndex === p.followerIndex), `${p.followerIndex}'s promotion record`).to.have.length(1);
      await follower.writeDocuments(p.followerIndex, [{ op: 'index', id: 'after-promotion', source: { n: -1 } }], { refresh: true });
      expect(await compareIndices(leader, p.leaderIndex, follower, p.followerIndex), 'the write landed on the promoted index').to.deep.equal(['shard 0: [after-promotion] on the follower only']);
    }
    // No daemon of the fleet follows them any more.
    for (const d of daemons) expect((await fleetStats(d)).filter((s) => pairs.some((p) => p.followerIndex === s.index)), `through ${d.pid}`).to.deep.equal([]);
  });
});
