/**
 * The fleet as one (daemon/fleet.ts), on a fake lease keeper, manager, state and peer link: every
 * follower once with its owner — a peer's, this daemon's, unowned when nobody reports it, the lease
 * holder's when two do — and the live daemons as listed.
 */
import { expect } from 'chai';
import { Fleet, type LocalFollowers } from '../../../src/daemon/fleet.js';
import type { PeerSend } from '../../../src/daemon/peer-client.js';
import type { FollowManager, FollowerInfo } from '../../../src/follow/follow-manager.js';
import type { FollowerIndexStats } from '../../../src/follow/index-follower.js';
import type { FleetMember, FleetSnapshot, LeaseHolding, LeaseKeeper } from '../../../src/lease/lease-keeper.js';
import type { AutoFollowPatternRecord, FollowerRecord, StateStore } from '../../../src/state/state-store.js';
import type { AutoFollowPatternView } from '../../../src/autofollow/auto-follow-coordinator.js';
import type { AutoFollowStatsView } from '../../../src/autofollow/auto-follow-stats.js';
import { silentLogger } from '../../../src/util/logger.js';

function member(id: string, control: string): FleetMember {
  return { id, host: `host-${id}`, pid: 1, control, version: '9.9.9', started: new Date(Date.now() - 60_000).toISOString(), leases: [], heartbeat_at: new Date().toISOString(), silent_ms: 0 };
}

function stats(index: string): FollowerIndexStats {
  return {
    index, remote_cluster: 'leader', leader_index: index, follower_cluster: 'follower', status: 'active', state: 'active',
    total_global_checkpoint_lag: 0, operations_written: 0, operations_deleted: 0, foreign_writes_detected: 0, leader_checkpoints_seen: true, shards: [],
  };
}

function info(index: string): FollowerInfo {
  return { follower_index: index, follower_cluster: 'follower', remote_cluster: 'leader', leader_index: index, status: 'active', parameters: {} as FollowerInfo['parameters'] };
}

function record(index: string): FollowerRecord {
  return { leaderCluster: 'leader', leaderIndex: index, followerCluster: 'follower', followerIndex: index, params: {}, status: 'active', createdAt: new Date().toISOString() };
}

function pattern(name: string, successes: number): AutoFollowPatternView {
  return {
    name, pattern: { active: true, remote_cluster: 'leader', follower_cluster: 'follower', leader_index_patterns: [`${name}-*`] }, active_since: '2026-12-07T00:00:00.000Z',
    stats: {
      number_of_successful_follow_indices: successes, number_of_failed_follow_indices: 0, recent_auto_follow_errors: [],
      followed_indices: [], skipped_indices: [], failed_indices: [], number_of_existing_indices: 0,
    },
  };
}

function autoFollowStats(successes: number, cluster: string, sinceCheck: number): AutoFollowStatsView {
  return {
    number_of_failed_follow_indices: 0, number_of_failed_remote_cluster_state_requests: 1, number_of_successful_follow_indices: successes,
    recent_auto_follow_errors: [], auto_followed_clusters: [{ cluster_name: cluster, time_since_last_check_millis: sinceCheck, state: 'waiting' }],
  };
}

function patternRecord(name: string): AutoFollowPatternRecord {
  return {
    name, remoteCluster: 'leader', followerCluster: 'follower', leaderIndexPatterns: [`${name}-*`], leaderIndexExclusionPatterns: [], followIndexPattern: '{{leader_index}}',
    params: {}, status: 'active', activeSince: '2026-12-07T00:00:00.000Z',
  } as unknown as AutoFollowPatternRecord;
}

function fleetOf(opts: {
  local: string[]; peers: Record<string, string[] | 'down'>; records: string[]; holders: Record<string, LeaseHolding>;
  /** Auto-follow patterns: this daemon's, each peer's, and the stored records. */
  patterns?: { local: string[]; peers: Record<string, string[]>; records: string[] };
}): Fleet {
  const me = member('me', 'http://me');
  const peers = Object.keys(opts.peers).map((id) => member(id, `http://${id}`));
  const snapshot: FleetSnapshot = {
    me: 'me', members: [me, ...peers], resources: opts.records.map((r) => `follower:follower/${r}`),
    holding: (resource) => opts.holders[resource] ?? { owner: undefined, unchangedMs: 0 },
  };
  const leases = { fleet: () => snapshot } as unknown as LeaseKeeper;
  const manager = { stats: () => opts.local.map(stats), info: () => opts.local.map(info) } as unknown as FollowManager;
  const state = {
    listFollowers: async () => opts.records.map(record), listAutoFollowPatterns: async () => (opts.patterns?.records ?? []).map(patternRecord),
  } as unknown as StateStore;
  const patterns = { list: () => (opts.patterns?.local ?? []).map((n) => pattern(n, 1)), stats: () => autoFollowStats(1, 'leader', 500) };
  const send: PeerSend = async (control) => {
    const id = control.replace('http://', '');
    const runs = opts.peers[id];
    if (runs === 'down' || runs === undefined) throw new Error('connect ECONNREFUSED');
    const answer: LocalFollowers = {
      daemon: id, stats: runs.map(stats), info: runs.map(info),
      patterns: (opts.patterns?.peers[id] ?? []).map((n) => pattern(n, 2)), auto_follow_stats: autoFollowStats(2, 'leader', 100),
    };
    return { status: 200, text: JSON.stringify(answer), answeredBy: id, contentType: 'application/json' };
  };
  return new Fleet({ self: { id: 'me', host: 'host-me', pid: 1, version: '9.9.9', started: me.started }, manager, patterns, state, leases, logger: silentLogger, send });
}

