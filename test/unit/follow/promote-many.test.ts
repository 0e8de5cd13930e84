/**
 * promoteMany over a real FollowManager with in-memory clusters and state (fake-cluster.ts,
 * memory-state-store.ts): what it selects, that a dry run and a refused request change nothing,
 * that no more than `concurrency` promotions run at once, and that a pattern it cannot pause is
 * reported without stopping the promotion. The same command runs against real nodes in
 * test/integration/promote-all.test.ts.
 */
import { expect } from 'chai';
import type { ClusterConfig } from '../../../src/cluster/cluster-config.js';
import { ClusterRegistry } from '../../../src/cluster/cluster-registry.js';
import { FollowError } from '../../../src/follow/follow-errors.js';
import { FollowManager } from '../../../src/follow/follow-manager.js';
import { promoteMany, type LeaderPattern, type PromoteManyDeps, type PromoteManyRequest } from '../../../src/follow/promote-many.js';
import { silentLogger } from '../../../src/util/logger.js';
import { until } from '../shard/fakes.js';
import { FakeCluster } from './fake-cluster.js';
import { MemoryStateStore } from './memory-state-store.js';

const config = (alias: string): ClusterConfig => ({ alias, urls: [`http://${alias}.invalid:9200`], auth: { type: 'none' }, requestTimeoutMs: 1000 });

