/**
 * IndexFollower's state machine over in-memory clusters and state (fake-cluster.ts,
 * memory-state-store.ts): each way into and out of `paused`, with its reason, what is persisted,
 * and the status derived from it. The fakes stand in for what real nodes cannot be made to do on
 * demand (exactly N unreachable starts, a refused credential, a state directory that refuses
 * writes and then takes them again); replication itself is tested against real nodes.
 */
import { expect } from 'chai';
import { ClusterConnectionError, ClusterIndexNotFoundError, ClusterResponseError, IndexReplacedError } from '../../../src/cluster/errors.js';
import { FollowError } from '../../../src/follow/follow-errors.js';
import { followerStatus } from '../../../src/follow/follower-status.js';
import { IndexFollower, type IndexFollowerState, type PauseReason } from '../../../src/follow/index-follower.js';
import { DEFAULT_FOLLOW_PARAMS, type FollowParams } from '../../../src/shard/follow-params.js';
import { followerKey, type FollowerRecord } from '../../../src/state/state-store.js';
import { type Logger, memoryLogger, silentLogger } from '../../../src/util/logger.js';
import { FakeSleep, turns, until } from '../shard/fakes.js';
import { FakeCluster, type FakeIndex } from './fake-cluster.js';
import { MemoryStateStore } from './memory-state-store.js';

const KEY = followerKey('follower', 'orders-copy');
const PARAMS: FollowParams = { ...DEFAULT_FOLLOW_PARAMS, reconcile_interval: 60_000, read_poll_timeout: 200 };
const unreachable = (): Error => new ClusterConnectionError({ alias: 'leader', operation: 'connect', reason: 'connect ECONNREFUSED 127.0.0.1:9200' });

interface Setup {
  readonly follower: IndexFollower;
  readonly leader: FakeCluster;
  readonly followerCluster: FakeCluster;
  readonly leaderIndex: FakeIndex;
  readonly followerIndex: FakeIndex;
  readonly state: MemoryStateStore;
  readonly sleep: FakeSleep;
  readonly connectFailures: unknown[];
  /** `from→to`, with the pause reason: `active→paused(user)`. */
  readonly changes: string[];
  readonly reasons: PauseReason[];
}

