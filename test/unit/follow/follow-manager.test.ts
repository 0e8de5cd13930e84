/**
 * FollowManager's answers to follow / pause / resume / unfollow / restore over in-memory clusters
 * and state (fake-cluster.ts, memory-state-store.ts): which CCR error each refusal carries, what it
 * creates and records. The clusters are faked to drive refusals a real node cannot be made to give
 * on demand (a credential refused for one call, a cluster that never answers); the same operations
 * run against real nodes in the integration tests.
 */
import { expect } from 'chai';
import type { ClusterConfig } from '../../../src/cluster/cluster-config.js';
import { ClusterRegistry } from '../../../src/cluster/cluster-registry.js';
import { ClusterConnectionError, ClusterResponseError, UnknownClusterError } from '../../../src/cluster/errors.js';
import { FollowError, type FollowErrorType } from '../../../src/follow/follow-errors.js';
import { FollowManager, type FollowRequest } from '../../../src/follow/follow-manager.js';
import { followerKey, type FollowerRecord } from '../../../src/state/state-store.js';
import { silentLogger } from '../../../src/util/logger.js';
import { until } from '../shard/fakes.js';
import { FakeCluster } from './fake-cluster.js';
import { MemoryStateStore } from './memory-state-store.js';

const config = (alias: string): ClusterConfig => ({ alias, urls: [`http://${alias}.invalid:9200`], auth: { type: 'none' }, requestTimeoutMs: 1000 });
const REQUEST: FollowRequest = { leaderCluster: 'leader', leaderIndex: 'orders', followerCluster: 'follower', followerIndex: 'orders-copy' };
const KEY = followerKey('follower', 'orders-copy');

/** The FollowError `fn` is refused with. */
async function refusal(fn: () => Promise<unknown>): Promise<FollowError> {
  const err = await fn().then(() => undefined, (e: unknown) => e);
  expect(err, 'a FollowError').to.be.instanceOf(FollowError);
  return err as FollowError;
}

async function expectRefused(fn: () => Promise<unknown>, type: FollowErrorType, message: RegExp): Promise<FollowError> {
  const err = await refusal(fn);
  expect(err.type, err.message).to.equal(type);
  expect(err.message).to.match(message);
  return err;
}

