import { expect } from 'chai';
import { SharedReadAhead } from '../../../src/shard/shared-read-ahead.js';
import { ShardFollowTask } from '../../../src/shard/shard-follow-task.js';
import { DEFAULT_FOLLOW_PARAMS } from '../../../src/shard/follow-params.js';
import { silentLogger } from '../../../src/util/logger.js';
import { FakeFollower, FakeLeader, FakeSleep, fillLeader, until } from './fakes.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SharedReadAhead', () => {
  it('lets the shards hold at most (limit + ahead) windows together, and wakes the first in line when a shard frees room', async () => {
    let limit = 1;
    const shared = new SharedReadAhead(() => limit, 2);
    const [a, b, c] = [shared.join(), shared.join(), shared.join()];
    const woken: string[] = [];
    expect(a.tryTake(10, 10, () => woken.push('a'))).to.equal(true);
    expect(b.tryTake(10, 10, () => woken.push('b'))).to.equal(true);
    expect(a.tryTake(10, 10, () => woken.push('a'))).to.equal(true);
    expect(shared.held).to.equal(30);
    // Full at 3 windows: b waits, then c behind it.
    expect(b.tryTake(10, 10, () => woken.push('b'))).to.equal(false);
    expect(c.tryTake(10, 10, () => woken.push('c'))).to.equal(false);
    expect(shared.waiting).to.equal(2);
    await flush();
    expect(woken).to.deep.equal([]);

    a.report(10);
    await flush();
    expect(woken, 'the first in line, once').to.deep.equal(['b']);
    // c cannot jump the line even where its read would fit.
    expect(c.tryTake(5, 10, () => woken.push('c'))).to.equal(false);
    expect(b.tryTake(10, 10, () => woken.push('b'))).to.equal(true);
    expect(shared.waiting).to.equal(1);
    // A larger limit makes room for c at the next change.
    limit = 3;
    a.report(0);
    await flush();
    expect(woken).to.deep.equal(['b', 'c']);
    expect(c.tryTake(10, 10, () => woken.push('c'))).to.equal(true);
    expect(shared.held).to.equal(30);
  });

  it('frees a closed shard\'s part and takes it out of the line', async () => {
    const shared = new SharedReadAhead(() => 0, 2);
    const [a, b, c] = [shared.join(), shared.join(), shared.join()];
    const woken: string[] = [];
    expect(a.tryTake(20, 10, () => woken.push('a'))).to.equal(true);
    expect(b.tryTake(10, 10, () => woken.push('b'))).to.equal(false);
    expect(c.tryTake(10, 10, () => woken.push('c'))).to.equal(false);
    b.close();
    expect(shared.waiting).to.equal(1);
    a.close();
    expect(shared.held).to.equal(0);
    await flush();
    expect(woken).to.deep.equal(['c']);
  });

  it('always lets one read through when nothing is held, however large', () => {
    const shared = new SharedReadAhead(() => 1, 2);
    const a = shared.join();
    expect(a.tryTake(1_000, 10, () => undefined)).to.equal(true);
  });

  it('passes the turn on when the first in line no longer wants to read', async () => {
    const shared = new SharedReadAhead(() => 0, 2);
    const [a, b, c] = [shared.join(), shared.join(), shared.join()];
    const woken: string[] = [];
    a.tryTake(20, 10, () => undefined);
    b.tryTake(10, 10, () => woken.push('b'));
    c.tryTake(10, 10, () => woken.push('c'));
    a.report(0);
    await flush();
    expect(woken).to.deep.equal(['b']);
    b.leaveLine();
    await flush();
    expect(woken).to.deep.equal(['b', 'c']);
    expect(c.tryTake(10, 10, () => undefined)).to.equal(true);
  });

  it('brings many shard tasks sharing a small read-ahead (buffered, read and written operations together) to the leader\'s checkpoint, each follower equal to its leader', async () => {
    const shared = new SharedReadAhead(() => 1, 2);
    const params = { ...DEFAULT_FOLLOW_PARAMS, max_read_request_operation_count: 10, max_write_request_operation_count: 10 };
    const shards = Array.from({ length: 8 }, (_, shard) => {
      const leader = new FakeLeader();
      const follower = new FakeFollower();
      fillLeader(leader, 200 + shard * 37, { distinctIds: 150 });
      leader.advance();
      const task = new ShardFollowTask(
        { shard, reader: leader, writer: follower, logger: silentLogger, onCheckpoint: () => undefined, sleep: new FakeSleep().sleep, random: () => 0.5, readAhead: shared.join() },
        params, -1,
      );
      return { leader, follower, task };
    });
    let peak = 0;
    const watch = setInterval(() => { peak = Math.max(peak, shared.held); }, 0);
    try {
      for (const s of shards) s.task.start();
      await until(() => shards.every((s) => s.task.checkpoint === s.leader.globalCheckpoint), 5000,
        () => `checkpoints ${shards.map((s) => `${s.task.checkpoint}/${s.leader.globalCheckpoint}`).join(' ')}, held ${shared.held}, waiting ${shared.waiting}`);
    } finally {
      clearInterval(watch);
    }
    for (const s of shards) expect(s.follower.diff(s.leader)).to.deep.equal([]);
    // (1 + 2) windows of 10, plus one read that crossed the line while nothing else was held.
    expect(peak).to.be.at.most(30);
    expect(shared.waiting).to.equal(0);
    for (const s of shards) await s.task.stop();
    expect(shared.held).to.equal(0);
  });
});
