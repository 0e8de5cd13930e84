// Several real daemons (child processes) sharing one state index in the follower cluster:
// - six followed indices under a continuous workload with updates and deletes are spread over three
//   daemons (Elasticsearch 8 keeping the state), the one running the most is SIGKILLed and its
//   followers run elsewhere, a daemon that joins takes a share, a SIGTERMed one hands over in seconds;
// - a daemon cut off from the state (OpenSearch 2 keeping it) through the TCP proxy stops its
//   follower before another takes it, and gets a share back by hand-over when the link returns;
// - an auto-follow pattern is polled by one daemon at a time and moves with its lease;
// - a rolling restart of all three under load pauses nothing.
// Each ends with every follower equal to its leader document by document, and the daemons' own
// logs (lease_event lines) showing no follower run by two daemons at once for longer than one renewal.
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { FollowerIndexStats } from '../../src/follow/index-follower.js';
import { testClusters, uniqueName, type TestCluster } from '../helpers/clusters.js';
import { DaemonProcess, stopAllDaemonProcesses, waitForDaemonCaughtUp } from '../helpers/daemon-process.js';
import { LeaderWriter } from '../helpers/leader-writer.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { compareIndices, connect, createLeaderIndex, RandomWorkload } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const LEASE_TIMEOUT_MS = 6_000;
const RENEWAL_MS = LEASE_TIMEOUT_MS / 3;
const FOLLOWERS = 6;

/** The follower indices a daemon runs now, from what it says it runs itself (empty once it is gone). */
async function runs(daemon: DaemonProcess): Promise<string[]> {
  if (!daemon.running) return [];
  const answer = await daemon.api<{ stats: FollowerIndexStats[] }>('GET', '/_fleet/local');
  return answer.stats.filter((s) => s.state === 'starting' || s.state === 'active').map((s) => s.index).sort();
}

async function placement(daemons: readonly DaemonProcess[]): Promise<Map<DaemonProcess, string[]>> {
  return new Map(await Promise.all(daemons.map(async (d) => [d, await runs(d)] as const)));
}

/** Who runs which follower, as one line for a failure message. */
function placementText(where: Map<DaemonProcess, string[]>): string {
  return [...where].map(([d, indices]) => `${d.pid}: [${indices.join(', ')}]`).join('; ');
}

/**
 * Waits until every follower equals its leader, document by document (writes stopped). A follower
 * may still move between daemons meanwhile (the share rule), so this waits on the indices
 * themselves, after checking that some daemon runs each one.
 */
async function expectFollowersEqual(
  daemons: readonly DaemonProcess[], pairs: readonly { leaderIndex: string; followerIndex: string }[], leader: ClusterClient, follower: ClusterClient,
): Promise<void> {
  for (const { leaderIndex, followerIndex } of pairs) {
    await waitFor(async () => [...(await placement(daemons)).values()].some((r) => r.includes(followerIndex)),
      { timeoutMs: 3 * LEASE_TIMEOUT_MS, intervalMs: 300, message: `a daemon to run ${followerIndex}` });
    // Deletes are found by a reconciliation pass (every reconcile_interval once caught up).
    let differences: string[] = [];
    await waitFor(async () => (differences = await compareIndices(leader, leaderIndex, follower, followerIndex)).length === 0, {
      timeoutMs: 120_000, intervalMs: 1_000, message: () => `${followerIndex} to equal its leader: ${differences.slice(0, 5).join('; ')}`,
    });
    expect(await compareIndices(leader, leaderIndex, follower, followerIndex), followerIndex).to.deep.equal([]);
  }
}

interface Interval {
  readonly pid: number;
  readonly from: number;
  to: number;
}

/**
 * Per follower, when each daemon ran it: from its log's `lease_event` lines (start when the lease
 * was taken, stop once its tasks had stopped). A run still open ends at `endOf(daemon)`.
 */