describe('FollowManager', () => {
  let leader: FakeCluster;
  let follower: FakeCluster;
  let state: MemoryStateStore;
  let manager: FollowManager;

  beforeEach(() => {
    leader = new FakeCluster('leader');
    follower = new FakeCluster('follower');
    state = new MemoryStateStore();
    const fakes = new Map([['leader', leader], ['follower', follower]]);
    const clusters = new ClusterRegistry(new Map(['leader', 'follower', 'dead'].map((a) => [a, config(a)])), async (c) => {
      const fake = fakes.get(c.alias);
      if (!fake) throw new ClusterConnectionError({ alias: c.alias, operation: 'connect', reason: 'connect ECONNREFUSED 127.0.0.1:9200' });
      return fake.client;
    });
    manager = new FollowManager({ clusters, state, logger: silentLogger, checkpointIntervalMs: 5 });
  });
  afterEach(() => manager.close());

  it('creates the follower index from the leader\'s, records the follow and starts it', async () => {
    const orders = leader.add('orders');
    orders.settings = { 'index.max_result_window': '20000', 'index.number_of_replicas': '2' };
    orders.mappings = { properties: { price: { type: 'long' } } };
    orders.index('a');
    const answer = await manager.follow({ ...REQUEST, params: { max_read_request_operation_count: 100 } });
    // As CCR answers a follow that did not ask to wait for active shards (wait_for_active_shards 0).
    expect(answer).to.deep.equal({ follow_index_created: true, follow_index_shards_acked: false, index_following_started: true });
    const created = follower.indices.get('orders-copy')!;
    expect(created.settings).to.include({ 'index.max_result_window': '20000' }).and.not.have.property('index.number_of_replicas');
    expect(created.mappings).to.deep.equal({ properties: { price: { type: 'long' } } });
    expect(state.followers.get(KEY)).to.include({ status: 'active', leaderIndex: 'orders' });
    expect(state.followers.get(KEY)?.params).to.include({ max_read_request_operation_count: 100 });
    await until(() => created.docs.has('a'), 5000, 'the leader document on the follower');
    expect(manager.info(KEY)[0]).to.include({ status: 'active', leader_index: 'orders', remote_cluster: 'leader' });
    expect(manager.has(KEY)).to.equal(true);

    await expectRefused(() => manager.follow(REQUEST), 'resource_already_exists_exception', /\[follower\/orders-copy\] is already a follower index/);
  });

  it('with leases, runs only what it holds: a follow it creates and claims, one adopted, none restored; names the daemon that runs the rest', async () => {
    const owners = new Map<string, string>([['follower/elsewhere', 'the daemon on b (pid 7, control API http://b:9299)']]);
    const claimed: string[] = [];
    const forgotten: string[] = [];
    const leased = new FollowManager({
      clusters: new ClusterRegistry(new Map(['leader', 'follower'].map((a) => [a, config(a)])), async (c) => (c.alias === 'leader' ? leader : follower).client),
      state, logger: silentLogger, checkpointIntervalMs: 5,
      ownership: {
        claim: async (key) => (claimed.push(key), true),
        forget: async (key) => void forgotten.push(key),
        runBy: (key) => (owners.has(key) ? { id: 'other', description: owners.get(key)! } : undefined),
      },
    });
    try {
      leader.add('orders').index('a');
      leader.add('other').index('b');
      await state.putFollower({ ...REQUEST, leaderIndex: 'other', followerIndex: 'adopted', params: {}, status: 'active', createdAt: new Date().toISOString() });
      follower.add('adopted');
      await leased.restore();
      expect(leased.has('follower/adopted'), 'nothing runs before its lease is taken').to.equal(false);
      await leased.adopt('follower/adopted');
      await until(() => follower.indices.get('adopted')!.docs.has('b'), 5000, 'the adopted follower to copy its leader');
      await leased.follow(REQUEST);
      expect(claimed).to.deep.equal([KEY]);
      expect(leased.has(KEY)).to.equal(true);
      await expectRefused(async () => leased.stats('follower/elsewhere'), 'illegal_state_exception', /\[follower\/elsewhere\] is run by the daemon on b \(pid 7, control API http:\/\/b:9299\), not by this daemon/);
      await expectRefused(() => leased.follow({ ...REQUEST, followerIndex: 'elsewhere' }), 'resource_already_exists_exception', /run by the daemon on b/);
      await leased.relinquish('follower/adopted');
      expect(leased.has('follower/adopted')).to.equal(false);
      expect(state.followers.get('follower/adopted')?.status, 'its record stays as it was').to.equal('active');
      await leased.pause(KEY);
      await leased.unfollow(KEY);
      expect(forgotten).to.deep.equal([KEY]);
    } finally {
      await leased.close();
    }
  });

  it('refuses a bad name or an unknown cluster before asking any cluster', async () => {
    await expectRefused(() => manager.follow({ ...REQUEST, leaderIndex: 'Orders' }), 'illegal_argument_exception', /invalid leader index name \[Orders\]: must be lowercase/);
    await expectRefused(() => manager.follow({ ...REQUEST, params: { max_read_request_operation_count: -1 } }), 'illegal_argument_exception', /max_read_request_operation_count/);
    const unknown = await expectRefused(() => manager.follow({ ...REQUEST, followerCluster: 'east' }), 'unknown_cluster_exception', /unknown cluster alias \[east\]; configured: leader, follower, dead/);
    // The cause is kept: auto-follow asks classify about it, and tries such an index again later.
    expect(unknown.cause).to.be.instanceOf(UnknownClusterError);
    expect(leader.calls).to.deep.equal([]);
    expect(follower.calls).to.deep.equal([]);
  });

  it('names what a cluster answered as CCR does', async () => {
    await expectRefused(() => manager.follow(REQUEST), 'index_not_found_exception', /^leader index \[orders\] not found on \[leader\]$/);
    await expectRefused(() => manager.follow({ ...REQUEST, leaderCluster: 'dead' }), 'cluster_unavailable_exception', /^cluster \[dead\]: cluster unreachable: /);

    leader.add('orders');
    leader.failNext('indexMetadata', () => new ClusterResponseError({ alias: 'leader', operation: 'read index metadata', statusCode: 403, esType: 'security_exception', reason: 'action [indices:admin/get] is unauthorized' }));
    await expectRefused(() => manager.follow(REQUEST), 'security_exception', /^cluster \[leader\]: permission denied: .*is unauthorized/);

    leader.indices.get('orders')!.state = 'close';
    await expectRefused(() => manager.follow(REQUEST), 'illegal_state_exception', /leader index \[orders\] is closed/);
    leader.indices.get('orders')!.state = 'open';

    follower.add('orders-copy');
    await expectRefused(() => manager.follow(REQUEST), 'resource_already_exists_exception', /already exists on \[follower\] and is not a follower/);
    expect(state.followers.size, 'nothing recorded for a refused follow').to.equal(0);
  });

  it('pauses and resumes once each, and unfollows only a paused follower', async () => {
    leader.add('orders');
    await manager.follow(REQUEST);
    await expectRefused(() => manager.resume(KEY), 'illegal_state_exception', /cannot resume \[follower\/orders-copy\]: it is already following/);
    await expectRefused(() => manager.unfollow(KEY), 'illegal_state_exception', /pause it first/);
    await manager.pause(KEY);
    expect(manager.stats(KEY)[0]).to.include({ status: 'paused', state: 'paused' });
    await expectRefused(() => manager.pause(KEY), 'illegal_state_exception', /already paused/);
    await manager.resume(KEY, { max_retry_delay: '2s' });
    expect(manager.info(KEY)[0]?.parameters.max_retry_delay).to.equal(2000);
    await manager.pause(KEY);
    await manager.unfollow(KEY);
    expect(manager.has(KEY)).to.equal(false);
    expect(state.followers.has(KEY)).to.equal(false);
    expect(follower.indices.has('orders-copy'), 'the follower index stays, as an ordinary index').to.equal(true);
    await expectRefused(async () => manager.stats(KEY), 'resource_not_found_exception', /\[follower\/orders-copy\] is not a follower index/);
  });

  it('lets a user pause a follower paused because its state cannot be written, which then stays paused', async () => {
    leader.add('orders').index('a');
    await manager.follow(REQUEST);
    await until(() => state.checkpoints.has(KEY), 5000, 'a first saved checkpoint');
    state.unwritable = true;
    leader.indices.get('orders')!.index('b');
    await until(() => manager.stats(KEY)[0]?.fatal_exception?.type === 'state_write_exception', 5000, 'the pause by the unwritable state');
    // Writable again, before the state probe (every 2 s) resumes it: the user's pause is taken and saved.
    state.unwritable = false;
    await manager.pause(KEY);
    expect(manager.info(KEY)[0]).to.include({ status: 'paused' }).and.not.have.property('fatal_exception');
    await expectRefused(() => manager.pause(KEY), 'illegal_state_exception', /already paused/);
  });

  it('leaves no follower index behind when the record of a new follow cannot be saved, and says so', async () => {
    leader.add('orders').index('a');
    state.recordsUnwritable = true;
    await expectRefused(() => manager.follow(REQUEST), 'state_write_exception',
      /^cannot follow: the record of the follow cannot be saved \(.*EACCES.*\); the follower index \[orders-copy\] on \[follower\] created for it was deleted again; nothing was changed$/);
    expect(follower.indices.has('orders-copy'), 'the follower index deleted again').to.equal(false);
    expect(manager.has(KEY)).to.equal(false);

    state.recordsUnwritable = false;
    await manager.follow(REQUEST);
    await until(() => follower.indices.get('orders-copy')?.docs.has('a') === true, 5000, 'the follow, tried again');
  });

  it('says when the follower index of a refused follow could not be deleted either', async () => {
    leader.add('orders');
    state.recordsUnwritable = true;
    follower.failNext('deleteIndex', () => new ClusterConnectionError({ alias: 'follower', operation: 'delete index', reason: 'socket hang up' }));
    await expectRefused(() => manager.follow(REQUEST), 'state_write_exception',
      /created for it could not be deleted \(.*socket hang up.*\): delete it before following again$/);
  });

  it('refuses a resume whose record cannot be saved, and resumes on the next one once it can', async () => {
    leader.add('orders');
    await manager.follow(REQUEST);
    await manager.pause(KEY);
    state.recordsUnwritable = true;
    await expectRefused(() => manager.resume(KEY), 'state_write_exception', /^cannot resume \[follower\/orders-copy\]: its record cannot be saved, nothing was changed/);
    expect(manager.info(KEY)[0]).to.include({ status: 'paused' });
    state.recordsUnwritable = false;
    await manager.resume(KEY);
    expect(manager.info(KEY)[0]).to.include({ status: 'active' });
    expect(state.followers.get(KEY)?.status).to.equal('active');
  });

  it('refuses an unfollow whose record cannot be deleted, changing nothing, and unfollows on the next one once it can', async () => {
    leader.add('orders');
    await manager.follow(REQUEST);
    await manager.pause(KEY);
    state.unwritable = true;
    await expectRefused(() => manager.unfollow(KEY), 'state_write_exception', /^cannot unfollow \[follower\/orders-copy\]: its record cannot be deleted, nothing was changed: .*EROFS/);
    expect(manager.has(KEY)).to.equal(true);
    expect(manager.stats(KEY)[0]).to.include({ status: 'paused', state: 'paused' });
    state.unwritable = false;
    await manager.unfollow(KEY);
    expect(manager.has(KEY)).to.equal(false);
    expect(state.followers.has(KEY)).to.equal(false);
  });

  it('promotes a follower: paused, its promotion point recorded from its checkpoints and its own max seq_no, then unfollowed', async () => {
    const orders = leader.add('orders');
    for (const id of ['a', 'b', 'c']) orders.index(id);
    await manager.follow(REQUEST);
    const copy = follower.indices.get('orders-copy')!;
    await until(() => copy.docs.size === 3, 5000, 'the leader documents on the follower');
    // Three operations, all applied: the saved checkpoints cover them (seq_no + 1 summed over the shards).
    await until(() => Object.values(state.checkpoints.get(KEY) ?? {}).reduce((n, c) => n + c + 1, 0) === 3, 5000, 'checkpoints covering every operation');
    const checkpoints = { ...state.checkpoints.get(KEY) };

    const record = await manager.promote(KEY);
    const own = await follower.client.shardSeqNos('orders-copy');
    expect(state.promotions.get(KEY)).to.deep.equal(record);
    expect(record).to.include({ leaderCluster: 'leader', leaderIndex: 'orders', followerCluster: 'follower', followerIndex: 'orders-copy' });
    expect(Object.keys(record.shards)).to.have.length(own.length);
    for (const s of own) expect(record.shards[s.shard]).to.deep.equal({ leaderCheckpoint: checkpoints[s.shard] ?? -1, maxSeqNo: s.maxSeqNo });
    expect(manager.has(KEY)).to.equal(false);
    expect(state.followers.has(KEY)).to.equal(false);
    await expectRefused(() => manager.promote(KEY), 'resource_not_found_exception', /is not a follower index/);
  });

  describe('failback', () => {
    const FAILBACK = { promotedCluster: 'follower', promotedIndex: 'orders-copy', oldLeaderCluster: 'leader', oldLeaderIndex: 'orders' };
    const OLD_KEY = followerKey('leader', 'orders');

    /** A follower of leader/orders promoted with every operation applied. */
    async function promoted(): Promise<void> {
      const orders = leader.add('orders');
      for (const id of ['a', 'b', 'c']) orders.index(id);
      await manager.follow(REQUEST);
      await until(() => Object.values(state.checkpoints.get(KEY) ?? {}).reduce((n, c) => n + c + 1, 0) === 3, 5000, 'checkpoints covering every operation');
      await manager.promote(KEY);
    }

    it('refuses, changing nothing, when the old leader index cannot be put under a write block', async () => {
      await promoted();
      leader.failNext('putSettings', () => new ClusterResponseError({ alias: 'leader', operation: 'put settings', statusCode: 403, esType: 'security_exception', reason: 'action [indices:admin/settings/update] is unauthorized' }));
      const settings = { ...leader.indices.get('orders')!.settings };
      await expectRefused(() => manager.failback(FAILBACK), 'illegal_state_exception',
        /the write block cannot be put on old leader index \[leader\/orders\] .*unauthorized.*; nothing was changed/);
      expect(leader.indices.get('orders')!.settings).to.deep.equal(settings);
      expect(state.followers.has(OLD_KEY)).to.equal(false);
      expect(manager.has(OLD_KEY)).to.equal(false);
    });

    it('refuses an old leader with lost writes and no file to save them to, and lifts its write block', async () => {
      await promoted();
      leader.indices.get('orders')!.index('written-after-promotion');
      await expectRefused(() => manager.failback(FAILBACK), 'illegal_argument_exception', /holds 1 write\(s\) that never reached \[follower\/orders-copy\].*give a lost-writes file/);
      expect(leader.indices.get('orders')!.settings['index.blocks.write']).to.equal(null);
      expect(state.followers.has(OLD_KEY)).to.equal(false);
    });

    it('refuses without a promotion record of the pair', async () => {
      leader.add('orders');
      follower.add('orders-copy');
      await expectRefused(() => manager.failback(FAILBACK), 'illegal_argument_exception', /no promotion record for \[follower\/orders-copy\].*; nothing was changed/);
      expect(leader.callsOf('putSettings')).to.deep.equal([]);
    });
  });

  it('restores each recorded follower: a paused one with its error, and one with damaged checkpoints from -1', async () => {
    leader.add('orders').index('a');
    leader.add('events');
    follower.add('orders-copy');
    follower.add('events-copy');
    const base = { leaderCluster: 'leader', followerCluster: 'follower', params: {}, createdAt: '2025-01-01T00:00:00.000Z' };
    const fatalException = { type: 'mapper_parsing_exception', reason: 'failed to parse', at: '2025-01-02T00:00:00.000Z' };
    const records: FollowerRecord[] = [
      { ...base, leaderIndex: 'orders', followerIndex: 'orders-copy', status: 'active' },
      { ...base, leaderIndex: 'events', followerIndex: 'events-copy', status: 'paused', fatalException },
    ];
    for (const r of records) state.followers.set(followerKey(r.followerCluster, r.followerIndex), r);
    state.checkpoints.set(KEY, { 0: 41 });
    state.corruptCheckpoints.add(KEY);
    await manager.restore();
    expect(manager.info().map((i) => [i.follower_index, i.status])).to.deep.equal([['orders-copy', 'active'], ['events-copy', 'paused']]);
    expect(manager.info(followerKey('follower', 'events-copy'))[0]?.fatal_exception).to.deep.equal(fatalException);
    // From -1, not from the damaged 41: the one document is copied again.
    await until(() => follower.indices.get('orders-copy')!.docs.has('a'), 5000, 'the document copied from -1');
  });
});
