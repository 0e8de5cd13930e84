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
import type { FollowerRecord, StateStore } from '../../../src/state/state-store.js';
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

function fleetOf(opts: {
  local: string[]; peers: Record<string, string[] | 'down'>; records: string[]; holders: Record<string, LeaseHolding>;
}): Fleet {
  const me = member('me', 'http://me');
  const peers = Object.keys(opts.peers).map((id) => member(id, `http://${id}`));
  const snapshot: FleetSnapshot = {
    me: 'me', members: [me, ...peers], resources: opts.records.map((r) => `follower:follower/${r}`),
    holding: (resource) => opts.holders[resource] ?? { owner: undefined, unchangedMs: 0 },
  };
  const leases = { fleet: () => snapshot } as unknown as LeaseKeeper;
  const manager = { stats: () => opts.local.map(stats), info: () => opts.local.map(info) } as unknown as FollowManager;
  const state = { listFollowers: async () => opts.records.map(record) } as unknown as StateStore;
  const send: PeerSend = async (control) => {
    const id = control.replace('http://', '');
    const runs = opts.peers[id];
    if (runs === 'down' || runs === undefined) throw new Error('connect ECONNREFUSED');
    const answer: LocalFollowers = { daemon: id, stats: runs.map(stats), info: runs.map(info) };
    return { status: 200, text: JSON.stringify(answer), answeredBy: id, contentType: 'application/json' };
  };
  return new Fleet({ self: { id: 'me', host: 'host-me', pid: 1, version: '9.9.9', started: me.started }, manager, state, leases, logger: silentLogger, send });
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