describe('the fleet as one', () => {
  it('lists every follower once with its owner, and one nobody reports as unowned with the time since', async () => {
    const fleet = fleetOf({
      local: ['a'], peers: { p1: ['b'], p2: 'down' }, records: ['a', 'b', 'c'],
      holders: { 'follower:follower/c': { owner: { id: 'p2' }, unchangedMs: 4_000 } },
    });
    const { stats: s, info: i } = await fleet.followers();
    expect(s.map((x) => x.index)).to.deep.equal(['a', 'b', 'c']);
    expect(i.map((x) => x.follower_index)).to.deep.equal(['a', 'b', 'c']);
    expect(s[0]!.owner).to.include({ status: 'owned', id: 'me' });
    expect(s[1]!.owner).to.include({ status: 'owned', id: 'p1', host: 'host-p1' });
    expect(s[2]!.owner).to.include({ status: 'unowned', for_ms: 4_000 });
    expect(s[2]!.state).to.equal('unowned');
    expect(s[2]!.shards).to.deep.equal([]);
    expect(i[2]!.owner.status).to.equal('unowned');
  });

  it('shows a follower two daemons report (a hand-over half seen) once, as the lease holder\'s', async () => {
    for (const holder of ['me', 'p1']) {
      const fleet = fleetOf({ local: ['a'], peers: { p1: ['a'] }, records: ['a'], holders: { 'follower:follower/a': { owner: { id: holder }, unchangedMs: 0 } } });
      const { stats: s, info: i } = await fleet.followers();
      expect(s, holder).to.have.length(1);
      expect(i, holder).to.have.length(1);
      expect(s[0]!.owner).to.include({ status: 'owned', id: holder });
      expect(i[0]!.owner).to.include({ status: 'owned', id: holder });
    }
  });

  it('lists every auto-follow pattern once with its owner, one nobody reports as stored and unowned, and sums the auto-follow stats', async () => {
    const fleet = fleetOf({
      local: [], peers: { p1: [], p2: 'down' }, records: [],
      holders: { 'pattern:shared': { owner: { id: 'p1' }, unchangedMs: 0 }, 'pattern:orphan': { owner: { id: 'p2' }, unchangedMs: 3_000 } },
      patterns: { local: ['mine', 'shared'], peers: { p1: ['theirs', 'shared'] }, records: ['mine', 'shared', 'theirs', 'orphan'] },
    });
    const { patterns, autoFollowStats } = await fleet.patterns();
    expect(patterns.map((p) => [p.name, p.owner.status === 'owned' ? p.owner.id : 'unowned'])).to.deep.equal([
      ['mine', 'me'], ['shared', 'p1'], ['theirs', 'p1'], ['orphan', 'unowned'],
    ]);
    expect(patterns.find((p) => p.name === 'shared')!.stats.number_of_successful_follow_indices, 'the lease holder\'s report').to.equal(2);
    expect(patterns.find((p) => p.name === 'orphan')!.owner).to.include({ status: 'unowned', for_ms: 3_000 });
    expect(autoFollowStats).to.include({ number_of_successful_follow_indices: 3, number_of_failed_remote_cluster_state_requests: 2 });
    expect(autoFollowStats.auto_followed_clusters).to.deep.equal([{ cluster_name: 'leader', time_since_last_check_millis: 100, state: 'waiting' }]);
  });

  it('lists the live daemons, itself first, and counts the fleet gauges from the last scan', () => {
    const fleet = fleetOf({
      local: [], peers: { p1: [], p2: [] }, records: ['a', 'b'],
      holders: { 'follower:follower/a': { owner: { id: 'p1' }, unchangedMs: 0 } },
    });
    const rows = fleet.daemons();
    expect(rows.map((r) => [r.id, r.self])).to.deep.equal([['me', true], ['p1', false], ['p2', false]]);
    expect(rows[0]!.uptime_ms).to.be.at.least(60_000);
    expect(fleet.gauges()).to.deep.equal({ daemons: 3, unownedFollowers: 1 });
  });
});
