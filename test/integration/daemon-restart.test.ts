/**
 * Issue 3, tests 3 and 8: the real daemon process is killed with SIGKILL in the middle of a stream
 * of writes (no graceful stop, no checkpoint flush, a stale lock left behind), the leader keeps
 * taking writes, and a new daemon process started on the same state directory resumes from the
 * checkpoints the first one had persisted and ends with exactly the leader's documents — for
 * every flavor pair.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { Flavor } from '../../src/cluster/types.js';
import type { FollowerIndexStats } from '../../src/follow/index-follower.js';
import { testClusters, uniqueName, type TestCluster } from '../helpers/clusters.js';
import {
  DaemonProcess, followerStats, readPersistedCheckpoints, stopAllDaemonProcesses, waitForDaemonCaughtUp,
} from '../helpers/daemon-process.js';
import { compareIndices, connect, createLeaderIndex, RandomWorkload } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const PAIRS: readonly (readonly [Flavor, Flavor])[] = [
  ['elasticsearch', 'elasticsearch'],
  ['opensearch', 'opensearch'],
  ['elasticsearch', 'opensearch'],
  ['opensearch', 'elasticsearch'],
];
const short = (f: Flavor): string => (f === 'elasticsearch' ? 'ES' : 'OS');
/** Batches of the workload (200 operations each) written while no daemon runs, and after the restart. */
const BATCHES_WHILE_DOWN = 10;
const BATCHES_AFTER_RESTART = 10;
/** Batches on the leader before the follow starts: the bootstrap copy the first daemon is killed in. */
const BATCHES_BEFORE_FOLLOW = 40;
/** Each shard's checkpoint the first daemon must have persisted before it is killed. */
const PERSISTED_BEFORE_KILL = 1500;

/** The workload writing batch after batch until stopped; a write error ends it and surfaces from stop(). */
class BackgroundWriter {
  #stopped = false;
  #batches = 0;
  #error: unknown;
  readonly #done: Promise<void>;

