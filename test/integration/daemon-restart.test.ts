/**
 * Fault: the real daemon process is killed with SIGKILL five times in the middle of a stream of
 * writes (no graceful stop, no checkpoint flush, a stale lock left behind) and started again each
 * time on the same state directory, while the leader keeps taking writes. Each new process must
 * resume from the checkpoints the killed one had persisted, and the follower must end with exactly
 * the leader's documents.
 *
 * The kills are aimed at three phases, in an order and at moments drawn from a seeded PRNG (a
 * failing seed replays the same plan):
 * - `bootstrap`: during the copy of the documents the leader held when the follow started, at a
 *   random share of it (0 = right after the follow request returned);
 * - `bulk`: while a shard has a bulk request to the follower in flight (daemon stats);
 * - `checkpoint`: while the daemon writes its checkpoint file — a temp file seen in the state
 *   directory (src/state/file-state-store.ts writes temp + fsync + rename), or failing that, right
 *   after the file changed.
 * Runs for ES → ES and one cross-flavor pair, ES → OS.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Flavor } from '../../src/cluster/types.js';
import type { FollowerIndexStats } from '../../src/follow/index-follower.js';
import { uniqueName } from '../helpers/clusters.js';
import {
  DaemonProcess, followerStats, readPersistedCheckpoints, stopAllDaemonProcesses, waitForDaemonCaughtUp,
} from '../helpers/daemon-process.js';
import { pairTitle, useClusterPair } from '../helpers/follow-fixture.js';
import { LeaderWriter } from '../helpers/leader-writer.js';
import { mulberry32, randomInt, shuffle } from '../helpers/prng.js';
import { compareIndices, countDocs, createLeaderIndex, RandomWorkload, sumOf } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const PAIRS: readonly (readonly [Flavor, Flavor, number])[] = [
  ['elasticsearch', 'elasticsearch', 1001],
  ['elasticsearch', 'opensearch', 1002],
];
/** Batches on the leader before the follow starts (200 operations each): the bootstrap copy. */
const BATCHES_BEFORE_FOLLOW = 40;
/** Batches written after the last restart, before the writer stops. */
const BATCHES_AFTER_LAST_RESTART = 5;
const KILLS = 5;

type Phase = 'bootstrap' | 'bulk' | 'checkpoint';

function shardCheckpoints(stats: FollowerIndexStats): Record<number, number> {
  return Object.fromEntries(stats.shards.map((s) => [s.shard_id, s.follower_global_checkpoint]));
}

/** Two kills in the bootstrap copy (an early and a late moment), three after it in a random order. */
function killPlan(random: () => number): { phase: Phase; share: number; nth: number }[] {
  const later = shuffle(random, ['bulk', 'checkpoint', random() < 0.5 ? 'bulk' : 'checkpoint'] as Phase[]);
  return [
    { phase: 'bootstrap', share: random() * 0.3, nth: 1 },
    { phase: 'bootstrap', share: 0.4 + random() * 0.4, nth: 1 },
    ...later.map((phase) => ({ phase, share: 0, nth: randomInt(random, 1, 4) })),
  ];
}

