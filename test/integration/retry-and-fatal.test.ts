/**
 * Errors (docs/architecture.md, shard step 9): recoverable errors are retried with capped backoff
 * and replication converges once they clear; anything else pauses the follower index with
 * `fatal_exception`, and a resume continues from the persisted checkpoint once the cause is gone. A
 * follower index deleted under a running follow must pause it too, not be re-created by the next
 * bulk write (auto-create) with one shard and a dynamic mapping.
 *
 * Retries through leader node restarts (three of them, with the capped backoff checked), and a
 * leader index deleted and created again under its name, are in faults-leader.test.ts.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { FollowerInfo } from '../../src/follow/follow-manager.js';
import { memoryLogger, type MemoryLogger } from '../../src/util/logger.js';
import { testClusters, uniqueName, type TestCluster } from '../helpers/clusters.js';
import {
  compareIndices, connect, createLeaderIndex, RandomWorkload, startTestDaemon, statsOf, waitForCaughtUp, type TestDaemon, countDocs, indexSnapshot, sumOf, expectStaysTrue, printRecentLog,
} from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

describe('retries and fatal errors (ES → ES)', function () {
  this.timeout(300_000);

  let pair: { leader: TestCluster; follower: TestCluster };
  let daemon: TestDaemon;
  let logger: MemoryLogger;
  let leader: ClusterClient;
  let follower: ClusterClient;
  const created: { client: () => ClusterClient; index: string }[] = [];

  before(async () => {
    const clusters = await testClusters();
    pair = clusters.pair('elasticsearch', 'elasticsearch');
    logger = memoryLogger();
    daemon = await startTestDaemon({ ...pair, logger });
    [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      printRecentLog(logger);
    }
    logger.clear();
  });

  after(async () => {
    await daemon?.stop();
    for (const { client, index } of created) {
      await client().deleteIndex(index).catch(() => undefined); // best effort: the leader index of test b is already gone
    }
    await Promise.all([leader?.close(), follower?.close()]);
  });

  /** Names for one test, remembered for cleanup. */
  function indexNames(): { leaderIndex: string; followerIndex: string; key: string } {
    const leaderIndex = uniqueName('leader');
    const followerIndex = uniqueName('follower');
    created.push({ client: () => leader, index: leaderIndex }, { client: () => follower, index: followerIndex });
    return { leaderIndex, followerIndex, key: `follower/${followerIndex}` };
  }

  function infoOf(key: string): FollowerInfo {
    const info = daemon.daemon.manager.info(key)[0];
    if (!info) throw new Error(`no info for ${key}`);
    return info;
  }

  async function waitForFatalPause(key: string, timeoutMs = 60_000): Promise<FollowerInfo> {
    return waitFor(() => {
      const info = infoOf(key);
      return info.status === 'paused' && info.fatal_exception ? info : false;
    }, { timeoutMs, intervalMs: 200, message: () => `${key} to be paused with a fatal_exception (info: ${JSON.stringify(infoOf(key))})` });
  }

  it('pauses the follower with fatal_exception when the leader index is deleted', async () => {
    const { leaderIndex, followerIndex, key } = indexNames();
    await createLeaderIndex(leader, leaderIndex);
    const workload = new RandomWorkload(leader, leaderIndex, { seed: 32, ids: 500 });
    await workload.run(3);
    await daemon.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
    await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
    await follower.refresh(followerIndex);
    const followerDocs = await countDocs(follower, followerIndex);

    await leader.deleteIndex(leaderIndex);
    const info = await waitForFatalPause(key);
    console.log(`      fatal_exception: ${info.fatal_exception!.type}: ${info.fatal_exception!.reason}`);
    expect(info.fatal_exception!.type).to.equal('index_not_found_exception');
    expect(info.fatal_exception!.reason).to.include(leaderIndex);
    expect(Number.isNaN(Date.parse(info.fatal_exception!.at)), `at: ${info.fatal_exception!.at}`).to.equal(false);

    const stats = statsOf(daemon.daemon, followerIndex);
    expect(stats.status).to.equal('paused');
    expect(stats.state).to.equal('paused');
    expect(stats.fatal_exception?.type).to.equal('index_not_found_exception');
    expect(stats.shards.every((s) => s.state === 'stopped' || s.state === 'failed'), JSON.stringify(stats.shards.map((s) => s.state))).to.equal(true);
    // The follower index and its data stay: a paused follower is never cleaned up behind the user's back.
    await follower.refresh(followerIndex);
    expect(await countDocs(follower, followerIndex)).to.equal(followerDocs);
    // A resume with the leader still gone fails again, for the same reason.
    await daemon.daemon.manager.resume(key);
    const again = await waitForFatalPause(key);
    expect(again.fatal_exception!.type).to.equal('index_not_found_exception');
  });

  it('pauses with fatal_exception when the follower index is deleted, rather than writing into an auto-created index', async () => {
    const { leaderIndex, followerIndex, key } = indexNames();
    await createLeaderIndex(leader, leaderIndex);
    const workload = new RandomWorkload(leader, leaderIndex, { seed: 34, ids: 500 });
    await workload.run(3);
    // Delete reconciliation also notices a missing follower index (it refreshes and counts it), but
    // only now and then: let every shard finish its first pass, so that the next one is an hour away
    // and only the replication path itself is left to notice.
    await daemon.daemon.manager.follow({
      leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex, params: { reconcile_interval: '1h' },
    });
    await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
    await waitFor(() => statsOf(daemon.daemon, followerIndex).shards.every((s) => s.reconciliations >= 1 && s.outstanding_read_requests === 0),
      { timeoutMs: 30_000, message: 'the first delete reconciliation of every shard' });

    await follower.deleteIndex(followerIndex);
    await workload.run(2);
    const describeFollowerIndex = async (): Promise<string> => {
      if (!(await follower.indexExists(followerIndex))) return 'the follower index does not exist';
      const meta = await follower.indexMetadata(followerIndex);
      await follower.refresh(followerIndex);
      return `the follower index was re-created with ${meta.numberOfShards} shard(s) (the leader has 3), ` +
        `${await countDocs(follower, followerIndex)} documents, mapping ${JSON.stringify(meta.mappings)}`;
    };
    let state = '';
    const info = await waitFor(async () => {
      const i = infoOf(key);
      if (i.status === 'paused' && i.fatal_exception) return i;
      state = `status ${i.status}, lag ${statsOf(daemon.daemon, followerIndex).total_global_checkpoint_lag}; ${await describeFollowerIndex()}`;
      return false;
    }, { timeoutMs: 30_000, intervalMs: 500, message: () => `${key} to pause once its index is gone (${state})` });
    console.log(`      fatal_exception: ${info.fatal_exception!.type}: ${info.fatal_exception!.reason}`);
    expect(info.fatal_exception!.reason).to.include(followerIndex);
  });

  it('pauses when the follower rejects a document, and resume continues from the checkpoint once the cause is removed', async () => {
    const { leaderIndex, followerIndex, key } = indexNames();
    await createLeaderIndex(leader, leaderIndex);
    const workload = new RandomWorkload(leader, leaderIndex, { seed: 33, ids: 4000, batchSize: 500 });
    await workload.run(6);
    await daemon.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
    await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);

    // The follower may hold no more fields than it has now; the leader is not limited.
    const fields = countMappedFields((await follower.indexMetadata(followerIndex)).mappings);
    await follower.putSettings(followerIndex, { 'index.mapping.total_fields.limit': fields });
    await leader.writeDocuments(leaderIndex, Array.from({ length: 20 }, (_, i) => ({
      op: 'index' as const, id: `extra-${i}`, source: { n: i, extra_field: `value ${i}` },
    })));
    await workload.run(1);

    const info = await waitForFatalPause(key);
    console.log(`      fatal_exception: ${info.fatal_exception!.type}: ${info.fatal_exception!.reason}`);
    expect(info.fatal_exception!.type).to.equal('illegal_argument_exception');
    expect(info.fatal_exception!.reason).to.match(/limit of total fields/i);
    const paused = statsOf(daemon.daemon, followerIndex);
    expect(paused.state).to.equal('paused');
    expect(paused.shards.some((s) => s.fatal_exception?.type === 'illegal_argument_exception'), 'a shard reports the fatal exception').to.equal(true);

    // Nothing is applied while paused, however much the leader receives.
    const frozen = await indexSnapshot(follower, followerIndex);
    const leaderBefore = await leader.shardSeqNos(leaderIndex);
    await workload.run(1);
    await waitFor(async () => {
      const now = await leader.shardSeqNos(leaderIndex);
      return sumOf(now, (s) => s.globalCheckpoint) >= sumOf(leaderBefore, (s) => s.globalCheckpoint) + 500;
    }, { timeoutMs: 30_000, message: 'the leader global checkpoints to advance by 500 operations' });
    await expectStaysTrue(async () => JSON.stringify(await indexSnapshot(follower, followerIndex)) === JSON.stringify(frozen),
      2_000, 'the follower index to stay unchanged while paused');
    expect(infoOf(key).status).to.equal('paused');

    // Remove the cause and resume: only what lies above the checkpoints is read again.
    const checkpointsAtPause = new Map(paused.shards.map((s) => [s.shard_id, s.follower_global_checkpoint]));
    expect([...checkpointsAtPause.values()].every((cp) => cp >= 0), `checkpoints at pause ${JSON.stringify([...checkpointsAtPause])}`).to.equal(true);
    await follower.putSettings(followerIndex, { 'index.mapping.total_fields.limit': 1000 });
    const leaderAtResume = await leader.shardSeqNos(leaderIndex);
    await daemon.daemon.manager.resume(key);
    await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);

    expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
    const resumed = statsOf(daemon.daemon, followerIndex);
    expect(resumed.fatal_exception).to.equal(undefined);
    expect(infoOf(key).fatal_exception, 'fatal_exception cleared by resume').to.equal(undefined);
    const aboveCheckpoints = sumOf(leaderAtResume, (s) => s.globalCheckpoint - (checkpointsAtPause.get(s.shard) ?? -1));
    await leader.refresh(leaderIndex);
    const leaderDocs = await countDocs(leader, leaderIndex);
    console.log(`      after resume: ${resumed.operations_written} operations written; ${aboveCheckpoints} operations above the checkpoints; ${leaderDocs} documents`);
    expect(resumed.operations_written, 'operations written after resume').to.be.greaterThan(0);
    expect(resumed.operations_written, 'operations written after resume').to.be.at.most(aboveCheckpoints);
    expect(resumed.operations_written, 'operations written after resume').to.be.lessThan(leaderDocs);
  });
});

/** Fields as `index.mapping.total_fields.limit` counts them: every field, object and multi-field. */
function countMappedFields(mappings: Readonly<Record<string, unknown>>): number {
  const count = (properties: unknown): number => {
    let n = 0;
    for (const def of Object.values((properties ?? {}) as Record<string, Record<string, unknown>>)) {
      n += 1 + count(def['properties']) + count(def['fields']);
    }
    return n;
  };
  return count(mappings['properties']);
}
