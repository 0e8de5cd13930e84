// Three real daemons (child processes) sharing one state index in the Elasticsearch 8 follower
// cluster, seen and steered as one through any of them, with a control token on every daemon:
// - a follow asked of A that ends up on C is paused through B and resumed through A (forwarded to
//   C, whose answer names it); `stats` / `info` through each of A, B, C show it once, owned by C;
//   a request already forwarded is never forwarded again; summing all three `/metrics` per
//   follower counts each once;
// - `ccr-follow daemons` lists three, two after a SIGKILL, three after a restart; meanwhile stats
//   through a survivor show the dead daemon's follower exactly once: unowned, then owned anew.
// Each ends with every follower equal to its leader document by document.
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { DaemonRow, FleetFollowerInfo, FleetFollowerStats } from '../../src/daemon/fleet.js';
import { testClusters, uniqueName, type TestCluster } from '../helpers/clusters.js';
import { runCli } from '../helpers/cli-process.js';
import { DaemonProcess, stopAllDaemonProcesses } from '../helpers/daemon-process.js';
import { compareIndices, connect, createLeaderIndex, RandomWorkload } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const LEASE_TIMEOUT_MS = 6_000;
const RENEWAL_MS = LEASE_TIMEOUT_MS / 3;
const TOKEN = 'fleet-test-token-0123456789abcdef';

async function fleetStats(daemon: DaemonProcess): Promise<FleetFollowerStats[]> {
  return (await daemon.api<{ follow_stats: { indices: FleetFollowerStats[] } }>('GET', '/_ccr/stats')).follow_stats.indices;
}

async function fleetInfo(daemon: DaemonProcess): Promise<FleetFollowerInfo[]> {
  return (await daemon.api<{ follower_indices: FleetFollowerInfo[] }>('GET', '/_ccr/info')).follower_indices;
}

/** `ccr-follow daemons --json` asked of `daemon`, through the real command. */
async function daemonsVia(daemon: DaemonProcess): Promise<DaemonRow[]> {
  const result = await runCli(['--url', daemon.url, 'daemons', '--json'], { env: { CCR_FOLLOW_CONTROL_TOKEN: TOKEN } });
  expect(result.code, result.stderr).to.equal(0);
  return (JSON.parse(result.stdout) as { daemons: DaemonRow[] }).daemons;
}

async function memberId(daemon: DaemonProcess): Promise<string> {
  return (await daemon.api<{ daemons: DaemonRow[] }>('GET', '/_fleet/daemons')).daemons.find((d) => d.self)!.id;
}

/** Per follower index, how many daemons' `/metrics` export its shard count (each must be exactly one). */
async function exportersPerFollower(daemons: readonly DaemonProcess[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const daemon of daemons) {
    const text = await (await fetch(`${daemon.url}/metrics`, { headers: daemon.authHeaders() })).text();
    for (const match of text.matchAll(/^ccr_follow_follower_shards\{[^}]*follower_index="([^"]+)"[^}]*\} (\d+)/gm)) {
      counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
    }
  }
  return counts;
}

async function expectEqual(leader: ClusterClient, leaderIndex: string, follower: ClusterClient, followerIndex: string): Promise<void> {
  let differences: string[] = [];
  await waitFor(async () => (differences = await compareIndices(leader, leaderIndex, follower, followerIndex)).length === 0, {
    timeoutMs: 90_000, intervalMs: 1_000, message: () => `${followerIndex} to equal its leader: ${differences.slice(0, 5).join('; ')}`,
  });
  expect(await compareIndices(leader, leaderIndex, follower, followerIndex), followerIndex).to.deep.equal([]);
}

