/**
 * Issue 6, tests 1, 2, 3 and 5: the follower's settings and aliases follow the leader's —
 * dynamic settings, a new analyzer (static: close, update, reopen), aliases with filters (never a
 * write index) — while cluster-local settings such as replicas stay the follower's own.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { Flavor } from '../../src/cluster/types.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import {
  compareIndices, connect, createLeaderIndex, startTestDaemon, statsOf, waitForCaughtUp, type TestDaemon,
} from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const PAIRS: readonly (readonly [Flavor, Flavor])[] = [
  ['elasticsearch', 'elasticsearch'], ['opensearch', 'opensearch'], ['elasticsearch', 'opensearch'], ['opensearch', 'elasticsearch'],
];
const short = (f: Flavor): string => (f === 'elasticsearch' ? 'ES' : 'OS');

describe('keeping follower metadata in step', function () {
  this.timeout(300_000);

  for (const [leaderFlavor, followerFlavor] of PAIRS) {
    describe(`${short(leaderFlavor)} → ${short(followerFlavor)}`, () => {
      let daemon: TestDaemon;
      let leader: ClusterClient;
      let follower: ClusterClient;
      let leaderIndex: string;
      let followerIndex: string;

      before(async () => {
        const pair = (await testClusters()).pair(leaderFlavor, followerFlavor);
        daemon = await startTestDaemon(pair);
        [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
        leaderIndex = uniqueName('leader');
        followerIndex = uniqueName('follower');
        await createLeaderIndex(leader, leaderIndex, { mappings: { properties: { title: { type: 'text' }, n: { type: 'integer' } } } });
        await leader.writeDocuments(leaderIndex, [{ op: 'index', id: 'a', source: { title: 'first', n: 1 } }]);
        await daemon.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
      });

      after(async () => {
        await daemon?.stop();
        await Promise.all([leader?.close(), follower?.close()]);
      });

      const followerSettings = async (): Promise<Readonly<Record<string, unknown>>> => (await follower.indexMetadata(followerIndex)).settings;

      it('copies a dynamic setting changed on the leader, but never number_of_replicas', async () => {
        const replicasBefore = (await followerSettings())['index.number_of_replicas'];
        await leader.putSettings(leaderIndex, { 'index.max_result_window': 12345, 'index.number_of_replicas': 3 });
        await waitFor(async () => (await followerSettings())['index.max_result_window'] === '12345', {
          timeoutMs: 30_000, message: 'index.max_result_window to reach the follower',
        });
        expect((await followerSettings())['index.number_of_replicas']).to.equal(replicasBefore);
        const versions = statsOf(daemon.daemon, followerIndex).shards[0]!;
        expect(versions.follower_settings_version).to.be.greaterThan(0);
        expect(versions.follower_mapping_version).to.be.greaterThan(0);
        expect(versions.follower_aliases_version).to.be.greaterThan(0);
      });

      it('applies a new analyzer (close, update, reopen) and replicates documents that use it with the same analysis', async () => {
        await leader.closeIndex(leaderIndex);
        // Only server analysis here (the test zips lack analysis-common): a standard analyzer with its own stop word.
        await leader.putSettings(leaderIndex, {
          'index.analysis.analyzer.no_gamma.type': 'standard',
          'index.analysis.analyzer.no_gamma.stopwords': ['gamma'],
        });
        await leader.openIndex(leaderIndex);
        await leader.putMapping(leaderIndex, { properties: { tags_text: { type: 'text', analyzer: 'no_gamma' } } });
        await leader.writeDocuments(leaderIndex, [
          { op: 'index', id: 'w1', source: { tags_text: 'Alpha GAMMA' } },
          { op: 'index', id: 'w2', source: { tags_text: 'beta gamma' } },
        ]);
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
        expect((await followerSettings())['index.analysis.analyzer.no_gamma.type']).to.equal('standard');
        const hits = async (client: ClusterClient, index: string, term: string): Promise<string[]> => {
          await client.refresh(index);
          const res = await client.raw<{ hits: { hits: { _id: string }[] } }>('search', {
            method: 'POST', path: `/${index}/_search`, body: { query: { term: { tags_text: term } } },
          });
          return res.body.hits.hits.map((h) => h._id).sort();
        };
        // "gamma" is a stop word of the replicated analyzer: found nowhere; "alpha" is found as on the leader.
        expect(await hits(follower, followerIndex, 'gamma')).to.deep.equal(await hits(leader, leaderIndex, 'gamma')).and.to.deep.equal([]);
        expect(await hits(follower, followerIndex, 'alpha')).to.deep.equal(await hits(leader, leaderIndex, 'alpha')).and.to.deep.equal(['w1']);
        expect(statsOf(daemon.daemon, followerIndex).fatal_exception).to.equal(undefined);
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
      });

      it('replicates an alias with its filter as a non-write alias, and removes it when the leader does', async () => {
        const alias = `${leaderIndex}-recent`;
        await leader.updateAliases([{ add: { index: leaderIndex, alias, filter: { range: { n: { gte: 1 } } }, is_write_index: true } }]);
        const followerAlias = async (): Promise<Record<string, unknown> | undefined> =>
          (await follower.indexMetadata(followerIndex)).aliases[alias] as Record<string, unknown> | undefined;
        const added = await waitFor(followerAlias, { timeoutMs: 30_000, message: 'the alias on the follower' });
        expect(added).to.have.nested.property('filter.range.n.gte', 1);
        expect(added['is_write_index']).to.equal(false);
        await leader.updateAliases([{ remove: { index: leaderIndex, alias } }]);
        await waitFor(async () => (await followerAlias()) === undefined, { timeoutMs: 30_000, message: 'the alias to be removed from the follower' });
      });
    });
  }
});
