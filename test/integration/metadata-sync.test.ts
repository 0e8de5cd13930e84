/**
 * The follower's settings and aliases follow the leader's — dynamic settings, a new analyzer
 * (static: close, update, reopen), aliases with filters (never a write index) — while cluster-local
 * settings such as replicas stay the follower's own.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import { uniqueName } from '../helpers/clusters.js';
import { FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import {
  compareIndices, createLeaderIndex, statsOf, waitForCaughtUp,
} from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';


describe('keeping follower metadata in step', function () {
  this.timeout(300_000);

  for (const flavors of FLAVOR_PAIRS) {
    describe(pairTitle(flavors), () => {
      const pair = useFollowPair(flavors);
      let leaderIndex: string;
      let followerIndex: string;

      before(async () => {
        leaderIndex = uniqueName('leader');
        followerIndex = uniqueName('follower');
        await createLeaderIndex(pair.leader, leaderIndex, { mappings: { properties: { title: { type: 'text' }, n: { type: 'integer' } } } });
        await pair.leader.writeDocuments(leaderIndex, [{ op: 'index', id: 'a', source: { title: 'first', n: 1 } }]);
        await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
      });

      const followerSettings = async (): Promise<Readonly<Record<string, unknown>>> => (await pair.follower.indexMetadata(followerIndex)).settings;

      it('copies a dynamic setting changed on the leader, but never number_of_replicas', async () => {
        const replicasBefore = (await followerSettings())['index.number_of_replicas'];
        await pair.leader.putSettings(leaderIndex, { 'index.max_result_window': 12345, 'index.number_of_replicas': 3 });
        await waitFor(async () => (await followerSettings())['index.max_result_window'] === '12345', {
          timeoutMs: 30_000, message: 'index.max_result_window to reach the follower',
        });
        expect((await followerSettings())['index.number_of_replicas']).to.equal(replicasBefore);
        const versions = statsOf(pair.daemon, followerIndex).shards[0]!;
        expect(versions.follower_settings_version).to.be.greaterThan(0);
        expect(versions.follower_mapping_version).to.be.greaterThan(0);
        expect(versions.follower_aliases_version).to.be.greaterThan(0);
      });

      it('applies a new analyzer (close, update, reopen) and replicates documents that use it with the same analysis', async () => {
        await pair.leader.closeIndex(leaderIndex);
        // Only server analysis here (the test zips lack analysis-common): a standard analyzer with its own stop word.
        await pair.leader.putSettings(leaderIndex, {
          'index.analysis.analyzer.no_gamma.type': 'standard',
          'index.analysis.analyzer.no_gamma.stopwords': ['gamma'],
        });
        await pair.leader.openIndex(leaderIndex);
        await pair.leader.putMapping(leaderIndex, { properties: { tags_text: { type: 'text', analyzer: 'no_gamma' } } });
        await pair.leader.writeDocuments(leaderIndex, [
          { op: 'index', id: 'w1', source: { tags_text: 'Alpha GAMMA' } },
          { op: 'index', id: 'w2', source: { tags_text: 'beta gamma' } },
        ]);
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        expect((await followerSettings())['index.analysis.analyzer.no_gamma.type']).to.equal('standard');
        const hits = async (client: ClusterClient, index: string, term: string): Promise<string[]> => {
          await client.refresh(index);
          const res = await client.raw<{ hits: { hits: { _id: string }[] } }>('search', {
            method: 'POST', path: `/${index}/_search`, body: { query: { term: { tags_text: term } } },
          });
          return res.body.hits.hits.map((h) => h._id).sort();
        };
        // "gamma" is a stop word of the replicated analyzer: found nowhere; "alpha" is found as on the leader.
        expect(await hits(pair.follower, followerIndex, 'gamma')).to.deep.equal(await hits(pair.leader, leaderIndex, 'gamma')).and.to.deep.equal([]);
        expect(await hits(pair.follower, followerIndex, 'alpha')).to.deep.equal(await hits(pair.leader, leaderIndex, 'alpha')).and.to.deep.equal(['w1']);
        expect(statsOf(pair.daemon, followerIndex).fatal_exception).to.equal(undefined);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
      });

      it('replicates an alias with its filter as a non-write alias, and removes it when the leader does', async () => {
        const alias = `${leaderIndex}-recent`;
        await pair.leader.updateAliases([{ add: { index: leaderIndex, alias, filter: { range: { n: { gte: 1 } } }, is_write_index: true } }]);
        const followerAlias = async (): Promise<Record<string, unknown> | undefined> =>
          (await pair.follower.indexMetadata(followerIndex)).aliases[alias] as Record<string, unknown> | undefined;
        const added = await waitFor(followerAlias, { timeoutMs: 30_000, message: 'the alias on the follower' });
        expect(added).to.have.nested.property('filter.range.n.gte', 1);
        expect(added['is_write_index']).to.equal(false);
        await pair.leader.updateAliases([{ remove: { index: leaderIndex, alias } }]);
        await waitFor(async () => (await followerAlias()) === undefined, { timeoutMs: 30_000, message: 'the alias to be removed from the follower' });
      });
    });
  }
});
