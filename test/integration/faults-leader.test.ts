/**
 * Faults on the leader side, each ending with an independent document-by-document comparison of
 * the follower with the leader (ids, routing, `_source`; nothing missing, nothing extra), for
 * ES → ES and one cross-flavor pair (OS → ES: the OpenSearch leader restarts fastest):
 *
 * - the leader node restarted three times while the leader takes writes (the writer keeps
 *   retrying while the node is down, as an application would). Each restart starts the primaries
 *   again with a higher primary term (asserted from the cluster state): the follow, which reads
 *   `_seq_no`s and writes versions derived from them, continues across terms and converges. The
 *   capped backoff (`max_retry_delay`) keeps retrying for the whole outage.
 * - the leader index deleted and created again under the same name, and written at once with
 *   more operations per shard than the follower had applied: the follow must notice the new index
 *   (its uuid) and pause with a reason naming the uuid change, rather than read the new history
 *   above its old checkpoints or delete follower documents the new index lacks. The follower must
 *   still hold exactly the old leader's documents, also after a resume attempt.
 *
 * Restarting a node needs nodes this process started, so these tests do not run against external
 * CCR_TEST_*_URL clusters (each says so). Figures printed: time to converge after each fault.
 */
import { expect } from 'chai';
import type { Flavor } from '../../src/cluster/types.js';
import type { FollowerInfo } from '../../src/follow/follow-manager.js';
import { memoryLogger, type MemoryLogger } from '../../src/util/logger.js';
import { pairTitle, useClusterPair } from '../helpers/follow-fixture.js';
import { LeaderWriter } from '../helpers/leader-writer.js';
import {
  compareIndices, compareWithDocuments, createLeaderIndex, expectStaysTrue, indexDocuments, primaryTerms,
  printRecentLog, RandomWorkload, startTestDaemon, statsOf, waitForCaughtUp, type TestDaemon,
} from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const PAIRS: readonly (readonly [Flavor, Flavor])[] = [['elasticsearch', 'elasticsearch'], ['opensearch', 'elasticsearch']];
const RESTARTS = 3;
/** The backoff cap the restart test follows with: small, so that capped and uncapped backoff differ clearly. */
const MAX_RETRY_DELAY_MS = 200;

