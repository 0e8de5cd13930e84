/**
 * A 3-shard leader receiving a randomized stream of index and update operations (custom routing,
 * documents rewritten many times) while it is followed, starting from a non-empty index, ends
 * identical on the follower — for every flavor pair, and with the leader's refresh_interval at -1
 * (visibility guaranteed by ccr-follow, not by the leader).
 */
import { expect } from 'chai';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import {
  compareIndices, createLeaderIndex, RandomWorkload, statsOf, waitForCaughtUp,
} from '../helpers/replication.js';

describe('following an index under concurrent writes', function () {
  this.timeout(300_000);

  for (const flavors of FLAVOR_PAIRS) {
    describe(pairTitle(flavors), () => {
      const pair = useFollowPair(flavors);

      it('ends with exactly the leader\'s documents, compared shard by shard', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(pair.leader, leaderIndex);
        const workload = new RandomWorkload(pair.leader, leaderIndex, { seed: 42, ids: 1500, routedShare: 0.3 });
        await workload.run(10); // a non-empty index before the follow starts: the bootstrap copy

        const started = Date.now();
        await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await workload.run(25); // …and writes while it is followed
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        console.log(`      ${workload.operations} operations; caught up ${Date.now() - started} ms after the follow started`);

        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
        const stats = statsOf(pair.daemon, followerIndex);
        expect(stats.shards).to.have.length(3);
        expect(stats.fatal_exception).to.equal(undefined);
        expect(stats.operations_written).to.be.greaterThan(0);
      });

      it('passes every _source to the follower byte for byte (big integers, number spellings, escapes, non-ASCII)', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(pair.leader, leaderIndex);
        pair.track('leader', leaderIndex);
        pair.track('follower', followerIndex);
        const urls = (await testClusters()).pair(...flavors);
        // What JSON.parse + JSON.stringify would change: precision past 2^53, 1.50, 1E+3, escapes, spacing.
        const sources = [
          '{"big":9007199254740993,"price":1.50,"exp":1E+3}',
          '{"text":"quote \\" backslash \\\\ tab \\t \\u00e9 é 日本 😀","nested":{"a":[1, 2 ,3],"b":{"c":null}}}',
          '{ "spaced" : true ,\n "neg": -0.0 }',
        ];
        const body = sources.map((source, i) => `{"index":{"_id":"raw-${i}"}}\n${source.replace(/\n/g, ' ')}\n`).join('');
        const written = await fetch(`${urls.leader.url}/${leaderIndex}/_bulk?refresh=true&filter_path=errors,items.*.error`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
        expect(written.status).to.equal(200);
        const answer = await written.text();
        expect(answer, 'every document was indexed').to.match(/^\{"errors":false/);
        await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        for (const [i, source] of sources.entries()) {
          const stored = async (url: string, index: string): Promise<string> => {
            const text = await (await fetch(`${url}/${index}/_doc/raw-${i}`)).text();
            // `_source` is the last member of a GET answer: its text runs to the final brace.
            return text.slice(text.indexOf('"_source":') + '"_source":'.length, -1);
          };
          const onLeader = await stored(urls.leader.url, leaderIndex);
          expect(onLeader, 'the leader stores what was written').to.equal(source.replace(/\n/g, ' '));
          expect(await stored(urls.follower.url, followerIndex), `document raw-${i}`).to.equal(onLeader);
        }
      });

      it('guarantees visibility itself when the leader never refreshes (refresh_interval -1)', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(pair.leader, leaderIndex, { refreshInterval: '-1' });
        const workload = new RandomWorkload(pair.leader, leaderIndex, { seed: 7, ids: 800 });
        await workload.run(5);
        await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await workload.run(10);
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
      });
    });
  }
});