  constructor(workload: RandomWorkload) {
    this.#done = (async () => {
      while (!this.#stopped) {
        await workload.writeBatch();
        this.#batches += 1;
      }
    })();
    // Kept, and rethrown by writeMore() and stop(): never an unhandled rejection.
    this.#done.catch((err: unknown) => {
      this.#error = err ?? new Error('the workload failed');
    });
  }

  /** Waits until `count` more batches than now have been written (the writer keeps going). */
  async writeMore(count: number, timeoutMs = 60_000): Promise<void> {
    const target = this.#batches + count;
    const outcome = await waitFor(() => (this.#error !== undefined ? 'failed' : this.#batches >= target), {
      timeoutMs, intervalMs: 20, message: () => `the workload to write ${count} more batches (at ${this.#batches}, target ${target})`,
    });
    if (outcome === 'failed') throw this.#error;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}

function shardCheckpoints(stats: FollowerIndexStats): Record<number, number> {
  return Object.fromEntries(stats.shards.map((s) => [s.shard_id, s.follower_global_checkpoint]));
}

describe('a daemon process killed in the middle of a stream of writes', function () {
  this.timeout(300_000);

  after(async () => {
    await stopAllDaemonProcesses();
  });

  for (const [leaderFlavor, followerFlavor] of PAIRS) {
    describe(`${short(leaderFlavor)} → ${short(followerFlavor)}`, () => {
      let pair: { leader: TestCluster; follower: TestCluster };
      let leader: ClusterClient;
      let follower: ClusterClient;
      const created: { leader: string[]; follower: string[] } = { leader: [], follower: [] };
      let writer: BackgroundWriter | undefined;

      before(async () => {
        pair = (await testClusters()).pair(leaderFlavor, followerFlavor);
        [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
      });

      after(async () => {
        // Writer and daemons first (a failed test leaves them running), then the indices.
        await writer?.stop().catch(() => undefined);
        await stopAllDaemonProcesses();
        await Promise.allSettled([
          ...created.leader.map((i) => leader?.deleteIndex(i)),
          ...created.follower.map((i) => follower?.deleteIndex(i)),
        ]);
        await Promise.all([leader?.close(), follower?.close()]);
      });

      it('resumes from the persisted checkpoints after SIGKILL and ends with exactly the leader\'s documents', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        const key = `follower/${followerIndex}`;
        await createLeaderIndex(leader, leaderIndex);
        created.leader.push(leaderIndex);
        // Mostly distinct ids, so most documents are written once: a restart from scratch would
        // have to copy more documents than there are operations above the persisted checkpoints.
        const workload = new RandomWorkload(leader, leaderIndex, { seed: 3, ids: 200_000, routedShare: 0.3 });
        await workload.run(BATCHES_BEFORE_FOLLOW);

        const started = Date.now();
        const first = await DaemonProcess.start(pair);
        await first.api('PUT', `/follower/${followerIndex}/_ccr/follow`, {
          remote_cluster: 'leader', leader_index: leaderIndex,
          // Small reads, so the follower moves in many steps and is caught mid-stream.
          max_read_request_operation_count: 100, max_outstanding_read_requests: 2,
        });
        created.follower.push(followerIndex);
        writer = new BackgroundWriter(workload);

        // Well into the stream on every shard (applied and persisted), but not all of it: the
        // leader is ahead on some shard.
        let beforeKill: FollowerIndexStats | undefined;
        await waitFor(async () => {
          const stats = await followerStats(first, followerIndex);
          const persisted = await first.persistedCheckpoints(key);
          const leaderShards = await leader.shardSeqNos(leaderIndex);
          beforeKill = stats;
          return stats.shards.length === 3
            && stats.shards.every((s) => s.follower_global_checkpoint >= 0 && (persisted[s.shard_id] ?? -1) >= PERSISTED_BEFORE_KILL)
            && leaderShards.some((l) => l.maxSeqNo > (stats.shards.find((s) => s.shard_id === l.shard)?.follower_global_checkpoint ?? -1));
        }, {
          timeoutMs: 60_000,
          intervalMs: 50,
          message: () => `the first daemon to apply and persist some operations on every shard: ${JSON.stringify(beforeKill?.shards.map((s) => s.follower_global_checkpoint))}`,
        });
        first.kill('SIGKILL');
        expect((await first.waitForExit(10_000)).signal).to.equal('SIGKILL');
        const leaderAtKill = await leader.shardSeqNos(leaderIndex);
        // What the crashed daemon left behind: its last save, taken before the kill.
        const persisted = await readPersistedCheckpoints(first.stateDir, key);
        console.log(`      killed after ${Date.now() - started} ms: follower checkpoints ${JSON.stringify(shardCheckpoints(beforeKill!))}, `
          + `persisted ${JSON.stringify(persisted)}, leader max_seq_no ${JSON.stringify(leaderAtKill.map((l) => l.maxSeqNo))}`);
        expect(leaderAtKill.some((l) => l.maxSeqNo > (persisted[l.shard] ?? -1)), 'the leader is ahead of the persisted checkpoints').to.equal(true);

        await writer.writeMore(BATCHES_WHILE_DOWN); // the leader moves on while no daemon runs

        const restarted = Date.now();
        const second = await DaemonProcess.start({ ...pair, stateDir: first.stateDir });
        const firstStats = await waitFor(async () => {
          const stats = await followerStats(second, followerIndex);
          return stats.shards.length === 3 ? stats : false;
        }, { timeoutMs: 60_000, intervalMs: 20, message: 'the restarted daemon to start its shard tasks' });
        await writer.writeMore(BATCHES_AFTER_RESTART);
        await writer.stop();

        const caughtUp = await waitForDaemonCaughtUp(second, leader, leaderIndex, followerIndex);
        const leaderFinal = await leader.shardSeqNos(leaderIndex);
        const opsAbovePersisted = leaderFinal.reduce((sum, l) => sum + l.globalCheckpoint - (persisted[l.shard] ?? -1), 0);
        const allOps = leaderFinal.reduce((sum, l) => sum + l.globalCheckpoint + 1, 0);
        console.log(`      ${workload.operations} operations; restarted daemon caught up ${Date.now() - restarted} ms after its start; `
          + `its first checkpoints ${JSON.stringify(shardCheckpoints(firstStats))}, it wrote ${caughtUp.operations_written} operations `
          + `(${opsAbovePersisted} above the persisted checkpoints, ${allOps} in all)`);

        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
        expect(caughtUp.fatal_exception).to.equal(undefined);
        // Resumed, not restarted: each shard task began at the checkpoint the crashed daemon saved…
        for (const shard of firstStats.shards) {
          expect(shard.follower_global_checkpoint, `shard ${shard.shard_id}'s first checkpoint after the restart`)
            .to.be.at.least(persisted[shard.shard_id] ?? -1);
        }
        // …and only operations above it were read and written again. A copy from -1 would write
        // every live document once at least, which is more: the first check keeps the test honest.
        const liveDocuments = (await leader.raw<{ count: number }>('count documents', { method: 'GET', path: `/${leaderIndex}/_count` })).body.count;
        console.log(`      the leader holds ${liveDocuments} documents`);
        expect(liveDocuments, 'documents a restart from scratch would copy').to.be.greaterThan(opsAbovePersisted);
        expect(caughtUp.operations_written, 'operations the restarted daemon wrote').to.be.at.most(opsAbovePersisted);
      });
    });
  }
});
