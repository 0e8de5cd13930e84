/**
 * Issue 3, test 6: pause / resume / unfollow with CCR's semantics. A paused follower applies
 * nothing while the leader keeps changing, and a resume catches up; the operations that make no
 * sense in the current state are refused with `illegal_state_exception`; unfollow (only when
 * paused) leaves an ordinary index holding all the data; its name cannot be followed into again.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { Flavor } from '../../src/cluster/types.js';
import { FollowError } from '../../src/follow/follow-errors.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import {
  compareIndices, connect, createLeaderIndex, RandomWorkload, startTestDaemon, statsOf, waitForCaughtUp, type TestDaemon,
} from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const PAIRS: readonly (readonly [Flavor, Flavor])[] = [
  ['elasticsearch', 'elasticsearch'],
  ['opensearch', 'opensearch'],
];
const short = (f: Flavor): string => (f === 'elasticsearch' ? 'ES' : 'OS');

describe('pausing, resuming and unfollowing a follower index', function () {
  this.timeout(300_000);

  for (const [leaderFlavor, followerFlavor] of PAIRS) {
    describe(`${short(leaderFlavor)} → ${short(followerFlavor)}`, () => {
      let daemon: TestDaemon;
      let leader: ClusterClient;
      let follower: ClusterClient;
      const created: { client: () => ClusterClient; index: string }[] = [];

      before(async () => {
        const pair = (await testClusters()).pair(leaderFlavor, followerFlavor);
        daemon = await startTestDaemon(pair);
        [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
      });

      after(async () => {
        await daemon?.stop();
        for (const { client, index } of created) await client().deleteIndex(index);
        await Promise.all([leader?.close(), follower?.close()]);
      });

      /** A leader with documents, followed and caught up. */
      async function followed(seed: number): Promise<{ leaderIndex: string; followerIndex: string; key: string; workload: RandomWorkload }> {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        created.push({ client: () => leader, index: leaderIndex }, { client: () => follower, index: followerIndex });
        await createLeaderIndex(leader, leaderIndex);
        const workload = new RandomWorkload(leader, leaderIndex, { seed, ids: 1000 });
        await workload.run(3);
        await daemon.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
        return { leaderIndex, followerIndex, key: `follower/${followerIndex}`, workload };
      }

      it('applies no operations while paused, and catches up after resume', async () => {
        const { leaderIndex, followerIndex, key, workload } = await followed(61);
        const manager = daemon.daemon.manager;
        await workload.run(2); // pause with work under way
        await manager.pause(key);
        expect(manager.info(key)[0]).to.include({ status: 'paused' });
        expect(manager.info(key)[0]!.fatal_exception).to.equal(undefined);
        const paused = statsOf(daemon.daemon, followerIndex);
        expect(paused.state).to.equal('paused');
        expect(paused.shards.map((s) => s.state)).to.deep.equal(['stopped', 'stopped', 'stopped']);
        const checkpoints = paused.shards.map((s) => s.follower_global_checkpoint);

        const frozen = await followerSnapshot(follower, followerIndex);
        const leaderBefore = await leader.shardSeqNos(leaderIndex);
        await workload.run(5);
        await waitFor(async () => sumOf(await leader.shardSeqNos(leaderIndex), (s) => s.globalCheckpoint) >= sumOf(leaderBefore, (s) => s.globalCheckpoint) + 1000,
          { timeoutMs: 30_000, message: 'the leader global checkpoints to advance by 1000 operations' });
        await expectStaysTrue(async () => {
          const now = await followerSnapshot(follower, followerIndex);
          const cps = statsOf(daemon.daemon, followerIndex).shards.map((s) => s.follower_global_checkpoint);
          return JSON.stringify(now) === JSON.stringify(frozen) && JSON.stringify(cps) === JSON.stringify(checkpoints);
        }, 2_000, 'the follower index and its checkpoints to stay unchanged while paused');
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex), 'the follower lags while paused').to.have.length.greaterThan(0);

        await manager.resume(key);
        expect(manager.info(key)[0]).to.include({ status: 'active' });
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
        const resumed = statsOf(daemon.daemon, followerIndex);
        for (const [i, s] of resumed.shards.entries()) {
          expect(s.follower_global_checkpoint, `shard ${i} checkpoint`).to.be.greaterThan(checkpoints[i]!);
        }
      });

      it('refuses to pause a paused follower and to resume an active one, with illegal_state_exception', async () => {
        const { key } = await followed(62);
        const manager = daemon.daemon.manager;
        await expectFollowError(() => manager.resume(key), 'illegal_state_exception', /already following/);
        await manager.pause(key);
        await expectFollowError(() => manager.pause(key), 'illegal_state_exception', /already paused/);
        expect(manager.info(key)[0]).to.include({ status: 'paused' });
        await manager.resume(key);
        expect(manager.info(key)[0]).to.include({ status: 'active' });
        await expectFollowError(() => manager.pause('follower/no-such-follower'), 'resource_not_found_exception', /not a follower index/);
      });

      it('refuses the second of two concurrent pauses, and of two concurrent resumes', async () => {
        const { key } = await followed(65);
        const manager = daemon.daemon.manager;
        const pauses = await Promise.allSettled([manager.pause(key), manager.pause(key)]);
        expect(outcomes(pauses), 'two pauses at once').to.have.members(['ok', 'illegal_state_exception']);
        expect(manager.info(key)[0]).to.include({ status: 'paused' });
        const resumes = await Promise.allSettled([manager.resume(key), manager.resume(key)]);
        expect(outcomes(resumes), 'two resumes at once').to.have.members(['ok', 'illegal_state_exception']);
        expect(manager.info(key)[0]).to.include({ status: 'active' });
      });

      it('unfollows only when paused, leaving an ordinary index with all the data that takes ordinary writes', async () => {
        const { leaderIndex, followerIndex, key, workload } = await followed(63);
        const manager = daemon.daemon.manager;
        await workload.run(2);
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
        await expectFollowError(() => manager.unfollow(key), 'illegal_state_exception', /pause it first/);
        expect(manager.info(key)[0]).to.include({ status: 'active' });

        await manager.pause(key);
        await manager.unfollow(key);
        expect(manager.has(key)).to.equal(false);
        expect(manager.stats().map((s) => s.index)).to.not.include(followerIndex);
        expect(manager.info().map((i) => i.follower_index)).to.not.include(followerIndex);
        await expectFollowError(async () => manager.info(key), 'resource_not_found_exception', /not a follower index/);
        await expectFollowError(() => manager.resume(key), 'resource_not_found_exception', /not a follower index/);

        // All the data stays.
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
        // The leader's later changes no longer arrive.
        const frozen = await followerSnapshot(follower, followerIndex);
        await workload.run(2);
        await expectStaysTrue(async () => JSON.stringify(await followerSnapshot(follower, followerIndex)) === JSON.stringify(frozen),
          2_000, 'the former follower to stay unchanged after unfollow');
        // Ordinary writes are accepted: a new document, and an overwrite of a replicated one.
        const existing = await follower.raw<{ hits: { hits: { _id: string; _routing?: string }[] } }>('first document', {
          method: 'POST', path: `/${followerIndex}/_search`, body: { size: 1, query: { match_all: {} } },
        });
        const replicated = existing.body.hits.hits[0]!;
        await follower.writeDocuments(followerIndex, [
          { op: 'index', id: 'written-after-unfollow', source: { n: 1, text: 'local' } },
          { op: 'index', id: replicated._id, ...(replicated._routing ? { routing: replicated._routing } : {}), source: { n: 2, text: 'overwritten' } },
        ], { refresh: true });
        const got = await follower.raw<{ _source: { text: string } }>('get', { method: 'GET', path: `/${followerIndex}/_doc/written-after-unfollow` });
        expect(got.body._source.text).to.equal('local');
        expect((await followerSnapshot(follower, followerIndex)).docs).to.equal(frozen.docs + 1);
      });

      it('refuses a new follow into an index that already exists, even a former follower', async () => {
        const { leaderIndex, followerIndex, key } = await followed(64);
        const manager = daemon.daemon.manager;
        const request = { leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex };
        await expectFollowError(() => manager.follow(request), 'resource_already_exists_exception', /already a follower index/);
        await manager.pause(key);
        await manager.unfollow(key);
        await expectFollowError(() => manager.follow(request), 'resource_already_exists_exception', /already exists/);
        expect(manager.has(key)).to.equal(false);
        expect(await follower.indexExists(followerIndex)).to.equal(true);
      });
    });
  }
});