async function leaseHistory(daemons: readonly DaemonProcess[], endOf: (d: DaemonProcess) => number): Promise<Map<string, Interval[]>> {
  const history = new Map<string, Interval[]>();
  for (const daemon of daemons) {
    const open = new Map<string, Interval>();
    for (const line of (await daemon.logText()).split('\n')) {
      if (!line.includes('lease_event')) continue;
      const entry = JSON.parse(line) as { lease: string; lease_event: 'start' | 'stop'; timestamp: string };
      const at = Date.parse(entry.timestamp);
      if (entry.lease_event === 'start') {
        const interval = { pid: daemon.pid, from: at, to: Number.POSITIVE_INFINITY };
        open.set(entry.lease, interval);
        history.set(entry.lease, [...(history.get(entry.lease) ?? []), interval]);
      } else {
        const interval = open.get(entry.lease);
        if (interval) interval.to = at;
        open.delete(entry.lease);
      }
    }
    for (const interval of open.values()) interval.to = endOf(daemon);
  }
  return history;
}

/** The longest time any follower was run by two daemons at once. */
function longestOverlap(history: Map<string, Interval[]>): { ms: number; what: string } {
  let worst = { ms: 0, what: 'none' };
  for (const [lease, intervals] of history) {
    for (const a of intervals) {
      for (const b of intervals) {
        if (a.pid >= b.pid) continue;
        const ms = Math.min(a.to, b.to) - Math.max(a.from, b.from);
        if (ms > worst.ms) worst = { ms, what: `${lease} on ${a.pid} and ${b.pid}` };
      }
    }
  }
  return worst;
}

