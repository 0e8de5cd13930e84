/**
 * `ccr-follow failback` through the real CLI, Elasticsearch 8 → OpenSearch 2 and OpenSearch 2 →
 * Elasticsearch 8: the follow is cut (paused) so the leader's last writes never reach the follower,
 * the leader node stops, the follower is promoted without it and written to, the leader node comes
 * back, the old leader is written to as well (lost writes), and fail-back makes
 * the old leader follow the promoted index writing only the difference: in the end it is equal to
 * the promoted index document by document, and the lost-writes file holds exactly the old
 * leader's writes that never reached the follower. Also: a document whose internal version on the
 * old leader is above the external version the fail-back writes, and the refusals.
 */
import { readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { DocumentWrite } from '../../src/cluster/types.js';
import type { FailbackAnswer } from '../../src/follow/follow-manager.js';
import { runCli } from '../helpers/cli-process.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import { compareIndices, countDocs, createLeaderIndex, indexSnapshot, RandomWorkload, sumOf, waitForCaughtUp } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const DOCS = 20_000;
const routingOf = (n: number): string | undefined => (n % 10 === 0 ? `r${n % 7}` : undefined);

async function writeRange(client: ClusterClient, index: string, from: number, to: number, tag: string): Promise<void> {
  for (let start = from; start < to; start += 2000) {
    const docs: DocumentWrite[] = [];
    for (let n = start; n < Math.min(to, start + 2000); n += 1) {
      const routing = routingOf(n);
      docs.push({ op: 'index', id: `doc-${n}`, ...(routing === undefined ? {} : { routing }), source: { n, tag, text: 'y'.repeat(n % 50) } });
    }
    await client.writeDocuments(index, docs);
  }
}

function ops(kind: 'index' | 'delete', ids: readonly number[], tag: string): DocumentWrite[] {
  return ids.map((n) => {
    const routing = routingOf(n);
    return kind === 'delete'
      ? { op: 'delete', id: `doc-${n}`, ...(routing === undefined ? {} : { routing }) }
      : { op: 'index', id: `doc-${n}`, ...(routing === undefined ? {} : { routing }), source: { n, tag } };
  });
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

for (const flavors of [['elasticsearch', 'opensearch'], ['opensearch', 'elasticsearch']] as const) {
  describe(`ccr-follow failback, ${pairTitle(flavors)}`, function () {
    this.timeout(600_000);
    const pair = useFollowPair(flavors);

    it('makes the old leader follow the promoted index by difference, saving the lost writes', async () => {
      const leaderIndex = uniqueName('leader');
      const followerIndex = uniqueName('follower');
      pair.track('leader', leaderIndex);
      pair.track('follower', followerIndex);
      await createLeaderIndex(pair.leader, leaderIndex);
      // Written first, so its seq_no (and the external version the follow gives it) is low.
      await pair.leader.writeDocuments(leaderIndex, [{ op: 'index', id: 'hot', source: { n: -1, tag: 'first' } }]);
      await writeRange(pair.leader, leaderIndex, 0, DOCS, 'initial');
      await new RandomWorkload(pair.leader, leaderIndex, { seed: 27, ids: DOCS, deleteShare: 0.2, routedShare: 0 }).run(10);
      // The ids this test changes below exist on both sides at promotion, whatever the workload did to them.
      await writeRange(pair.leader, leaderIndex, 0, 5000, 'reset');
      await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
      await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);

      // The follow is cut: what the leader writes now never reaches the follower.
      await pair.daemon.manager.pause(`follower/${followerIndex}`);
      const hotUpdates: DocumentWrite[] = range(0, 1000).map((i) => ({ op: 'index', id: 'hot', source: { n: -1, tag: `hot-${i}` } }));
      for (let round = 0; round < 5; round += 1) await pair.leader.writeDocuments(leaderIndex, hotUpdates);
      const oldUpdated = range(100, 40); // updates of documents both sides have
      const oldCreated = range(30_000, 15); // new on the old leader only
      const oldDeleted = range(200, 12); // deletes on the old leader only
      await pair.leader.writeDocuments(leaderIndex, [...ops('index', oldUpdated, 'old-side'), ...ops('index', oldCreated, 'old-side'), ...ops('delete', oldDeleted, 'old-side')]);

      // The leader's data centre fails: its node stops, and the follower is promoted without it.
      const clusters = await testClusters();
      const leaderNode = flavors[0] === 'elasticsearch' ? clusters.esLeader : clusters.osLeader;
      await leaderNode.stop();
      try {
        const promoted = await runCli(['--url', pair.daemon.url, 'promote', `follower/${followerIndex}`, '--json'], { timeoutMs: 120_000 });
        expect(promoted.code, promoted.stderr).to.equal(0);
      } finally {
        await leaderNode.start();
      }

      // The promoted index takes writes: new ids, updates, deletes (none of the old leader's ids above).
      await pair.follower.writeDocuments(followerIndex, [
        ...ops('index', range(40_000, 150), 'promoted-new'), ...ops('index', range(1000, 150), 'promoted-update'), ...ops('delete', range(2000, 60), 'x'),
      ]);
      // The old leader took more writes after the promotion, too.
      const laterUpdated = range(3000, 10);
      await pair.leader.writeDocuments(leaderIndex, ops('index', laterUpdated, 'old-side-later'));
      await pair.leader.refresh(leaderIndex);
      const hot = (await pair.leader.multiGet(leaderIndex, [{ id: 'hot', routing: undefined }], false))[0]!;
      expect(hot.version, 'internal version of the hot document on the old leader').to.be.at.least(5000);

      const dir = await mkdtemp(join(tmpdir(), 'ccr-failback-'));
      const dryFile = join(dir, 'dry.ndjson');
      const before = await indexSnapshot(pair.leader, leaderIndex);
      const dry = await runCli(['--url', pair.daemon.url, 'failback', `follower/${followerIndex}`, `leader/${leaderIndex}`, '--dry-run', '--lost-writes', dryFile, '--json'], { timeoutMs: 180_000 });
      expect(dry.code, dry.stderr).to.equal(0);
      const plan = JSON.parse(dry.stdout) as FailbackAnswer;
      const expectedLost = new Set(['hot', ...[...oldUpdated, ...oldCreated, ...oldDeleted, ...laterUpdated].map((n) => `doc-${n}`)]);
      expect(plan.dry_run).to.equal(true);
      expect(plan.lost_writes).to.equal(expectedLost.size);
      expect(sumOf(plan.shards, (s) => s.copied), 'promoted documents changed after promotion').to.equal(300);
      expect(sumOf(plan.shards, (s) => s.deleted), 'deleted on the promoted index, or created on the old leader only').to.equal(60 + oldCreated.length);
      expect(sumOf(plan.shards, (s) => s.put_back)).to.equal(1 + oldUpdated.length + laterUpdated.length + oldDeleted.length);
      // A dry run changes nothing.
      expect(await indexSnapshot(pair.leader, leaderIndex)).to.deep.equal(before);
      expect(pair.daemon.manager.has(`leader/${leaderIndex}`)).to.equal(false);

      const file = join(dir, 'lost.ndjson');
      const run = await runCli(['--url', pair.daemon.url, 'failback', `follower/${followerIndex}`, `leader/${leaderIndex}`, '--lost-writes', file], { timeoutMs: 180_000 });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.contain(`${expectedLost.size} lost write(s), saved to ${file}`);

      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(new Set(lines.map((l) => l._id))).to.deep.equal(expectedLost);
      const byId = new Map(lines.map((l) => [l._id, l]));
      expect(byId.get('hot')).to.include({ failback: 'put_back', deleted_on_old_leader: false });
      expect(byId.get('hot')!._version).to.be.at.least(5000);
      expect((byId.get('hot')!._source as { tag: string }).tag).to.equal('hot-999');
      expect(byId.get(`doc-${oldCreated[0]}`)).to.include({ failback: 'deleted', deleted_on_old_leader: false });
      expect(byId.get(`doc-${oldDeleted[0]}`)).to.include({ failback: 'restored', deleted_on_old_leader: true, _source: null });
      expect((byId.get(`doc-${oldUpdated[0]}`)!._source as { tag: string }).tag).to.equal('old-side');

      // The old leader is an ordinary follower now, and ends equal to the promoted index.
      expect(pair.daemon.manager.has(`leader/${leaderIndex}`)).to.equal(true);
      await pair.follower.writeDocuments(followerIndex, ops('index', range(50_000, 20), 'after-failback'));
      let last: string[] = [];
      const diffs = await waitFor(async () => {
        last = await compareIndices(pair.follower, followerIndex, pair.leader, leaderIndex);
        return last.length === 0 ? last : false;
      }, { timeoutMs: 120_000, intervalMs: 1000, message: () => `the old leader to equal the promoted index: ${last.join('; ')}` });
      expect(diffs).to.deep.equal([]);
      expect((await pair.leader.multiGet(leaderIndex, [{ id: 'hot', routing: undefined }], true))[0]!.sourceJson).to.contain('"first"');

      // Only the difference was written into the old leader: its operations since, against the index.
      const after = await indexSnapshot(pair.leader, leaderIndex);
      const written = sumOf(after.maxSeqNos, (s) => s) - sumOf(before.maxSeqNos, (s) => s);
      const docs = await countDocs(pair.follower, followerIndex);
      expect(written, `operations written into the old leader (of ${docs} documents)`).to.be.below(docs * 0.1);
      const stats = pair.daemon.manager.stats(`leader/${leaderIndex}`)[0]!;
      expect(stats.shards.every((s) => s.fatal_exception === undefined)).to.equal(true);
      expect(stats.failback?.lost_writes, 'the lost writes, kept in stats').to.equal(expectedLost.size);
      // Only foreign writes count as such: the old leader's own history before the fail-back is not judged.
      expect(stats.foreign_writes_detected).to.equal(0);
    });
  });
}

describe('ccr-follow failback: refusals', function () {
  this.timeout(600_000);
  const pair = useFollowPair(['elasticsearch', 'opensearch']);

  it('refuses without a promotion record, or with an old leader index created again, changing nothing', async () => {
    const leaderIndex = uniqueName('leader');
    const followerIndex = uniqueName('follower');
    pair.track('leader', leaderIndex);
    pair.track('follower', followerIndex);
    await createLeaderIndex(pair.leader, leaderIndex);
    await writeRange(pair.leader, leaderIndex, 0, 50, 'initial');
    await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
    await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);

    const none = await runCli(['--url', pair.daemon.url, 'failback', `follower/${followerIndex}`, `leader/${leaderIndex}`]);
    expect(none.code).to.equal(1);
    expect(none.stderr).to.contain(`[follower/${followerIndex}] is still a follower index`);

    await pair.daemon.manager.promote(`follower/${followerIndex}`);
    const other = uniqueName('leader');
    pair.track('leader', other);
    await createLeaderIndex(pair.leader, other);
    const wrongPair = await runCli(['--url', pair.daemon.url, 'failback', `follower/${followerIndex}`, `leader/${other}`]);
    expect(wrongPair.code).to.equal(1);
    expect(wrongPair.stderr).to.contain('no promotion record for this pair');

    // The old leader index deleted and created again: another history.
    await pair.leader.deleteIndex(leaderIndex);
    await createLeaderIndex(pair.leader, leaderIndex);
    const replaced = await runCli(['--url', pair.daemon.url, 'failback', `follower/${followerIndex}`, `leader/${leaderIndex}`]);
    expect(replaced.code).to.equal(1);
    expect(replaced.stderr).to.match(/has index uuid \[[^\]]+\], not \[[^\]]+\] as when it was followed/);
    const settings = await pair.leader.indexMetadata(leaderIndex);
    expect(settings.settings['index.blocks.write'], 'no write block was left').to.equal(undefined);
    expect(pair.daemon.manager.has(`leader/${leaderIndex}`)).to.equal(false);
  });
});