describe('a daemon process killed in the middle of a stream of writes', function () {
  this.timeout(600_000);

  after(async () => {
    await stopAllDaemonProcesses();
  });

  for (const [leaderFlavor, followerFlavor, seed] of PAIRS) {
    describe(pairTitle([leaderFlavor, followerFlavor]), () => {
      let writer: LeaderWriter | undefined;
      // Writer and daemons first (a failed test leaves them running), then the indices.
      const fx = useClusterPair([leaderFlavor, followerFlavor], {
        teardown: async () => {
          await writer?.stop().catch(() => undefined);
          await stopAllDaemonProcesses();
        },
      });

      it(`resumes from the persisted checkpoints after ${KILLS} SIGKILLs (bootstrap, bulk writes, checkpoint writes) and ends with exactly the leader's documents (seed ${seed})`, async () => {
        const { pair, leader, follower } = fx;
        const random = mulberry32(seed);
        const plan = killPlan(random);
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        const key = `follower/${followerIndex}`;
        await createLeaderIndex(leader, leaderIndex);
        fx.track('leader', leaderIndex);
        // Mostly distinct ids, so most documents are written once: a restart from scratch would
        // have to copy more documents than there are operations above the persisted checkpoints.
        const workload = new RandomWorkload(leader, leaderIndex, { seed, ids: 200_000, routedShare: 0.3 });
        await workload.run(BATCHES_BEFORE_FOLLOW);
        const bootstrapTarget = await leader.shardSeqNos(leaderIndex);
        const bootstrapOps = bootstrapTarget.reduce((sum, s) => sum + s.globalCheckpoint + 1, 0);
        /** Share of the bootstrap copy applied, by the follower's checkpoints. */
        const bootstrapShare = (stats: FollowerIndexStats): number => bootstrapTarget.reduce((sum, t) => {
          const cp = stats.shards.find((s) => s.shard_id === t.shard)?.follower_global_checkpoint ?? -1;
          return sum + Math.min(cp, t.globalCheckpoint) + 1;
        }, 0) / bootstrapOps;

        let daemon = await DaemonProcess.start(pair);
        const stateDir = daemon.stateDir;
        await daemon.api('PUT', `/follower/${followerIndex}/_ccr/follow`, {
          remote_cluster: 'leader', leader_index: leaderIndex,
          // Small reads, so the follower moves in many steps and is caught mid-stream.
          max_read_request_operation_count: 100, max_outstanding_read_requests: 2,
        });
        fx.track('follower', followerIndex);
        // Paced, so that each daemon between two kills can make progress on a loaded machine too.
        writer = new LeaderWriter(workload, { pauseMs: 250 });

        const kills: string[] = [];
        let lastPersisted: Record<number, number> = {};
        let lastRestart = 0;
        for (const [k, step] of plan.entries()) {
          if (step.phase !== 'bootstrap') {
            // Mid-stream, not right after a start: this daemon has applied and saved something of its own.
            const before = sumOf(Object.values(lastPersisted), (cp) => cp);
            await waitFor(async () => sumOf(Object.values(await readPersistedCheckpoints(stateDir, key)), (cp) => cp) > before, {
              timeoutMs: 120_000, intervalMs: 50, message: `the daemon started after kill ${k} to persist new checkpoints`,
            });
          }
          const aimed = await aimKill(daemon, step, followerIndex, key, bootstrapShare);
          daemon.kill('SIGKILL');
          expect((await daemon.waitForExit(10_000)).signal, `kill ${k + 1}`).to.equal('SIGKILL');
          // What the crashed daemon left behind: its last save, taken before the kill.
          const persisted = await readPersistedCheckpoints(stateDir, key);
          kills.push(`${k + 1}: ${step.phase} (${aimed}), persisted ${JSON.stringify(persisted)}`);
          for (const [shard, cp] of Object.entries(lastPersisted)) {
            expect(persisted[Number(shard)] ?? -1, `shard ${shard}'s persisted checkpoint never goes back (kill ${k + 1})`).to.be.at.least(cp);
          }
          lastPersisted = persisted;

          await writer.writeMore(randomInt(random, 0, 3)); // the leader moves on while no daemon runs
          daemon = await DaemonProcess.start({ ...pair, stateDir });
          lastRestart = Date.now();
          const firstStats = await waitFor(async () => {
            const stats = await followerStats(daemon, followerIndex);
            return stats.shards.length === 3 ? stats : false;
          }, { timeoutMs: 60_000, intervalMs: 20, message: `the daemon restarted after kill ${k + 1} to start its shard tasks` });
          // Resumed, not restarted: each shard task begins at the checkpoint the killed daemon saved.
          for (const shard of firstStats.shards) {
            expect(shard.follower_global_checkpoint, `shard ${shard.shard_id}'s first checkpoint after restart ${k + 1}`)
              .to.be.at.least(persisted[shard.shard_id] ?? -1);
          }
        }
        console.log(`      ${pairTitle([leaderFlavor, followerFlavor])} kills:\n${kills.map((line) => `        ${line}`).join('\n')}`);

        await writer.writeMore(BATCHES_AFTER_LAST_RESTART);
        await writer.stop();
        const lastWrite = writer.lastWriteAt;
        writer = undefined;
        const caughtUp = await waitForDaemonCaughtUp(daemon, leader, leaderIndex, followerIndex, 180_000);
        const converged = Date.now();
        const leaderFinal = await leader.shardSeqNos(leaderIndex);
        const opsAboveLastPersisted = leaderFinal.reduce((sum, l) => sum + l.globalCheckpoint - (lastPersisted[l.shard] ?? -1), 0);
        console.log(`      ${pairTitle([leaderFlavor, followerFlavor])} CONVERGED ${converged - lastRestart} ms after the last restart `
          + `(${converged - lastWrite} ms after the last write); ${workload.operations} operations; the last daemon wrote `
          + `${caughtUp.operations_written} (${opsAboveLastPersisted} above the checkpoints it started from); final checkpoints ${JSON.stringify(shardCheckpoints(caughtUp))}`);

        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
        expect(caughtUp.fatal_exception).to.equal(undefined);
        // Only operations above the last persisted checkpoints were read and written again. A copy
        // from -1 would write every live document once at least, which is more: the first check
        // keeps the test honest.
        await leader.refresh(leaderIndex);
        const liveDocuments = await countDocs(leader, leaderIndex);
        expect(liveDocuments, 'documents a restart from scratch would copy').to.be.greaterThan(opsAboveLastPersisted);
        expect(caughtUp.operations_written, 'operations the last daemon wrote').to.be.at.most(opsAboveLastPersisted);
      });
    });
  }
});