describe('several daemons sharing the followers through leases', function () {
  this.timeout(900_000);
  let leader: ClusterClient;
  let follower: ClusterClient;
  /** Elasticsearch 8 keeps the state in the first test, OpenSearch 2 in the second. */
  let clusters: { leader: TestCluster; follower: TestCluster };
  let osClusters: { leader: TestCluster; follower: TestCluster };
  let osLeader: ClusterClient;
  let osFollower: ClusterClient;
  const created: [ClusterClient, string][] = [];

  before(async () => {
    clusters = (await testClusters()).pair('elasticsearch', 'elasticsearch');
    osClusters = (await testClusters()).pair('opensearch', 'opensearch');
    [leader, follower, osLeader, osFollower] = await Promise.all([
      connect(clusters.leader, 'leader'), connect(clusters.follower, 'follower'), connect(osClusters.leader, 'leader'), connect(osClusters.follower, 'follower'),
    ]);
  });
  after(async () => {
    await stopAllDaemonProcesses();
    for (const [client, index] of created) await client.deleteIndex(index).catch(() => undefined);
    await Promise.all([leader?.close(), follower?.close(), osLeader?.close(), osFollower?.close()]);
  });

  it('spreads six followers over three daemons, fails over a SIGKILLed one, shares with one that joins and hands over on SIGTERM', async () => {
    const stateIndex = `.${uniqueName('ccr-leases')}`;
    created.push([follower, stateIndex]);
    const start = (): Promise<DaemonProcess> => DaemonProcess.start({ ...clusters, stateIndex, leaseTimeout: `${LEASE_TIMEOUT_MS / 1000}s` });
    const indices = Array.from({ length: FOLLOWERS }, (_, i) => ({ leaderIndex: uniqueName(`leader-${i}`), followerIndex: uniqueName(`follower-${i}`) }));
    const writers: LeaderWriter[] = [];
    for (const [i, { leaderIndex, followerIndex }] of indices.entries()) {
      created.push([leader, leaderIndex], [follower, followerIndex]);
      await createLeaderIndex(leader, leaderIndex, { shards: 2 });
      const workload = new RandomWorkload(leader, leaderIndex, { seed: 2500 + i, ids: 300, batchSize: 20, deleteShare: 0.15 });
      await workload.run(3);
      writers.push(new LeaderWriter(workload, { opsPerSecond: 40 }));
    }
    const first = [await start(), await start(), await start()];
    const killedAt = new Map<DaemonProcess, number>();
    try {
      // Each follow is asked of a different daemon; each runs at once where it was asked.
      for (const [i, { leaderIndex, followerIndex }] of indices.entries()) {
        await first[i % 3]!.api('PUT', `/follower/${followerIndex}/_ccr/follow`, { remote_cluster: 'leader', leader_index: leaderIndex, reconcile_interval: '1s' });
      }
      const limit = Math.ceil(FOLLOWERS / 3) + 1;
      let where = await waitFor(async () => {
        const now = await placement(first);
        const counts = [...now.values()].map((r) => r.length);
        return counts.reduce((a, b) => a + b, 0) === FOLLOWERS && counts.every((c) => c >= 1) ? now : undefined;
      }, { timeoutMs: 60_000, intervalMs: 500, message: 'all six followers to run, each daemon running some' });
      for (const [d, r] of where) expect(r.length, `daemon ${d.pid} runs more than ceil(6/3)+1: ${placementText(where)}`).to.be.at.most(limit);
      // Asked of another daemon than the one that runs it: forwarded there and applied by it, and back.
      const [owner, owned] = [...where].find(([, r]) => r.length > 0)!;
      const other = first.find((d) => d !== owner)!;
      await other.api('POST', `/follower/${owned[0]}/_ccr/pause_follow`);
      const ownStats = await owner.api<{ stats: FollowerIndexStats[] }>('GET', '/_fleet/local');
      expect(ownStats.stats.find((s) => s.index === owned[0])?.status, `${owned[0]} paused on ${owner.pid}`).to.equal('paused');
      await other.api('POST', `/follower/${owned[0]}/_ccr/resume_follow`);
      for (const w of writers) await w.writeMore(2);

      // SIGKILL the daemon running the most: its followers run elsewhere within lease_timeout + 30 s.
      const victim = [...where].sort((a, b) => b[1].length - a[1].length)[0]![0];
      const orphaned = where.get(victim)!;
      victim.kill('SIGKILL');
      killedAt.set(victim, Date.now());
      await victim.waitForExit(10_000);
      const survivors = first.filter((d) => d !== victim);
      where = await waitFor(async () => {
        const now = await placement(survivors);
        const running = new Set([...now.values()].flat());
        return orphaned.every((f) => running.has(f)) && running.size === FOLLOWERS ? now : undefined;
      }, { timeoutMs: LEASE_TIMEOUT_MS + 30_000, intervalMs: 500, message: () => `the followers of the killed daemon (${orphaned.join(', ')}) to run elsewhere` });
      for (const [, r] of where) expect(r.length, `after the kill: ${placementText(where)}`).to.be.at.most(Math.ceil(FOLLOWERS / 2) + 1);

      // A daemon that joins takes a share within two lease periods (plus the time to start them).
      const joiner = await start();
      const fleet = [...survivors, joiner];
      where = await waitFor(async () => {
        const now = await placement(fleet);
        return (now.get(joiner)?.length ?? 0) >= 1 && [...now.values()].flat().length === FOLLOWERS ? now : undefined;
      }, { timeoutMs: 2 * LEASE_TIMEOUT_MS + 15_000, intervalMs: 500, message: 'the daemon that joined to take a share' });
      for (const [, r] of where) expect(r.length, `after the join: ${placementText(where)}`).to.be.at.most(limit);
      for (const w of writers) await w.writeMore(2);

      // SIGTERM hands over in seconds: well within one lease timeout, as the leases are marked free.
      const leaving = survivors[0]!;
      const handed = where.get(leaving)!;
      const stayers = fleet.filter((d) => d !== leaving);
      const stoppedAt = Date.now();
      expect((await leaving.stop()).code, 'graceful exit').to.equal(0);
      const stopTook = Date.now() - stoppedAt;
      await waitFor(async () => {
        const running = new Set([...(await placement(stayers)).values()].flat());
        return handed.every((f) => running.has(f)) && running.size === FOLLOWERS;
      }, { timeoutMs: LEASE_TIMEOUT_MS + 10_000, intervalMs: 200, message: () => `the followers of the stopped daemon (${handed.join(', ')}) to run elsewhere` });
      console.log(`      hand-over on SIGTERM: the others ran its followers ${Date.now() - stoppedAt - stopTook} ms after it exited`);
      // Taken because they were marked free, not because they expired: no waiting out a lease timeout.
      const takenAs = new Map<string, string>();
      for (const daemon of stayers) {
        for (const line of (await daemon.logText()).split('\n')) {
          if (!line.includes('"lease_found"')) continue;
          const entry = JSON.parse(line) as { lease: string; lease_found: string; timestamp: string };
          if (Date.parse(entry.timestamp) >= stoppedAt) takenAs.set(entry.lease, entry.lease_found);
        }
      }
      for (const f of handed) {
        const lease = [...takenAs.keys()].find((l) => l.startsWith('follower:') && l.endsWith(`/${f}`));
        expect(lease && takenAs.get(lease), `how the lease of ${f} was found`).to.equal('handed_over');
      }

      // Everything caught up and equal, document by document.
      await Promise.all(writers.map((w) => w.stop()));
      await expectFollowersEqual(stayers, indices, leader, follower);

      // From the daemons' own logs: no follower ran on two daemons at once for longer than one renewal.
      const end = Date.now();
      const history = await leaseHistory([...first, joiner], (d) => killedAt.get(d) ?? end);
      expect([...history.keys()].length, 'every follower appears in the lease history').to.equal(FOLLOWERS);
      const overlap = longestOverlap(history);
      expect(overlap.ms, `longest double run: ${overlap.what}`).to.be.at.most(RENEWAL_MS);
    } finally {
      await Promise.allSettled(writers.map((w) => w.stop()));
      await stopAllDaemonProcesses();
    }
  });
  it('(OpenSearch 2 keeping the state) stops the followers of a daemon cut off from the state, runs them elsewhere, and takes back only its share when the link returns', async () => {
    const [leader, follower, clusters] = [osLeader, osFollower, osClusters];
    const stateIndex = `.${uniqueName('ccr-leases')}`;
    created.push([follower, stateIndex]);
    const url = new URL(clusters.follower.url);
    const proxy = await TcpProxy.start({ target: { host: url.hostname, port: Number(url.port) }, delayMs: 0, bytesPerSecond: 1e9, cutProbability: 0, seed: 25 });
    // The same follower cluster (which keeps the state), reached through the proxy.
    const throughProxy: TestCluster = { ...clusters.follower, clusterConfig: (alias) => ({ ...clusters.follower.clusterConfig(alias), urls: [proxy.url] }) };
    const options = { stateIndex, leaseTimeout: `${LEASE_TIMEOUT_MS / 1000}s` };
    const indices = [0, 1].map((i) => ({ leaderIndex: uniqueName(`leader-p${i}`), followerIndex: uniqueName(`follower-p${i}`) }));
    const writers: LeaderWriter[] = [];
    for (const [i, { leaderIndex, followerIndex }] of indices.entries()) {
      created.push([leader, leaderIndex], [follower, followerIndex]);
      await createLeaderIndex(leader, leaderIndex, { shards: 2 });
      const workload = new RandomWorkload(leader, leaderIndex, { seed: 2600 + i, ids: 300, batchSize: 20, deleteShare: 0.15 });
      await workload.run(3);
      writers.push(new LeaderWriter(workload, { opsPerSecond: 40 }));
    }
    const a = await DaemonProcess.start({ ...clusters, ...options });
    const b = await DaemonProcess.start({ leader: clusters.leader, follower: throughProxy, ...options });
    try {
      await a.api('PUT', `/follower/${indices[0]!.followerIndex}/_ccr/follow`, { remote_cluster: 'leader', leader_index: indices[0]!.leaderIndex, reconcile_interval: '1s' });
      await b.api('PUT', `/follower/${indices[1]!.followerIndex}/_ccr/follow`, { remote_cluster: 'leader', leader_index: indices[1]!.leaderIndex, reconcile_interval: '1s' });
      await waitFor(async () => (await runs(a)).length === 1 && (await runs(b)).length === 1, { timeoutMs: 30_000, intervalMs: 300, message: 'one follower on each daemon' });
      const cutOff = indices[1]!.followerIndex;

      proxy.blocked = true;
      const blockedAt = Date.now();
      // b stops its follower before its lease can expire (two thirds of the timeout after its last renewal).
      await waitFor(async () => !(await runs(b)).includes(cutOff), { timeoutMs: LEASE_TIMEOUT_MS, intervalMs: 200, message: 'the cut-off daemon to stop its follower' });
      await waitFor(async () => (await runs(a)).length === 2, { timeoutMs: LEASE_TIMEOUT_MS + 30_000, intervalMs: 300, message: 'the other daemon to run both' });
      expect(Date.now() - blockedAt, 'taken over only once the lease could have expired').to.be.at.least(LEASE_TIMEOUT_MS / 3);

      proxy.blocked = false;
      // Back: it takes nothing back by force; the share rule hands it one follower gracefully.
      await waitFor(async () => (await runs(a)).length === 1 && (await runs(b)).length === 1, { timeoutMs: 3 * LEASE_TIMEOUT_MS + 15_000, intervalMs: 300, message: 'the two to share again' });

      await Promise.all(writers.map((w) => w.stop()));
      await expectFollowersEqual([a, b], indices, leader, follower);
      const end = Date.now();
      const overlap = longestOverlap(await leaseHistory([a, b], () => end));
      expect(overlap.ms, `longest double run: ${overlap.what}`).to.be.at.most(RENEWAL_MS);
    } finally {
      await Promise.allSettled(writers.map((w) => w.stop()));
      await stopAllDaemonProcesses();
      await proxy.close();
    }
  });
  it('polls an auto-follow pattern on one daemon at a time, shares the followers it creates, and moves it with its lease', async () => {
    const stateIndex = `.${uniqueName('ccr-leases')}`;
    created.push([follower, stateIndex]);
    const start = (): Promise<DaemonProcess> => DaemonProcess.start({ ...clusters, stateIndex, leaseTimeout: `${LEASE_TIMEOUT_MS / 1000}s` });
    const prefix = uniqueName('auto');
    const leaderIndices = [0, 1, 2, 3, 4].map((i) => `${prefix}-${i}`);
    for (const index of leaderIndices) created.push([leader, index], [follower, `${index}-copy`]);
    const a = await start();
    const b = await start();
    try {
      await a.api('PUT', `/_ccr/auto_follow/${prefix}`, { remote_cluster: 'leader', leader_index_patterns: [`${prefix}-*`], follow_index_pattern: '{{leader_index}}-copy' });
      // Forwarded to a from b's next scan on (every renewal period); until then b does not know the pattern.
      let answer = '';
      await waitFor(async () => (answer = await b.api('POST', `/_ccr/auto_follow/${prefix}/pause`).then(() => 'accepted', (err: Error) => err.message)) === 'accepted', {
        timeoutMs: 2 * RENEWAL_MS + 5_000, intervalMs: 200, message: () => `b to forward a pause of a's pattern to a: ${answer}`,
      });
      const onA = await a.api<{ patterns: { name: string; pattern: { active: boolean } }[] }>('GET', `/_ccr/auto_follow/${prefix}`);
      expect(onA.patterns[0]?.pattern.active, 'paused on a').to.equal(false);
      await b.api('POST', `/_ccr/auto_follow/${prefix}/resume`);
      for (const [i, index] of leaderIndices.slice(0, 4).entries()) {
        await createLeaderIndex(leader, index, { shards: 1 });
        await new RandomWorkload(leader, index, { seed: 2700 + i, ids: 100, batchSize: 50 }).run(2);
      }
      const copies = leaderIndices.map((i) => `${i}-copy`);
      // Created by the daemon polling the pattern, then shared by the share rule.
      await waitFor(async () => {
        const [onA, onB] = [await runs(a), await runs(b)];
        return copies.slice(0, 4).every((c) => onA.includes(c) || onB.includes(c)) && onA.length >= 1 && onB.length >= 1;
      }, { timeoutMs: 3 * LEASE_TIMEOUT_MS + 30_000, intervalMs: 500, message: 'the four followers the pattern created to be shared by both daemons' });

      a.kill('SIGKILL');
      await a.waitForExit(10_000);
      await waitFor(async () => {
        const onB = await runs(b);
        return copies.slice(0, 4).every((c) => onB.includes(c));
      }, { timeoutMs: LEASE_TIMEOUT_MS + 30_000, intervalMs: 500, message: 'the survivor to run all four followers' });
      // The pattern moved with its lease: a new leader index is followed by the survivor.
      await createLeaderIndex(leader, leaderIndices[4]!, { shards: 1 });
      await new RandomWorkload(leader, leaderIndices[4]!, { seed: 2704, ids: 100, batchSize: 50 }).run(2);
      await waitFor(async () => (await runs(b)).includes(copies[4]!), { timeoutMs: LEASE_TIMEOUT_MS + 30_000, intervalMs: 500, message: 'the survivor to follow a new index of the pattern' });
      for (const [i, index] of leaderIndices.entries()) {
        await waitForDaemonCaughtUp(b, leader, index, copies[i]!);
        expect(await compareIndices(leader, index, follower, copies[i]!), copies[i]).to.deep.equal([]);
      }
    } finally {
      await stopAllDaemonProcesses();
    }
  });
  it('survives a rolling restart of all three daemons under load: nothing lost, no follower paused', async () => {
    const stateIndex = `.${uniqueName('ccr-leases')}`;
    created.push([follower, stateIndex]);
    const start = (): Promise<DaemonProcess> => DaemonProcess.start({ ...clusters, stateIndex, leaseTimeout: `${LEASE_TIMEOUT_MS / 1000}s` });
    const indices = [0, 1, 2].map((i) => ({ leaderIndex: uniqueName(`leader-r${i}`), followerIndex: uniqueName(`follower-r${i}`) }));
    const writers: LeaderWriter[] = [];
    for (const [i, { leaderIndex, followerIndex }] of indices.entries()) {
      created.push([leader, leaderIndex], [follower, followerIndex]);
      await createLeaderIndex(leader, leaderIndex, { shards: 2 });
      const workload = new RandomWorkload(leader, leaderIndex, { seed: 2800 + i, ids: 300, batchSize: 20, deleteShare: 0.15 });
      await workload.run(3);
      writers.push(new LeaderWriter(workload, { opsPerSecond: 40 }));
    }
    let fleet = [await start(), await start(), await start()];
    const everyone = [...fleet];
    const paused: string[] = [];
    /** Every follower runs somewhere, and none is paused. */
    const allRunning = async (): Promise<boolean> => {
      const seen = new Set<string>();
      for (const d of fleet) {
        if (!d.running) continue;
        const answer = await d.api<{ stats: FollowerIndexStats[] }>('GET', '/_fleet/local');
        for (const s of answer.stats) {
          if (s.status === 'paused') paused.push(`${s.index} on ${d.pid}: ${s.fatal_exception?.reason ?? 'paused'}`);
          seen.add(s.index);
        }
      }
      return indices.every(({ followerIndex }) => seen.has(followerIndex));
    };
    try {
      for (const [i, { leaderIndex, followerIndex }] of indices.entries()) {
        await fleet[i]!.api('PUT', `/follower/${followerIndex}/_ccr/follow`, { remote_cluster: 'leader', leader_index: leaderIndex, reconcile_interval: '1s' });
      }
      await waitFor(allRunning, { timeoutMs: 30_000, intervalMs: 300, message: 'all three followers to run' });
      for (const old of [...fleet]) {
        expect((await old.stop()).code, 'graceful exit').to.equal(0);
        fleet = fleet.filter((d) => d !== old);
        await waitFor(allRunning, { timeoutMs: LEASE_TIMEOUT_MS + 10_000, intervalMs: 300, message: 'the stopped daemon\'s followers to run elsewhere' });
        const fresh = await start();
        everyone.push(fresh);
        fleet.push(fresh);
        await waitFor(async () => (await allRunning()) && (await runs(fresh)).length >= 1, {
          timeoutMs: 2 * LEASE_TIMEOUT_MS + 15_000, intervalMs: 300, message: 'the restarted daemon to take a share',
        });
        await writers[0]!.writeMore(1);
      }
      expect(paused, 'followers seen paused during the restart').to.deep.equal([]);
      await Promise.all(writers.map((w) => w.stop()));
      await expectFollowersEqual(fleet, indices, leader, follower);
      const end = Date.now();
      const overlap = longestOverlap(await leaseHistory(everyone, () => end));
      expect(overlap.ms, `longest double run: ${overlap.what}`).to.be.at.most(RENEWAL_MS);
    } finally {
      await Promise.allSettled(writers.map((w) => w.stop()));
      await stopAllDaemonProcesses();
    }
  });
});