describe('promoteMany', () => {
  let leader: FakeCluster;
  let other: FakeCluster;
  let follower: FakeCluster;
  let state: MemoryStateStore;
  let manager: FollowManager;
  let patterns: { name: string; leaderCluster: string; active: boolean }[];
  let paused: string[];

  beforeEach(async () => {
    leader = new FakeCluster('leader');
    other = new FakeCluster('other');
    follower = new FakeCluster('follower');
    state = new MemoryStateStore();
    const fakes = new Map([['leader', leader], ['other', other], ['follower', follower]]);
    const clusters = new ClusterRegistry(new Map([...fakes.keys()].map((a) => [a, config(a)])), async (c) => fakes.get(c.alias)!.client);
    manager = new FollowManager({ clusters, state, logger: silentLogger, checkpointIntervalMs: 5 });
    for (const [cluster, name] of [[leader, 'logs-a'], [leader, 'logs-b'], [leader, 'orders'], [other, 'logs-c']] as const) {
      cluster.add(name).index('x');
      await manager.follow({ leaderCluster: cluster.alias, leaderIndex: name, followerCluster: 'follower', followerIndex: name });
    }
    // Started: a start's own reads of the follower are over before a test scripts a failure.
    await until(() => manager.stats().every((s) => s.state === 'active'), 2000, () => 'every follower active');
    patterns = [{ name: 'daily', leaderCluster: 'leader', active: true }, { name: 'elsewhere', leaderCluster: 'other', active: true }];
    paused = [];
  });
  afterEach(() => manager.close());

  const deps = (overrides: Partial<PromoteManyDeps> = {}): PromoteManyDeps => ({
    manager, state, logger: silentLogger,
    patterns: (): LeaderPattern[] => patterns,
    pausePattern: async (name) => {
      paused.push(name);
    },
    streamFollowers: () => [],
    connect: async (alias) => (alias === 'follower' ? follower.client : leader.client),
    ...overrides,
  });

  it('promotes the followers of one leader, pausing only that leader\'s patterns, and answers already promoted ones as such', async () => {
    const answer = await promoteMany({ all: true, leader: 'leader' }, deps());
    expect(answer.indices.map((i) => [i.follower, i.result])).to.deep.equal([
      ['follower/logs-a', 'promoted'], ['follower/logs-b', 'promoted'], ['follower/orders', 'promoted'],
    ]);
    expect(answer.pausedAutoFollowPatterns).to.deep.equal(['daily']);
    expect(paused).to.deep.equal(['daily']);
    expect(answer.succeeded).to.equal(true);
    expect(answer.total).to.include({ followers: 3 });
    expect(answer.rtoMillis).to.be.a('number');
    expect(manager.has('follower/logs-c'), 'the other leader\'s follower').to.equal(true);
    for (const key of ['follower/logs-a', 'follower/logs-b', 'follower/orders']) {
      expect(manager.has(key)).to.equal(false);
      expect(state.promotions.get(key)?.run).to.include({ followers: 3 });
      expect(state.promotions.get(key)?.recoveryPoint).to.be.an('object');
    }

    const again = await promoteMany({ match: 'logs-*', leader: 'leader' }, deps());
    expect(again.indices.map((i) => [i.follower, i.result])).to.deep.equal([['follower/logs-a', 'already_promoted'], ['follower/logs-b', 'already_promoted']]);
    expect(again.succeeded).to.equal(true);
    expect(again).to.not.have.property('rtoMillis');
  });

  it('changes nothing on a dry run', async () => {
    const answer = await promoteMany({ match: 'follower/logs-*', dryRun: true }, deps());
    expect(answer.indices.map((i) => i.result)).to.deep.equal(['would_promote', 'would_promote', 'would_promote']);
    expect(answer.pausedAutoFollowPatterns).to.deep.equal(['daily', 'elsewhere']);
    expect(paused).to.deep.equal([]);
    expect(state.promotions.size).to.equal(0);
    for (const key of ['follower/logs-a', 'follower/logs-b', 'follower/logs-c']) expect(manager.info().find((i) => `follower/${i.follower_index}` === key)?.status).to.equal('active');
  });

  it('promotes exactly the followers named (a daemon\'s part of a fleet\'s promotion), and fails one it does not run without touching it', async () => {
    const answer = await promoteMany({ followers: ['follower/logs-a', 'follower/orders', 'follower/moved-away'] }, deps());
    expect(answer.indices.map((i) => [i.follower, i.result])).to.deep.equal([
      ['follower/logs-a', 'promoted'], ['follower/moved-away', 'failed'], ['follower/orders', 'promoted'],
    ]);
    expect(answer.indices[1]!.reason).to.match(/not run by this daemon.*nothing was done to it/);
    expect(answer.succeeded).to.equal(false);
    expect(manager.has('follower/logs-b')).to.equal(true);
    expect(state.promotions.has('follower/moved-away')).to.equal(false);
    const again = await promoteMany({ followers: ['follower/logs-a'] }, deps());
    expect(again.indices.map((i) => [i.follower, i.result])).to.deep.equal([['follower/logs-a', 'already_promoted']]);
  });

  it('refuses a request it cannot act on before changing anything', async () => {
    const refused = async (req: PromoteManyRequest, message: RegExp): Promise<void> => {
      const err = await promoteMany(req, deps()).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(FollowError);
      expect((err as Error).message).to.match(message);
    };
    await refused({}, /exactly one of \[all\]/);
    await refused({ all: true, match: 'x' }, /exactly one of \[all\]/);
    await refused({ match: 'x', followers: ['follower/orders'] }, /exactly one of \[all\]/);
    await refused({ all: true, concurrency: 0 }, /concurrency/);
    await refused({ match: 'nothing-*' }, /no follower index matches \[nothing-\*\]/);
    expect(paused).to.deep.equal([]);
    expect(state.promotions.size).to.equal(0);
    expect(manager.info()).to.have.length(4);
  });

  it('promotes no more than `concurrency` at a time', async () => {
    let running = 0;
    let most = 0;
    const counting = {
      info: () => manager.info(),
      pauseForPromotion: (key: string) => manager.pauseForPromotion(key),
      recoveryPoint: (key: string, at: number) => manager.recoveryPoint(key, at),
      promote: async (...args: Parameters<FollowManager['promote']>) => {
        running += 1;
        most = Math.max(most, running);
        try {
          await new Promise((resolve) => setImmediate(resolve));
          return await manager.promote(...args);
        } finally {
          running -= 1;
        }
      },
    };
    const answer = await promoteMany({ all: true, concurrency: 2 }, deps({ manager: counting }));
    expect(answer.indices.filter((i) => i.result === 'promoted')).to.have.length(4);
    expect(most).to.equal(2);
  });

  it('reports a pattern it could not pause and a follower it could not promote, and promotes the others', async () => {
    follower.failNext('shardSeqNos', () => new Error('the follower index is closed'));
    const answer = await promoteMany({ all: true, leader: 'leader', concurrency: 1 }, deps({
      pausePattern: async () => {
        throw new FollowError('illegal_state_exception', 'the state refused the write');
      },
    }));
    expect(answer.patternFailures).to.deep.equal([{ pattern: 'daily', reason: 'illegal_state_exception: the state refused the write' }]);
    expect(answer.indices.map((i) => i.result)).to.deep.equal(['failed', 'promoted', 'promoted']);
    expect(answer.indices[0]!.reason).to.contain('the follower index is closed');
    expect(answer.succeeded).to.equal(false);
    expect(manager.has('follower/logs-a'), 'the failed one stays a follower').to.equal(true);
  });
});