async function expectFollowError(fn: () => Promise<unknown>, type: string, message: RegExp): Promise<void> {
  let error: unknown;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  expect(error, `expected a FollowError ${type}`).to.be.instanceOf(FollowError);
  expect((error as FollowError).type).to.equal(type);
  expect((error as FollowError).message).to.match(message);
}

/** 'ok' for a fulfilled call, the FollowError type (or the message) for a rejected one. */
function outcomes(results: readonly PromiseSettledResult<unknown>[]): string[] {
  return results.map((r) => {
    if (r.status === 'fulfilled') return 'ok';
    return r.reason instanceof FollowError ? r.reason.type : String(r.reason);
  });
}

async function countDocs(client: ClusterClient, index: string): Promise<number> {
  const res = await client.raw<{ count: number }>('count', { method: 'GET', path: `/${index}/_count` });
  return res.body.count;
}

/** What an index holds, by its own sequence numbers: any applied operation changes it. */
async function followerSnapshot(client: ClusterClient, index: string): Promise<{ maxSeqNos: number[]; docs: number }> {
  await client.refresh(index);
  const [shards, docs] = await Promise.all([client.shardSeqNos(index), countDocs(client, index)]);
  return { maxSeqNos: shards.map((s) => s.maxSeqNo), docs };
}

function sumOf<T>(items: readonly T[], f: (item: T) => number): number {
  return items.reduce((sum, item) => sum + f(item), 0);
}

/** Polls `condition` for `durationMs` (waitFor-based) and fails if it is ever false. */
async function expectStaysTrue(condition: () => Promise<boolean>, durationMs: number, what: string): Promise<void> {
  const until = Date.now() + durationMs;
  let samples = 0;
  let broken = false;
  await waitFor(async () => {
    samples += 1;
    if (!(await condition())) broken = true;
    return broken || Date.now() >= until;
  }, { timeoutMs: durationMs + 30_000, intervalMs: 250, message: what });
  expect(broken, `${what} (broken at sample ${samples})`).to.equal(false);
  expect(samples, `samples of ${what}`).to.be.at.least(2);
}
