/**
 * Pause / resume / unfollow with CCR's semantics. A paused follower applies nothing while the
 * leader keeps changing, and a resume catches up; the operations that make no sense in the current
 * state are refused with `illegal_state_exception`; unfollow (only when paused) leaves an ordinary
 * index holding all the data; its name cannot be followed into again.
 */
import { expect } from 'chai';
import { FollowError } from '../../src/follow/follow-errors.js';
import { uniqueName } from '../helpers/clusters.js';
import { SAME_FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import {
  compareIndices, createLeaderIndex, RandomWorkload, statsOf, waitForCaughtUp, indexSnapshot, sumOf, expectStaysTrue,
} from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';


describe('pausing, resuming and unfollowing a follower index', function () {
  this.timeout(300_000);

  for (const flavors of SAME_FLAVOR_PAIRS) {
    describe(pairTitle(flavors), () => {
      const pair = useFollowPair(flavors);

      before(async () => {
      });

      /** A leader with documents, followed and caught up. */
      async function followed(seed: number): Promise<{ leaderIndex: string; followerIndex: string; key: string; workload: RandomWorkload }> {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        pair.track('leader', leaderIndex);
        pair.track('follower', followerIndex);
        await createLeaderIndex(pair.leader, leaderIndex);
        const workload = new RandomWorkload(pair.leader, leaderIndex, { seed, ids: 1000 });
        await workload.run(3);
        await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        return { leaderIndex, followerIndex, key: `follower/${followerIndex}`, workload };
      }

      it('applies no operations while paused, and catches up after resume', async () => {
        const { leaderIndex, followerIndex, key, workload } = await followed(61);
        const manager = pair.daemon.manager;
        await workload.run(2); // pause with work under way
        await manager.pause(key);
        expect(manager.info(key)[0]).to.include({ status: 'paused' });
        expect(manager.info(key)[0]!.fatal_exception).to.equal(undefined);
        const paused = statsOf(pair.daemon, followerIndex);
        expect(paused.state).to.equal('paused');
        expect(paused.shards.map((s) => s.state)).to.deep.equal(['stopped', 'stopped', 'stopped']);
        const checkpoints = paused.shards.map((s) => s.follower_global_checkpoint);

        const frozen = await indexSnapshot(pair.follower, followerIndex);
        const leaderBefore = await pair.leader.shardSeqNos(leaderIndex);
        await workload.run(5);
        await waitFor(async () => sumOf(await pair.leader.shardSeqNos(leaderIndex), (s) => s.globalCheckpoint) >= sumOf(leaderBefore, (s) => s.globalCheckpoint) + 1000,
          { timeoutMs: 30_000, message: 'the leader global checkpoints to advance by 1000 operations' });
        await expectStaysTrue(async () => {
          const now = await indexSnapshot(pair.follower, followerIndex);
          const cps = statsOf(pair.daemon, followerIndex).shards.map((s) => s.follower_global_checkpoint);
          return JSON.stringify(now) === JSON.stringify(frozen) && JSON.stringify(cps) === JSON.stringify(checkpoints);
        }, 2_000, 'the follower index and its checkpoints to stay unchanged while paused');
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex), 'the follower lags while paused').to.have.length.greaterThan(0);

        await manager.resume(key);
        expect(manager.info(key)[0]).to.include({ status: 'active' });
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
        const resumed = statsOf(pair.daemon, followerIndex);
        for (const [i, s] of resumed.shards.entries()) {
          expect(s.follower_global_checkpoint, `shard ${i} checkpoint`).to.be.greaterThan(checkpoints[i]!);
        }
      });

      it('refuses to pause a paused follower and to resume an active one, with illegal_state_exception', async () => {
        const { key } = await followed(62);
        const manager = pair.daemon.manager;
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
        const manager = pair.daemon.manager;
        const pauses = await Promise.allSettled([manager.pause(key), manager.pause(key)]);
        expect(outcomes(pauses), 'two pauses at once').to.have.members(['ok', 'illegal_state_exception']);
        expect(manager.info(key)[0]).to.include({ status: 'paused' });
        const resumes = await Promise.allSettled([manager.resume(key), manager.resume(key)]);
        expect(outcomes(resumes), 'two resumes at once').to.have.members(['ok', 'illegal_state_exception']);
        expect(manager.info(key)[0]).to.include({ status: 'active' });
      });

      it('unfollows only when paused, leaving an ordinary index with all the data that takes ordinary writes', async () => {
        const { leaderIndex, followerIndex, key, workload } = await followed(63);
        const manager = pair.daemon.manager;
        await workload.run(2);
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
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
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
        // The leader's later changes no longer arrive.
        const frozen = await indexSnapshot(pair.follower, followerIndex);
        await workload.run(2);
        await expectStaysTrue(async () => JSON.stringify(await indexSnapshot(pair.follower, followerIndex)) === JSON.stringify(frozen),
          2_000, 'the former follower to stay unchanged after unfollow');
        // Ordinary writes are accepted: a new document, and an overwrite of a replicated one.
        const existing = await pair.follower.raw<{ hits: { hits: { _id: string; _routing?: string }[] } }>('first document', {
          method: 'POST', path: `/${followerIndex}/_search`, body: { size: 1, query: { match_all: {} } },
        });
        const replicated = existing.body.hits.hits[0]!;
        await pair.follower.writeDocuments(followerIndex, [
          { op: 'index', id: 'written-after-unfollow', source: { n: 1, text: 'local' } },
          { op: 'index', id: replicated._id, ...(replicated._routing ? { routing: replicated._routing } : {}), source: { n: 2, text: 'overwritten' } },
        ], { refresh: true });
        const got = await pair.follower.raw<{ _source: { text: string } }>('get', { method: 'GET', path: `/${followerIndex}/_doc/written-after-unfollow` });
        expect(got.body._source.text).to.equal('local');
        expect((await indexSnapshot(pair.follower, followerIndex)).docs).to.equal(frozen.docs + 1);
      });

      it('refuses a new follow into an index that already exists, even a former follower', async () => {
        const { leaderIndex, followerIndex, key } = await followed(64);
        const manager = pair.daemon.manager;
        const request = { leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex };
        await expectFollowError(() => manager.follow(request), 'resource_already_exists_exception', /already a follower index/);
        await manager.pause(key);
        await manager.unfollow(key);
        await expectFollowError(() => manager.follow(request), 'resource_already_exists_exception', /already exists/);
        expect(manager.has(key)).to.equal(false);
        expect(await pair.follower.indexExists(followerIndex)).to.equal(true);
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