/**
 * Waits for the moment `step` aims at and returns how it was met; the caller kills at once. A
 * phase that cannot be met any more (the bootstrap copy already done) is reported, not waited for.
 */
async function aimKill(
  daemon: DaemonProcess, step: { phase: Phase; share: number; nth: number }, followerIndex: string, key: string,
  bootstrapShare: (stats: FollowerIndexStats) => number,
): Promise<string> {
  switch (step.phase) {
    case 'bootstrap': {
      let share = 0;
      await waitFor(async () => {
        const stats = await followerStats(daemon, followerIndex);
        share = stats.shards.length === 0 ? 0 : bootstrapShare(stats);
        return share >= step.share;
      }, { timeoutMs: 120_000, intervalMs: 10, message: () => `the bootstrap copy to reach ${(step.share * 100).toFixed(0)} % (at ${(share * 100).toFixed(0)} %)` });
      return share >= 1 ? `aimed at ${(step.share * 100).toFixed(0)} % of the copy, but it was complete` : `${(share * 100).toFixed(0)} % of the bootstrap copy applied`;
    }
    case 'bulk': {
      let seen = 0;
      await waitFor(async () => {
        const stats = await followerStats(daemon, followerIndex);
        if (stats.shards.some((s) => s.outstanding_write_requests > 0)) seen += 1;
        return seen >= step.nth;
      }, { timeoutMs: 120_000, intervalMs: 5, message: () => `bulk write #${step.nth} in flight (seen ${seen})` });
      return `bulk request in flight (sighting ${step.nth})`;
    }
    case 'checkpoint': {
      // A tight loop over the checkpoints directory: the temp file lives for an fsync or two.
      const dir = join(daemon.stateDir, 'checkpoints');
      const file = `${encodeURIComponent(key)}.json`;
      const read = (): Promise<string> => readFile(join(dir, file), 'utf8').catch(() => '');
      let last = await read();
      let changes = 0;
      const outcome = await waitFor(async () => {
        const names = await readdir(dir).catch(() => [] as string[]);
        if (names.some((n) => n.startsWith(file) && n.endsWith('.tmp'))) {
          changes += 1;
          if (changes >= step.nth) return 'temp file present: mid-write';
        }
        const now = await read();
        if (now !== last) {
          last = now;
          changes += 1;
          if (changes >= step.nth) return 'file just replaced';
        }
        return false;
      }, { timeoutMs: 120_000, intervalMs: 1, message: () => `checkpoint write #${step.nth} (seen ${changes})` });
      return `checkpoint write #${step.nth}: ${outcome}`;
    }
  }
}
