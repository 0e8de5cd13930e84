/**
 * Every call the follower needs from the cluster layer, proven against a real Elasticsearch 8 and a
 * real OpenSearch 2 node.
 */
import { expect } from 'chai';
import { classify } from '../../src/cluster/classify.js';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { ExternalOp, Flavor } from '../../src/cluster/types.js';
import { followerCreationSettings } from '../../src/follow/index-settings.js';
import { testClusters, uniqueName, type TestCluster } from '../helpers/clusters.js';
import { connect, shardDocuments } from '../helpers/replication.js';

const FLAVORS: readonly Flavor[] = ['elasticsearch', 'opensearch'];

describe('cluster layer against real nodes', function () {
  this.timeout(120_000);

  for (const flavor of FLAVORS) {
    describe(flavor, () => {
      let node: TestCluster;
      let client: ClusterClient;

      before(async () => {
        const clusters = await testClusters();
        node = flavor === 'elasticsearch' ? clusters.esLeader : clusters.osLeader;
        client = await connect(node, 'leader');
      });

      after(() => client?.close());

      it('detects the flavor and version of the node', () => {
        expect(client.info.flavor).to.equal(flavor);
        expect(client.info.version).to.equal(node.version);
        console.log(`      ${flavor} ${client.info.version}`);
      });

      it('reads every primary shard\'s global checkpoint and max seq_no in one call', async () => {
        const index = uniqueName('seqno');
        await client.createIndex(index, { settings: { 'index.number_of_shards': 2, 'index.number_of_replicas': 0 }, mappings: {} });
        await client.writeDocuments(index, Array.from({ length: 30 }, (_, i) => ({ op: 'index' as const, id: `d${i}`, source: { i } })));
        const shards = await client.shardSeqNos(index);
        expect(shards.map((s) => s.shard)).to.deep.equal([0, 1]);
        // 30 new documents, no updates: the shards' seq_no histories hold exactly 30 operations.
        expect(shards.reduce((sum, s) => sum + s.maxSeqNo + 1, 0)).to.equal(30);
        for (const s of shards) expect(s.globalCheckpoint).to.equal(s.maxSeqNo);
      });

      it('searches one shard by _seq_no range, sorted, paged with search_after', async () => {
        const index = uniqueName('search');
        await client.createIndex(index, { settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 0 }, mappings: {} });
        await client.writeDocuments(index, Array.from({ length: 20 }, (_, i) => ({ op: 'index' as const, id: `d${i}`, routing: i % 2 === 0 ? 'even' : undefined, source: { i } })), { refresh: true });
        const seen: number[] = [];
        let after: number | undefined;
        for (let page = 0; page < 10; page += 1) {
          const hits = await client.searchShardBySeqNo(index, { shard: 0, fromExclusive: 4, toInclusive: 17, size: 5, searchAfter: after });
          seen.push(...hits.map((h) => h.seqNo));
          if (hits.length < 5) break;
          after = hits[hits.length - 1]!.seqNo;
        }
        expect(seen).to.deep.equal(Array.from({ length: 13 }, (_, i) => i + 5));
        const [hit] = await client.searchShardBySeqNo(index, { shard: 0, fromExclusive: -1, toInclusive: 0, size: 5 });
        expect(hit).to.include({ id: 'd0', routing: 'even', seqNo: 0 });
        expect(hit!.primaryTerm).to.be.greaterThan(0);
        expect(JSON.parse(hit!.sourceJson)).to.deep.equal({ i: 0 });
      });

      it('applies bulk writes with external versions: applied, already applied (409), failed with a reason', async () => {
        const index = uniqueName('bulk');
        await client.createIndex(index, { settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 0 }, mappings: { properties: { n: { type: 'integer' } } } });
        const op = (id: string, version: number, n: unknown): ExternalOp => ({ op: 'index', id, routing: undefined, version, sourceJson: JSON.stringify({ n }) });
        const first = await client.bulkExternal(index, [op('a', 5, 1), op('b', 0, 2)]);
        expect(first.map((r) => r.outcome)).to.deep.equal(['applied', 'applied']);
        const again = await client.bulkExternal(index, [op('a', 5, 1), op('a', 3, 9), op('a', 6, 7), op('c', 1, 'not a number')]);
        expect(again.map((r) => r.outcome)).to.deep.equal(['already_applied', 'already_applied', 'applied', 'failed']);
        const failed = again[3]!;
        if (failed.outcome !== 'failed') throw new Error('expected a failure');
        expect(failed.error.statusCode).to.equal(400);
        expect(failed.error.esType).to.match(/parsing_exception/);
        expect(classify(failed.error).action).to.equal('fatal');
        const sources = await storedSourcesAfterRefresh(client, index);
        expect(sources.get('a')).to.equal('{"n":7}');
      });

      it('reads index metadata: shards, mappings, settings, aliases and a mapping version that moves', async () => {
        const index = uniqueName('meta');
        await client.createIndex(index, {
          settings: { 'index.number_of_shards': 3, 'index.number_of_replicas': 0, 'index.analysis.analyzer.my_std.type': 'standard' },
          mappings: { properties: { title: { type: 'text', analyzer: 'my_std' } } },
          aliases: { [`${index}-alias`]: {} },
        });
        const before = await client.indexMetadata(index);
        expect(before.numberOfShards).to.equal(3);
        expect(before.settings['index.analysis.analyzer.my_std.type']).to.equal('standard');
        expect(before.mappings).to.have.nested.property('properties.title.type', 'text');
        expect(before.aliases).to.have.property(`${index}-alias`);
        expect(before.state).to.equal('open');
        await client.putMapping(index, { properties: { added: { type: 'keyword' } } });
        const versions = await client.metadataVersions(index);
        expect(versions.mappingVersion).to.be.greaterThan(before.mappingVersion);
      });

      it('makes operations searchable only on refresh when refresh_interval is -1', async () => {
        const index = uniqueName('refresh');
        await client.createIndex(index, { settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 0, 'index.refresh_interval': '-1' }, mappings: {} });
        await client.writeDocuments(index, Array.from({ length: 20 }, (_, i) => ({ op: 'index' as const, source: { i } })));
        const [shard] = await client.shardSeqNos(index);
        expect(shard!.globalCheckpoint).to.equal(19);
        const search = (): Promise<unknown[]> => client.searchShardBySeqNo(index, { shard: 0, fromExclusive: -1, toInclusive: 19, size: 50 });
        expect(await search()).to.have.length(0);
        await client.refresh(index);
        expect(await search()).to.have.length(20);
      });
    });
  }

  const PAIRS: readonly (readonly [Flavor, Flavor])[] = [
    ['elasticsearch', 'elasticsearch'], ['opensearch', 'opensearch'], ['elasticsearch', 'opensearch'], ['opensearch', 'elasticsearch'],
  ];
  for (const [from, to] of PAIRS) {
    it(`puts a custom-routed document on the same shard number of a follower index (${from} → ${to})`, async () => {
      const pair = (await testClusters()).pair(from, to);
      const [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
      try {
        const leaderIndex = uniqueName('route-l');
        const followerIndex = uniqueName('route-f');
        await leader.createIndex(leaderIndex, { settings: { 'index.number_of_shards': 3, 'index.number_of_replicas': 0 }, mappings: {} });
        const docs = Array.from({ length: 60 }, (_, i) => ({ op: 'index' as const, id: `d${i}`, routing: `user-${i % 11}`, source: { i } }));
        await leader.writeDocuments(leaderIndex, docs, { refresh: true });
        const meta = await leader.indexMetadata(leaderIndex);
        await follower.createIndex(followerIndex, { settings: followerCreationSettings(meta.settings, meta.routingNumShards), mappings: {} });
        // Written with the follower's own routing: the shard is chosen by the follower cluster.
        await follower.writeDocuments(followerIndex, docs, { refresh: true });
        for (let shard = 0; shard < 3; shard += 1) {
          const [l, f] = await Promise.all([shardDocuments(leader, leaderIndex, shard), shardDocuments(follower, followerIndex, shard)]);
          expect([...f.keys()].sort(), `shard ${shard}`).to.deep.equal([...l.keys()].sort());
        }
      } finally {
        await Promise.all([leader.close(), follower.close()]);
      }
    });
  }
});

/** Each document's `_source` as the index stores it (its text, not a canonical form), by id. */
async function storedSourcesAfterRefresh(client: ClusterClient, index: string): Promise<Map<string, string>> {
  await client.refresh(index);
  const hits = await client.searchShardBySeqNo(index, { shard: 0, fromExclusive: -1, toInclusive: Number.MAX_SAFE_INTEGER, size: 100 });
  return new Map(hits.map((h) => [h.id, h.sourceJson]));
}