describe('a fleet of daemons answering as one', function () {
  this.timeout(600_000);
  let clusters: { leader: TestCluster; follower: TestCluster };
  let leader: ClusterClient;
  let follower: ClusterClient;
  const created: [ClusterClient, string][] = [];

  before(async () => {
    clusters = (await testClusters()).pair('elasticsearch', 'elasticsearch');
    [leader, follower] = await Promise.all([connect(clusters.leader, 'leader'), connect(clusters.follower, 'follower')]);
  });
  after(async () => {
    await stopAllDaemonProcesses();
    for (const [client, index] of created) await client.deleteIndex(index).catch(() => undefined);
    await Promise.all([leader?.close(), follower?.close()]);
  });

  const startFleet = async (stateIndex: string): Promise<DaemonProcess[]> => {
    const start = (): Promise<DaemonProcess> => DaemonProcess.start({ ...clusters, stateIndex, leaseTimeout: `${LEASE_TIMEOUT_MS / 1000}s`, controlToken: TOKEN });
    return [await start(), await start(), await start()];
  };

  const leaderWithDocs = async (seed: number): Promise<{ leaderIndex: string; followerIndex: string; workload: RandomWorkload }> => {
    const leaderIndex = uniqueName('leader-fleet');
    const followerIndex = uniqueName('follower-fleet');
    created.push([leader, leaderIndex], [follower, followerIndex]);
    await createLeaderIndex(leader, leaderIndex, { shards: 1 });
    const workload = new RandomWorkload(leader, leaderIndex, { seed, ids: 120, batchSize: 20, deleteShare: 0.1 });
    await workload.run(2);
    return { leaderIndex, followerIndex, workload };
  };

  it('forwards pause and resume to the owner, shows each follower once with its owner through every daemon, and exports each once', async () => {
    const stateIndex = `.${uniqueName('ccr-fleet')}`;
    created.push([follower, stateIndex]);
    const [a, other1, other2] = await startFleet(stateIndex);
    const all = [a!, other1!, other2!];
    const ids = new Map(await Promise.all(all.map(async (d) => [d, await memberId(d)] as const)));
    await waitFor(async () => (await daemonsVia(a!)).length === 3, { timeoutMs: 4 * RENEWAL_MS, intervalMs: 300, message: 'A to list three daemons' });

    // Two follows asked of A: each runs on A first; with three daemons A's share is one, so it hands one over.
    const pairs = [await leaderWithDocs(2601), await leaderWithDocs(2602)];
    for (const p of pairs) {
      await a!.api('PUT', `/follower/${p.followerIndex}/_ccr/follow`, { remote_cluster: 'leader', leader_index: p.leaderIndex, reconcile_interval: '1s' });
    }
    const moved = await waitFor(async () => (await fleetStats(a!)).find((s) => pairs.some((p) => p.followerIndex === s.index)
      && s.owner.status === 'owned' && s.owner.id !== ids.get(a!)), { timeoutMs: 6 * RENEWAL_MS + 10_000, intervalMs: 300, message: 'one of the two follows to move off A' });
    const name = moved.index;
    const c = all.find((d) => ids.get(d) === (moved.owner as { id: string }).id)!;
    const b = all.find((d) => d !== a && d !== c)!;
    const cId = ids.get(c)!;

    // Paused through B: forwarded to C, which applied it and says so.
    const paused = await fetch(`${b.url}/follower/${name}/_ccr/pause_follow`, { method: 'POST', headers: b.authHeaders() });
    expect(paused.status, await paused.clone().text()).to.equal(200);
    expect(await paused.json()).to.deep.equal({ acknowledged: true });
    expect(paused.headers.get('x-ccr-follow-answered-by')).to.match(new RegExp(`^${cId} on `));
    expect(paused.headers.get('x-ccr-follow-forwarded-from')).to.match(new RegExp(`^${ids.get(b)} on `));
    // Through each daemon: once, paused, owned by C (stats and info alike).
    for (const d of all) {
      const stats = (await fleetStats(d)).filter((s) => s.index === name);
      expect(stats, `stats through ${d.pid}`).to.have.length(1);
      expect(stats[0]!.status, `stats through ${d.pid}`).to.equal('paused');
      expect(stats[0]!.owner).to.include({ status: 'owned', id: cId });
      const info = (await fleetInfo(d)).filter((i) => i.follower_index === name);
      expect(info, `info through ${d.pid}`).to.have.length(1);
      expect(info[0]!.owner).to.include({ status: 'owned', id: cId });
      expect((await fleetStats(d)).map((s) => s.index).filter((i) => pairs.some((p) => p.followerIndex === i)).sort(), `through ${d.pid}`)
        .to.deep.equal(pairs.map((p) => p.followerIndex).sort());
    }
    // The CLI's table through A names C as the owner.
    const table = await runCli(['--url', a!.url, 'stats'], { env: { CCR_FOLLOW_CONTROL_TOKEN: TOKEN } });
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout.split('\n').find((l) => l.includes(name))).to.include(`${cId.slice(0, 8)} on `);

    // A request already forwarded once is answered, never forwarded again: the 409 naming C.
    const marked = await fetch(`${a!.url}/follower/${name}/_ccr/resume_follow`, { method: 'POST', headers: { ...a!.authHeaders(), 'x-ccr-follow-forwarded-by': 'test' } });
    expect(marked.status).to.equal(409);
    expect(await marked.text()).to.include(`pid ${c.pid}`);
    expect((await fleetStats(c)).find((s) => s.index === name)!.status, 'the marked resume changed nothing').to.equal('paused');
    // Without the token, refused by the daemon asked (401), before any forwarding.
    const anonymous = await fetch(`${b.url}/follower/${name}/_ccr/resume_follow`, { method: 'POST' });
    expect(anonymous.status).to.equal(401);

    // Resumed through A.
    await a!.api('POST', `/follower/${name}/_ccr/resume_follow`);
    expect((await fleetStats(b)).find((s) => s.index === name)!.status).to.equal('active');

    // Fleet selectors through B cover the followers of A and of C alike.
    const cli = (d: DaemonProcess, ...args: string[]): ReturnType<typeof runCli> => runCli(['--url', d.url, ...args], { env: { CCR_FOLLOW_CONTROL_TOKEN: TOKEN } });
    const pausedAll = await cli(b, 'pause', '--match', 'follower-fleet-*');
    expect(pausedAll.code, pausedAll.stdout + pausedAll.stderr).to.equal(0);
    const ours = (list: FleetFollowerStats[]): FleetFollowerStats[] => list.filter((s) => pairs.some((p) => p.followerIndex === s.index));
    expect(ours(await fleetStats(a!)).map((s) => s.status)).to.deep.equal(['paused', 'paused']);
    expect(new Set(ours(await fleetStats(a!)).map((s) => (s.owner as { id: string }).id))).to.deep.equal(new Set([ids.get(a!), cId]));
    const resumedAll = await cli(c, 'resume', '--all');
    expect(resumedAll.code, resumedAll.stdout + resumedAll.stderr).to.equal(0);
    expect(ours(await fleetStats(b)).map((s) => s.status)).to.deep.equal(['active', 'active']);

    // Every follower is exported by exactly one daemon; each daemon counts three live daemons.
    for (const p of pairs) await p.workload.run(2);
    const exporters = await exportersPerFollower(all);
    for (const p of pairs) expect(exporters.get(`follower/${p.followerIndex}`), p.followerIndex).to.equal(1);
    // The fleet gauges come from each daemon's last scan (every renewal period).
    for (const d of all) {
      let text = '';
      await waitFor(async () => /^ccr_follow_fleet_unowned_followers 0$/m.test(text = await (await fetch(`${d.url}/metrics`, { headers: d.authHeaders() })).text()),
        { timeoutMs: 3 * RENEWAL_MS, intervalMs: 200, message: () => `${d.pid} to count no unowned follower: ${/^ccr_follow_fleet_.*$/gm.exec(text)?.join(' ')}` });
      expect(text).to.match(/^ccr_follow_fleet_daemons 3$/m);
    }
    for (const p of pairs) await expectEqual(leader, p.leaderIndex, follower, p.followerIndex);
    await Promise.all(all.map((d) => d.stop()));
  });

  it('lists three daemons, two after a SIGKILL, three after a restart, and shows the dead one\'s follower once: unowned, then owned anew', async () => {
    const stateIndex = `.${uniqueName('ccr-fleet')}`;
    created.push([follower, stateIndex]);
    const [a, b, c] = await startFleet(stateIndex);
    await waitFor(async () => (await daemonsVia(b!)).length === 3, { timeoutMs: 4 * RENEWAL_MS, intervalMs: 300, message: 'B to list three daemons' });
    const rows = await daemonsVia(b!);
    expect(rows.map((r) => r.pid).sort()).to.deep.equal([a!.pid, b!.pid, c!.pid].sort());
    for (const r of rows) {
      expect(r.control).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(r).to.have.keys('id', 'host', 'pid', 'control', 'version', 'started', 'uptime_ms', 'leases_held', 'leases', 'last_heartbeat', 'heartbeat_age_ms', 'self');
    }

    // A follow asked of A runs on A (created there).
    const p = await leaderWithDocs(2603);
    await a!.api('PUT', `/follower/${p.followerIndex}/_ccr/follow`, { remote_cluster: 'leader', leader_index: p.leaderIndex, reconcile_interval: '1s' });
    const aId = await memberId(a!);
    await waitFor(async () => (await fleetStats(b!)).find((s) => s.index === p.followerIndex && s.owner.status === 'owned' && s.owner.id === aId),
      { timeoutMs: 4 * RENEWAL_MS, intervalMs: 300, message: 'B to show the follower owned by A' });

    a!.kill('SIGKILL');
    const killedAt = Date.now();
    await a!.waitForExit(10_000);
    // Through B, at every look: the follower exactly once; unowned for a while, then owned by B or C.
    const seen: string[] = [];
    const newOwner = await waitFor(async () => {
      const mine = (await fleetStats(b!)).filter((s) => s.index === p.followerIndex);
      expect(mine, 'the follower through B, once').to.have.length(1);
      const owner = mine[0]!.owner;
      seen.push(owner.status === 'owned' ? owner.id : 'unowned');
      if (owner.status === 'unowned') expect(owner.for_ms).to.be.at.least(0);
      return owner.status === 'owned' && owner.id !== aId ? owner.id : undefined;
    }, { timeoutMs: 3 * LEASE_TIMEOUT_MS + 10_000, intervalMs: 200, message: () => `the follower to be owned anew (seen: ${[...new Set(seen)].join(', ')})` });
    expect(seen, 'shown unowned before it was owned anew').to.include('unowned');
    expect(seen.slice(seen.indexOf('unowned'))).to.not.include(aId);
    expect([await memberId(b!), await memberId(c!)]).to.include(newOwner);

    // The dead daemon leaves the list once B has seen its heartbeat unchanged for lease_timeout: at
    // most a scan after its last heartbeat, a timeout, and a scan again (each scan a renewal period
    // plus its own requests on a busy machine) after the kill.
    const deadListedWithin = 2 * LEASE_TIMEOUT_MS + RENEWAL_MS;
    await waitFor(async () => (await daemonsVia(b!)).length === 2, { timeoutMs: deadListedWithin, intervalMs: 300, message: 'B to list two daemons' });
    expect(Date.now() - killedAt).to.be.at.most(deadListedWithin);
    expect((await daemonsVia(c!)).map((r) => r.pid).sort()).to.deep.equal([b!.pid, c!.pid].sort());

    const restarted = await DaemonProcess.start({ ...clusters, stateIndex, leaseTimeout: `${LEASE_TIMEOUT_MS / 1000}s`, controlToken: TOKEN });
    const three = [b!.pid, c!.pid, restarted.pid].sort();
    await waitFor(async () => (await daemonsVia(b!)).length === 3, { timeoutMs: 4 * RENEWAL_MS, intervalMs: 300, message: 'B to list three daemons again' });
    expect((await daemonsVia(b!)).map((r) => r.pid).sort()).to.deep.equal(three);
    // The restarted daemon never saw the dead one's heartbeat change: it counts it live until it has
    // seen it unchanged for lease_timeout (no wall clocks compared), then lists the same three.
    await waitFor(async () => JSON.stringify((await daemonsVia(restarted)).map((r) => r.pid).sort()) === JSON.stringify(three),
      { timeoutMs: LEASE_TIMEOUT_MS + 3 * RENEWAL_MS, intervalMs: 300, message: 'the restarted daemon to list the same three' });

    await p.workload.run(2);
    await expectEqual(leader, p.leaderIndex, follower, p.followerIndex);
    await Promise.all([b!, c!, restarted].map((d) => d.stop()));
  });
});