describe('IndexFollower', () => {
  const built: IndexFollower[] = [];
  afterEach(async () => {
    for (const f of built.splice(0)) await f.close();
  });

  function setup(opts: { record?: Partial<FollowerRecord>; stateProbeMs?: number; logger?: Logger } = {}): Setup {
    const leader = new FakeCluster('leader');
    const followerCluster = new FakeCluster('follower');
    const leaderIndex = leader.add('orders');
    const followerIndex = followerCluster.add('orders-copy');
    const state = new MemoryStateStore();
    const record: FollowerRecord = {
      leaderCluster: 'leader', leaderIndex: 'orders', followerCluster: 'follower', followerIndex: 'orders-copy',
      params: {}, status: 'active', createdAt: '2025-01-01T00:00:00.000Z', ...opts.record,
    };
    state.followers.set(KEY, record);
    const sleep = new FakeSleep();
    const connectFailures: unknown[] = [];
    const follower = new IndexFollower(record, {
      connect: async (alias) => {
        const failure = connectFailures.shift();
        if (failure) throw failure;
        return alias === 'leader' ? leader.client : followerCluster.client;
      },
      state, logger: opts.logger ?? silentLogger, params: PARAMS, checkpointIntervalMs: 5, sleep: sleep.sleep, stateProbeMs: opts.stateProbeMs ?? 10,
    });
    built.push(follower);
    const changes: string[] = [];
    const reasons: PauseReason[] = [];
    follower.on('state-change', ({ from, to, reason }) => {
      changes.push(`${from}→${to}${reason ? `(${reason.by})` : ''}`);
      if (reason) reasons.push(reason);
    });
    return { follower, leader, followerCluster, leaderIndex, followerIndex, state, sleep, connectFailures, changes, reasons };
  }

  const reach = (f: IndexFollower, state: IndexFollowerState): Promise<void> =>
    until(() => f.state === state, 5000, () => `state ${state}, still ${f.state}`);

  it('retries its start while a cluster is unreachable, then follows: starting → active', async () => {
    const s = setup();
    s.connectFailures.push(unreachable(), unreachable(), unreachable());
    s.follower.begin();
    await reach(s.follower, 'active');
    expect(s.sleep.calls).to.have.length(3);
    expect(s.changes).to.deep.equal(['starting→active']);
    // The uuids the follow started with are kept, so a re-created index is recognised later.
    expect(s.state.followers.get(KEY)?.indexUuids).to.deep.equal({ leader: s.leaderIndex.uuid, follower: s.followerIndex.uuid });

    s.leaderIndex.index('a');
    s.leaderIndex.index('b');
    await until(() => s.followerIndex.docs.size === 2, 5000, 'the two documents on the follower');
    await until(() => s.state.checkpoints.get(KEY)?.[0] === 1, 5000, 'the checkpoint saved');
    const stats = s.follower.stats();
    expect(stats).to.include({ status: 'active', state: 'active', operations_written: 2 });
    expect(followerStatus(stats)).to.equal('active');
  });

  it('pauses with the error as its reason when the start fails for good, and persists it', async () => {
    const s = setup();
    const refused = new ClusterResponseError({ alias: 'leader', operation: 'read index metadata', statusCode: 401, esType: 'security_exception', reason: 'unable to authenticate user [ccr]' });
    s.leader.failNext('indexMetadata', () => refused);
    s.follower.begin();
    await reach(s.follower, 'paused');
    expect(s.changes).to.deep.equal(['starting→paused(fatal)']);
    const reason = s.follower.pauseReason;
    expect(reason).to.include({ by: 'fatal', error: refused });
    expect(s.sleep.calls, 'a fatal error is not retried').to.have.length(0);
    await until(() => s.state.followers.get(KEY)?.status === 'paused', 2000, 'the paused record');
    expect(s.state.followers.get(KEY)?.fatalException?.type).to.equal('security_exception');
    const stats = s.follower.stats();
    expect(stats.fatal_exception?.reason).to.include('unable to authenticate');
    expect(followerStatus(stats)).to.equal('failed');
    expect(s.follower.status).to.equal('paused');
  });

  it('refuses a leader index deleted and created again since the follow started, writing nothing', async () => {
    const s = setup({ record: { indexUuids: { leader: 'the-old-uuid', follower: 'placeholder' } } });
    s.leaderIndex.index('from-the-new-history');
    s.follower.begin();
    await reach(s.follower, 'paused');
    const reason = s.follower.pauseReason;
    if (reason?.by !== 'fatal') throw new Error(`paused by ${reason?.by}`);
    expect(reason.error).to.be.instanceOf(IndexReplacedError);
    expect(reason.exception.type).to.equal('index_not_found_exception');
    expect(reason.exception.reason).to.include('the-old-uuid').and.include(s.leaderIndex.uuid);
    expect(s.followerIndex.docs.size).to.equal(0);
    expect(s.followerCluster.callsOf('bulkExternal')).to.deep.equal([]);
  });

  it('pauses for a user, applies nothing while paused, and catches up after resume', async () => {
    const s = setup();
    s.follower.begin();
    await reach(s.follower, 'active');
    await s.follower.pause();
    expect(s.follower.state).to.equal('paused');
    expect(s.follower.pauseReason).to.deep.equal({ by: 'user' });
    expect(s.state.followers.get(KEY)?.status).to.equal('paused');
    expect(followerStatus(s.follower.stats())).to.equal('paused');

    s.leaderIndex.index('written-while-paused');
    await turns(50);
    expect(s.followerIndex.docs.size).to.equal(0);

    await s.follower.resume(PARAMS);
    await reach(s.follower, 'active');
    await until(() => s.followerIndex.docs.has('written-while-paused'), 5000, 'the document written while paused');
    expect(s.changes).to.deep.equal(['starting→active', 'active→paused(user)', 'paused→starting', 'starting→active']);
    expect(s.state.followers.get(KEY)?.status).to.equal('active');
  });

  it('comes back paused by its recorded error after a restart, and resume clears it', async () => {
    const exception = { type: 'mapper_parsing_exception', reason: 'failed to parse field [price]', at: '2025-01-02T00:00:00.000Z' };
    const s = setup({ record: { status: 'paused', fatalException: exception } });
    expect(s.follower.state).to.equal('paused');
    expect(s.follower.pauseReason).to.deep.equal({ by: 'fatal', exception });
    s.follower.begin(); // the record says paused: nothing starts
    await turns(20);
    expect(s.follower.state).to.equal('paused');
    expect(s.leader.calls).to.deep.equal([]);
    expect(followerStatus(s.follower.stats())).to.equal('failed');

    await s.follower.resume(PARAMS);
    await reach(s.follower, 'active');
    expect(s.state.followers.get(KEY)).to.include({ status: 'active' }).and.not.have.property('fatalException');
    expect(s.follower.stats()).to.not.have.property('fatal_exception');
  });

  it('pauses in memory while its checkpoints cannot be saved, and resumes by itself once they can', async () => {
    const s = setup();
    s.follower.begin();
    await reach(s.follower, 'active');
    s.state.unwritable = true;
    s.leaderIndex.index('a');
    await reach(s.follower, 'paused');
    const reason = s.follower.pauseReason;
    if (reason?.by !== 'state_unwritable') throw new Error(`paused by ${reason?.by}`);
    expect(reason.error.code).to.equal('EROFS');
    expect(s.follower.stats().fatal_exception?.type).to.equal('state_write_exception');
    expect(followerStatus(s.follower.stats())).to.equal('failed');
    // Only in memory: a daemon restarted meanwhile follows on from the last saved checkpoint.
    expect(s.state.followers.get(KEY)?.status).to.equal('active');

    s.state.unwritable = false;
    await reach(s.follower, 'active');
    expect(s.changes).to.deep.equal(['starting→active', 'active→paused(state_unwritable)', 'paused→starting', 'starting→active']);
    expect(s.follower.stats()).to.not.have.property('fatal_exception');
    await until(() => s.state.checkpoints.get(KEY)?.[0] === 0, 5000, 'the checkpoint saved');
  });

  it('lets a user\'s pause replace a pause by the state, which then stays paused', async () => {
    const s = setup({ stateProbeMs: 60_000 });
    s.follower.begin();
    await reach(s.follower, 'active');
    s.state.unwritable = true;
    s.leaderIndex.index('a');
    await reach(s.follower, 'paused');
    s.state.unwritable = false;
    await s.follower.pause();
    expect(s.follower.pauseReason).to.deep.equal({ by: 'user' });
    expect(s.changes.slice(-2)).to.deep.equal(['active→paused(state_unwritable)', 'paused→paused(user)']);
    expect(s.state.followers.get(KEY)?.status).to.equal('paused');
    // A second pause is refused, and changes nothing.
    const refused = await s.follower.pause().then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(FollowError).with.property('type', 'illegal_state_exception');
    expect(s.changes).to.have.length(3);
  });

  it('closes from any state once, and does nothing after', async () => {
    const s = setup();
    s.follower.begin();
    await reach(s.follower, 'active');
    await s.follower.close();
    await s.follower.close();
    expect(s.follower.state).to.equal('closed');
    await s.follower.resume(PARAMS);
    await s.follower.pause();
    expect(s.follower.state).to.equal('closed');
    expect(s.changes).to.deep.equal(['starting→active', 'active→closed']);
    // Closing leaves the recorded status as it was, for the next daemon start.
    expect(s.state.followers.get(KEY)?.status).to.equal('active');
  });

  it('closes while still starting, ending the start', async () => {
    const s = setup();
    s.sleep.hold = true;
    s.connectFailures.push(unreachable());
    s.follower.begin();
    await until(() => s.sleep.calls.length === 1, 2000, 'the first retry sleep');
    await s.follower.close();
    expect(s.changes).to.deep.equal(['starting→closed']);
    expect(s.state.followers.get(KEY)?.indexUuids).to.equal(undefined);
  });
  describe('its record', () => {
    const refusalOf = async (p: Promise<unknown>): Promise<FollowError> => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err, 'a FollowError').to.be.instanceOf(FollowError);
      return err as FollowError;
    };

    it('refuses a resume whose record cannot be saved, changing nothing, and resumes on the next one once it can', async () => {
      const s = setup({ record: { status: 'paused' } });
      s.state.recordsUnwritable = true;
      const refused = await refusalOf(s.follower.resume(PARAMS));
      expect(refused.type).to.equal('state_write_exception');
      expect(refused.message).to.match(/^cannot resume \[follower\/orders-copy\]: its record cannot be saved, nothing was changed: .*EACCES/);
      expect(s.follower.state).to.equal('paused');
      expect(s.follower.stats()).to.include({ status: 'paused', state: 'paused' });
      expect(s.state.followers.get(KEY)?.status).to.equal('paused');
      expect(s.leader.calls, 'nothing started').to.deep.equal([]);

      s.state.recordsUnwritable = false;
      await s.follower.resume(PARAMS);
      await reach(s.follower, 'active');
      expect(s.state.followers.get(KEY)?.status).to.equal('active');
      expect(s.changes).to.deep.equal(['paused→starting', 'starting→active']);
    });

    it('refuses a pause whose record cannot be saved, and keeps following', async () => {
      const s = setup();
      s.follower.begin();
      await reach(s.follower, 'active');
      s.state.recordsUnwritable = true;
      const refused = await refusalOf(s.follower.pause());
      expect(refused.type).to.equal('state_write_exception');
      expect(refused.message).to.match(/^cannot pause \[follower\/orders-copy\]: its record cannot be saved, nothing was changed/);
      expect(s.follower.state).to.equal('active');
      s.leaderIndex.index('after-the-refused-pause');
      await until(() => s.followerIndex.docs.has('after-the-refused-pause'), 5000, 'the document written after the refused pause');
      expect(s.state.followers.get(KEY)?.status).to.equal('active');
    });

    it('pauses on a fatal error whose record cannot be saved, logs it, shows it in stats, and stores it once it can', async () => {
      const logger = memoryLogger();
      const s = setup({ logger, stateProbeMs: 10 });
      s.follower.begin();
      await reach(s.follower, 'active');
      s.state.recordsUnwritable = true;
      s.followerCluster.failNext('bulkExternal', () => new ClusterResponseError({
        alias: 'follower', operation: 'write documents', statusCode: 400, esType: 'mapper_parsing_exception', reason: 'failed to parse field [price]',
      }));
      s.leaderIndex.index('a');
      await reach(s.follower, 'paused');
      expect(s.follower.pauseReason?.by).to.equal('fatal');
      await until(() => s.follower.stats().state_exception !== undefined, 5000, 'the failed write in stats');
      const stats = s.follower.stats();
      expect(stats.state_exception?.type).to.equal('state_write_exception');
      expect(stats.fatal_exception?.type).to.equal('mapper_parsing_exception');
      expect(followerStatus(stats)).to.equal('failed');
      expect(logger.entries.some((e) => e.level === 'error' && /record cannot be saved/.test(e.message)), 'an error logged').to.equal(true);
      expect(s.state.followers.get(KEY)?.status, 'not stored yet').to.equal('active');
      let removed = false;
      const unfollow = await refusalOf(s.follower.retire(async () => {
        removed = true;
      }));
      expect(removed, 'nothing removed').to.equal(false);
      expect(unfollow.type).to.equal('state_write_exception');
      expect(unfollow.message).to.match(/its pause is not stored in the state yet/);
      expect(s.follower.state, 'the refused unfollow changed nothing').to.equal('paused');

      s.state.recordsUnwritable = false;
      await until(() => s.state.followers.get(KEY)?.status === 'paused', 5000, 'the paused record stored');
      expect(s.state.followers.get(KEY)?.fatalException?.type).to.equal('mapper_parsing_exception');
      await until(() => s.follower.stats().state_exception === undefined, 5000, 'stats without the failed write');
    });

    it('re-reads a record that changed in the state, and applies its change to what is stored, once', async () => {
      const s = setup();
      s.follower.begin();
      await reach(s.follower, 'active');
      const stored = s.state.followers.get(KEY)!;
      // A write of this daemon that timed out but landed: the store no longer knows the record's version.
      s.state.conflictNext = { ...stored, params: { max_retry_delay: 1234 } };
      await s.follower.pause();
      expect(s.follower.state).to.equal('paused');
      expect(s.state.followers.get(KEY)).to.include({ status: 'paused' });
      expect(s.state.followers.get(KEY)?.params, 'the stored record, changed').to.deep.equal({ max_retry_delay: 1234 });
      expect(s.state.writes.filter((w) => w.startsWith('putFollower'))).to.have.length.above(2);

      await s.follower.resume(PARAMS);
      await reach(s.follower, 'active');
      expect(s.state.followers.get(KEY)?.status).to.equal('active');
    });

    it('pauses with index_not_found_exception when the follower index is gone', async () => {
      const s = setup();
      s.followerCluster.indices.delete('orders-copy');
      s.follower.begin();
      await reach(s.follower, 'paused');
      const reason = s.follower.pauseReason;
      if (reason?.by !== 'fatal') throw new Error(`paused by ${reason?.by}`);
      expect(reason.error).to.be.instanceOf(ClusterIndexNotFoundError);
      expect(reason.exception).to.include({ type: 'index_not_found_exception' });
      expect(reason.exception.reason).to.include('follower index [orders-copy] no longer exists on [follower]');
      expect(s.sleep.calls, 'not retried').to.have.length(0);
    });
  });
});
