import { expect } from 'chai';
import { ClusterConnectionError } from '../../../src/cluster/errors.js';
import { SharedReadAhead } from '../../../src/shard/shared-read-ahead.js';
import { ShardFollowTask } from '../../../src/shard/shard-follow-task.js';
import { DEFAULT_FOLLOW_PARAMS, type FollowParams } from '../../../src/shard/follow-params.js';
import { silentLogger } from '../../../src/util/logger.js';
import { FakeFollower, FakeLeader, FakeSleep, fillLeader, until } from './fakes.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SharedReadAhead', () => {
  it('lets the shards hold at most (limit + ahead) windows together, and wakes the first in line when a shard frees room', async () => {
    let limit = 1;
    const shared = new SharedReadAhead(() => limit, 2);
    const [a, b, c] = [shared.join(10), shared.join(10), shared.join(10)];
    const woken: string[] = [];
    expect(a.tryTake(10, () => woken.push('a'))).to.equal(true);
    expect(b.tryTake(10, () => woken.push('b'))).to.equal(true);
    expect(a.tryTake(10, () => woken.push('a'))).to.equal(true);
    expect(shared.heldWindows).to.equal(3);
    // Full at 3 windows: b waits, then c behind it.
    expect(b.tryTake(10, () => woken.push('b'))).to.equal(false);
    expect(c.tryTake(10, () => woken.push('c'))).to.equal(false);
    expect(shared.waiting).to.equal(2);
    await flush();
    expect(woken).to.deep.equal([]);

    a.report(10);
    await flush();
    expect(woken, 'the first in line, once').to.deep.equal(['b']);
    // c cannot jump the line even where its read would fit.
    expect(c.tryTake(5, () => woken.push('c'))).to.equal(false);
    expect(b.tryTake(10, () => woken.push('b'))).to.equal(true);
    expect(shared.waiting).to.equal(1);
    // A larger limit makes room for c at the next change.
    limit = 3;
    a.report(0);
    await flush();
    expect(woken).to.deep.equal(['b', 'c']);
    expect(c.tryTake(10, () => woken.push('c'))).to.equal(true);
    expect(shared.heldWindows).to.equal(3);
  });

  it('counts each shard in its own windows: small windows do not hold up large ones, nor large ones pass the bound', () => {
    const shared = new SharedReadAhead(() => 1, 2);
    const small = shared.join(100);
    const large = shared.join(5120);
    expect(large.tryTake(5120, () => undefined)).to.equal(true);
    expect(large.tryTake(5120, () => undefined)).to.equal(true);
    expect(small.tryTake(100, () => undefined), 'one window of 100 fits beside two of 5120').to.equal(true);
    expect(shared.heldWindows).to.equal(3);
    expect(large.tryTake(5120, () => undefined), 'a fourth window does not').to.equal(false);
  });

  it('frees a closed shard\'s part and takes it out of the line', async () => {
    const shared = new SharedReadAhead(() => 0, 2);
    const [a, b, c] = [shared.join(10), shared.join(10), shared.join(10)];
    const woken: string[] = [];
    expect(a.tryTake(20, () => woken.push('a'))).to.equal(true);
    expect(b.tryTake(10, () => woken.push('b'))).to.equal(false);
    expect(c.tryTake(10, () => woken.push('c'))).to.equal(false);
    b.close();
    expect(shared.waiting).to.equal(1);
    a.close();
    expect(shared.heldWindows).to.equal(0);
    await flush();
    expect(woken).to.deep.equal(['c']);
  });

  it('always lets one read through when nothing is held, however large', () => {
    const shared = new SharedReadAhead(() => 1, 2);
    expect(shared.join(10).tryTake(1_000, () => undefined)).to.equal(true);
  });

  it('passes the turn on when the first in line no longer wants to read', async () => {
    const shared = new SharedReadAhead(() => 0, 2);
    const [a, b, c] = [shared.join(10), shared.join(10), shared.join(10)];
    const woken: string[] = [];
    a.tryTake(20, () => undefined);
    b.tryTake(10, () => woken.push('b'));
    c.tryTake(10, () => woken.push('c'));
    a.report(0);
    await flush();
    expect(woken).to.deep.equal(['b']);
    b.leaveLine();
    await flush();
    expect(woken).to.deep.equal(['b', 'c']);
    expect(c.tryTake(10, () => undefined)).to.equal(true);
  });

  function task(shared: SharedReadAhead, shard: number, params: FollowParams, leader = new FakeLeader(), follower = new FakeFollower()): { leader: FakeLeader; follower: FakeFollower; task: ShardFollowTask } {
    const t = new ShardFollowTask(
      { shard, reader: leader, writer: follower, logger: silentLogger, onCheckpoint: () => undefined, sleep: new FakeSleep().sleep, random: () => 0.5, readAhead: shared },
      params, -1,
    );
    return { leader, follower, task: t };
  }

  const PARAMS = { ...DEFAULT_FOLLOW_PARAMS, max_read_request_operation_count: 10, max_write_request_operation_count: 10 };

  it('brings many shard tasks sharing a small read-ahead (buffered, read and written operations together) to the leader\'s checkpoint, each follower equal to its leader', async () => {
    const shared = new SharedReadAhead(() => 1, 2);
    const shards = Array.from({ length: 8 }, (_, shard) => {
      const s = task(shared, shard, PARAMS);
      fillLeader(s.leader, 200 + shard * 37, { distinctIds: 150 });
      s.leader.advance();
      return s;
    });
    let peak = 0;
    const watch = setInterval(() => { peak = Math.max(peak, shared.heldWindows); }, 0);
    try {
      for (const s of shards) s.task.start();
      await until(() => shards.every((s) => s.task.checkpoint === s.leader.globalCheckpoint), 5000,
        () => `checkpoints ${shards.map((s) => `${s.task.checkpoint}/${s.leader.globalCheckpoint}`).join(' ')}, held ${shared.heldWindows}, waiting ${shared.waiting}`);
    } finally {
      clearInterval(watch);
    }
    for (const s of shards) expect(s.follower.diff(s.leader)).to.deep.equal([]);
    expect(peak).to.be.at.most(3);
    expect(shared.waiting).to.equal(0);
    for (const s of shards) await s.task.stop();
    expect(shared.heldWindows).to.equal(0);
  });

  it('does not let a shard whose requests keep failing hold up the shards of other indices', async () => {
    // Room for 2 windows: as much as the stuck shard's two reads in flight.
    const shared = new SharedReadAhead(() => 0, 2);
    const stuck = task(shared, 0, PARAMS);
    fillLeader(stuck.leader, 100);
    stuck.leader.advance();
    stuck.leader.failAllReads(() => new ClusterConnectionError({ alias: 'leader', operation: 'search', reason: 'connect ECONNREFUSED 127.0.0.1:9200' }));
    const other = task(shared, 1, PARAMS);
    try {
      stuck.task.start();
      await until(() => stuck.task.stats().failed_read_requests > 0, 2000, 'the stuck shard to fail a read');
      fillLeader(other.leader, 150);
      other.leader.advance();
      other.task.start();
      await until(() => other.task.checkpoint === other.leader.globalCheckpoint, 3000,
        () => `the other index to catch up: ${other.task.checkpoint}/${other.leader.globalCheckpoint}, held ${shared.heldWindows}, waiting ${shared.waiting}`);
      expect(other.follower.diff(other.leader)).to.deep.equal([]);
    } finally {
      await Promise.all([stuck.task.stop(100), other.task.stop(100)]);
    }
    expect(shared.heldWindows).to.equal(0);
  });
});