describe('faults on the leader', function () {
  this.timeout(600_000);

  for (const flavors of PAIRS) {
    describe(pairTitle(flavors), () => {
      let daemon: TestDaemon;
      let logger: MemoryLogger;
      let writer: LeaderWriter | undefined;
      const fx = useClusterPair(flavors, { teardown: async () => daemon?.stop() });

      before(async () => {
        logger = memoryLogger();
        daemon = await startTestDaemon({ ...fx.pair, logger });
      });

      afterEach(async function () {
        // A failed test may leave its writer running: stop it before the next test or the teardown.
        await writer?.stop().catch(() => undefined);
        writer = undefined;
        if (this.currentTest?.state === 'failed') {
          printRecentLog(logger);
        }
        logger.clear();
      });

      function infoOf(key: string): FollowerInfo {
        const info = daemon.daemon.manager.info(key)[0];
        if (!info) throw new Error(`no info for ${key}`);
        return info;
      }

      it(`follows through ${RESTARTS} leader node restarts under writes, across primary terms, and converges exactly`, async function () {
        const { pair, leader, follower } = fx;
        if (pair.leader.external) {
          console.log(`      not run: the leader is external (${pair.leader.url}) and cannot be restarted`);
          this.skip();
        }
        const { leaderIndex, followerIndex } = fx.indexNames();
        await createLeaderIndex(leader, leaderIndex);
        const workload = new RandomWorkload(leader, leaderIndex, { seed: 101, ids: 3000, routedShare: 0.3 });
        await workload.run(5);
        await daemon.daemon.manager.follow({
          leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex,
          params: { max_retry_delay: `${MAX_RETRY_DELAY_MS}ms` },
        });
        const termsBefore = await primaryTerms(leader, leaderIndex);
        writer = new LeaderWriter(workload, { retryErrors: true, retryDelayMs: 200 });

        const outages: number[] = [];
        let maxRetries = 0;
        let faultEnded = 0;
        for (let restart = 1; restart <= RESTARTS; restart += 1) {
          // Writes between the restarts, and the follower moving with them: a restart in a stream.
          const applied = sumCheckpoints(daemon, followerIndex);
          await writer.writeMore(3, 120_000);
          await waitFor(() => sumCheckpoints(daemon, followerIndex) > applied, {
            timeoutMs: 120_000, intervalMs: 100, message: () => `the follower to apply operations before restart ${restart}: ${followState(daemon, followerIndex)}`,
          });
          let restartDone = false;
          let restartError: unknown;
          const started = Date.now();
          const restarting = pair.leader.restart().then(
            () => { restartDone = true; },
            (err: unknown) => { restartDone = true; restartError = err; },
          );
          // Sample the shards' retry bookkeeping while the node is away.
          await waitFor(() => {
            for (const shard of statsOf(daemon.daemon, followerIndex).shards) {
              for (const e of shard.read_exceptions) maxRetries = Math.max(maxRetries, e.retries);
            }
            return restartDone;
          }, { timeoutMs: 300_000, intervalMs: 250, message: `the leader node to restart (${restart})` });
          await restarting;
          if (restartError) throw restartError;
          faultEnded = Date.now();
          outages.push(faultEnded - started);
        }
        await writer.writeMore(3, 120_000); // …and writes after the last restart
        await writer.stop();
        const lastWrite = writer.lastWriteAt;
        const failedBatches = writer.failedBatches;
        writer = undefined;
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex, 240_000);
        const converged = Date.now();
        const termsAfter = await primaryTerms(leader, leaderIndex);
        console.log(`      ${pairTitle(flavors)} leader restarts: node away ${outages.join(' / ')} ms; primary terms ${JSON.stringify(termsBefore)} → ${JSON.stringify(termsAfter)}; `
          + `${workload.operations} operations (${failedBatches} batch attempts failed while the node was away); longest retry streak ${maxRetries}`);
        console.log(`      ${pairTitle(flavors)} CONVERGED ${converged - faultEnded} ms after the last restart ended (${converged - lastWrite} ms after the last write)`);

        // Every primary was started again under a higher term, once per restart…
        termsAfter.forEach((term, shard) => expect(term, `shard ${shard} primary term (before: ${termsBefore[shard]})`).to.be.at.least(termsBefore[shard]! + RESTARTS));
        // …and the follower holds exactly the leader's documents.
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
        const stats = statsOf(daemon.daemon, followerIndex);
        expect(stats.fatal_exception, 'fatal_exception').to.equal(undefined);
        expect(stats.status).to.equal('active');
        // The outages were really seen by the follow, as retried read failures.
        expect(stats.shards.reduce((sum, s) => sum + s.failed_read_requests, 0), 'failed_read_requests over all shards').to.be.greaterThan(0);
        for (const s of stats.shards) {
          for (const e of s.read_exceptions) expect(e.exception.type, JSON.stringify(e)).to.be.a('string').with.length.greaterThan(0);
        }
        // Capped at 200 ms, a request retries several times a second for the whole outage; an uncapped
        // exponential backoff (50 ms · 2^n) would make only about log2(outage / 50 ms) attempts.
        const longest = Math.max(...outages);
        expect(maxRetries, `longest retry streak during a ${longest} ms outage`).to.be.at.least(Math.floor(longest / 1000));
      });

      it('pauses, naming the uuid change, when the leader index is deleted and created again, and takes nothing from the new one', async function () {
        const { leader, follower } = fx;
        const { leaderIndex, followerIndex, key } = fx.indexNames();
        await createLeaderIndex(leader, leaderIndex);
        const oldWorkload = new RandomWorkload(leader, leaderIndex, { seed: 102, ids: 3000, routedShare: 0.3 });
        await oldWorkload.run(3);
        // Frequent delete reconciliation: a shard that compared its counts with the new leader index
        // would find the follower holding more documents and delete them.
        await daemon.daemon.manager.follow({
          leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex, params: { reconcile_interval: '200ms' },
        });
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
        const oldDocuments = await indexDocuments(leader, leaderIndex);
        const oldCheckpoints = statsOf(daemon.daemon, followerIndex).shards.map((s) => s.follower_global_checkpoint);
        const oldUuid = await leader.indexUuid(leaderIndex);

        // Same name, same shards and mapping, a new history: fewer distinct documents (fewer than the
        // follower holds) written more often, so every shard soon has more operations than the
        // follower applied from the old index and each would be read by a follow that did not check.
        const faultStarted = Date.now();
        await leader.deleteIndex(leaderIndex);
        await createLeaderIndex(leader, leaderIndex);
        const recreated = Date.now();
        const newUuid = await leader.indexUuid(leaderIndex);
        expect(newUuid).to.not.equal(oldUuid);
        const newWorkload = new RandomWorkload(leader, leaderIndex, { seed: 103, ids: 150, routedShare: 0.3 });
        writer = new LeaderWriter(newWorkload);

        const pausedOnce = await waitForFatalPause(key);
        const firstPause = Date.now();
        let info = pausedOnce;
        console.log(`      ${pairTitle(flavors)} first pause ${firstPause - recreated} ms after the re-creation: ${info.fatal_exception!.type}: ${info.fatal_exception!.reason}`);
        if (!/was deleted and created again/.test(info.fatal_exception!.reason)) {
          // The follow saw the index missing between the delete and the create (a plain
          // index_not_found pause, as when the leader is only deleted; its reason may name the
          // failed uuid read, so "uuid" alone does not tell). Resuming must then notice that the
          // index now under that name is another one.
          expect(info.fatal_exception!.type).to.equal('index_not_found_exception');
          await daemon.daemon.manager.resume(key);
          info = await waitForFatalPause(key);
        }
        const detected = Date.now();
        console.log(`      ${pairTitle(flavors)} CONVERGED (paused naming the uuid change) ${detected - recreated} ms after the re-creation `
          + `(${detected - faultStarted} ms after the delete): ${info.fatal_exception!.reason}`);
        expect(info.fatal_exception!.reason).to.include(oldUuid).and.to.include(newUuid).and.to.match(/uuid/);
        expect(statsOf(daemon.daemon, followerIndex).status).to.equal('paused');

        // Let the new index overtake the old checkpoints on every shard, then check nothing moved.
        await waitFor(async () => {
          const now = await leader.shardSeqNos(leaderIndex);
          return now.every((s) => s.globalCheckpoint > (oldCheckpoints[s.shard] ?? 0) + 50);
        }, { timeoutMs: 120_000, intervalMs: 200, message: () => `the new leader index to pass the old checkpoints ${JSON.stringify(oldCheckpoints)}` });
        // A resume with the new index in place is refused for the same reason.
        await daemon.daemon.manager.resume(key);
        const again = await waitForFatalPause(key);
        expect(again.fatal_exception!.reason).to.include(oldUuid).and.to.include(newUuid);
        await expectStaysTrue(async () => infoOf(key).status === 'paused', 1_000, 'the follower to stay paused');
        await writer.stop();
        writer = undefined;

        // The follower holds exactly the old leader index's documents: none of the new index, none deleted.
        expect(await compareWithDocuments(oldDocuments, follower, followerIndex)).to.deep.equal([]);
      });

      it('detects a leader index deleted and created again while the daemon was down, at its next start', async () => {
        const { pair, leader, follower } = fx;
        const { leaderIndex, followerIndex, key } = fx.indexNames();
        await createLeaderIndex(leader, leaderIndex);
        await new RandomWorkload(leader, leaderIndex, { seed: 104, ids: 500, routedShare: 0.3 }).run(2);
        // A daemon of its own: it is stopped and started again on the same state directory.
        let own = await startTestDaemon({ ...pair, logger });
        try {
          await own.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex, params: {} });
          await waitForCaughtUp(own.daemon, leader, leaderIndex, followerIndex);
          const oldDocuments = await indexDocuments(leader, leaderIndex);
          const oldUuid = await leader.indexUuid(leaderIndex);
          await own.stop();

          await leader.deleteIndex(leaderIndex);
          await createLeaderIndex(leader, leaderIndex);
          await new RandomWorkload(leader, leaderIndex, { seed: 105, ids: 100, routedShare: 0.3 }).run(2);
          const newUuid = await leader.indexUuid(leaderIndex);

          const restarted = Date.now();
          own = await startTestDaemon({ ...pair, stateDir: own.stateDir, logger });
          const paused = await waitFor(() => {
            const info = own.daemon.manager.info(key)[0];
            return info?.status === 'paused' && info.fatal_exception ? info : false;
          }, { timeoutMs: 60_000, intervalMs: 50, message: () => `${key} to pause after the restart (info: ${JSON.stringify(own.daemon.manager.info(key))})` });
          console.log(`      ${pairTitle(flavors)} paused ${Date.now() - restarted} ms after the daemon restart: ${paused.fatal_exception!.reason}`);
          expect(paused.fatal_exception!.reason).to.include(oldUuid).and.to.include(newUuid);
          expect(await compareWithDocuments(oldDocuments, follower, followerIndex)).to.deep.equal([]);
        } finally {
          await own.stop().catch(() => undefined); // already stopped when the second start failed
        }
      });

      async function waitForFatalPause(key: string, timeoutMs = 60_000): Promise<FollowerInfo> {
        return waitFor(() => {
          const info = infoOf(key);
          return info.status === 'paused' && info.fatal_exception ? info : false;
        }, { timeoutMs, intervalMs: 50, message: () => `${key} to be paused with a fatal_exception (info: ${JSON.stringify(infoOf(key))})` });
      }
    });
  }
});

/** What a stalled follow was doing, for a timeout message (the log may not reach a CI summary). */
function followState(daemon: TestDaemon, followerIndex: string): string {
  const stats = statsOf(daemon.daemon, followerIndex);
  const shards = stats.shards.map((s) => ({
    shard: s.shard_id, state: s.state, leader_gcp: s.leader_global_checkpoint, follower_gcp: s.follower_global_checkpoint, requested: s.last_requested_seq_no,
    reads: s.outstanding_read_requests, writes: s.outstanding_write_requests, buffer: s.write_buffer_operation_count, since_read_ms: s.time_since_last_read_millis,
    last_read_exception: s.read_exceptions.at(-1), last_write_exception: s.write_exceptions.at(-1),
  }));
  return JSON.stringify({ status: stats.status, fatal_exception: stats.fatal_exception, shards });
}

function sumCheckpoints(daemon: TestDaemon, followerIndex: string): number {
  return statsOf(daemon.daemon, followerIndex).shards.reduce((sum, s) => sum + s.follower_global_checkpoint, 0);
}
