/**
 * Issue 3, test 7 (DESIGN.md shard step 8, "metadata first"): a field added to the leader's
 * mapping while it is followed reaches the follower's mapping before any document using it is
 * written there. Both indices use `dynamic: strict`, so a document that arrived first would be
 * refused by the follower (strict_dynamic_mapping_exception) and the follower would pause.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { DocumentWrite, Flavor } from '../../src/cluster/types.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { compareIndices, connect, createLeaderIndex, startTestDaemon, statsOf, waitForCaughtUp, type TestDaemon } from '../helpers/replication.js';

const PAIRS: readonly (readonly [Flavor, Flavor])[] = [
  ['elasticsearch', 'elasticsearch'],
  ['opensearch', 'opensearch'],
  ['elasticsearch', 'opensearch'],
  ['opensearch', 'elasticsearch'],
];
const short = (f: Flavor): string => (f === 'elasticsearch' ? 'ES' : 'OS');

/** Fields added one after another while followed, each used by documents written right after. */
const NEW_FIELDS: readonly { name: string; mapping: Record<string, unknown>; value: (i: number) => unknown; expectedType: string }[] = [
  { name: 'code', mapping: { type: 'keyword' }, value: (i) => `C-${i % 17}`, expectedType: 'keyword' },
  { name: 'amount', mapping: { type: 'long' }, value: (i) => i * 1000, expectedType: 'long' },
  { name: 'when', mapping: { type: 'date' }, value: (i) => new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(), expectedType: 'date' },
];

describe('mappings before documents', function () {
  this.timeout(300_000);

  for (const [leaderFlavor, followerFlavor] of PAIRS) {
    describe(`${short(leaderFlavor)} → ${short(followerFlavor)}`, () => {
      let daemon: TestDaemon;
      let leader: ClusterClient;
      let follower: ClusterClient;
      const created: { client: () => ClusterClient; index: string }[] = [];

      before(async () => {
        const pair = (await testClusters()).pair(leaderFlavor, followerFlavor);
        daemon = await startTestDaemon(pair);
        [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
      });

      after(async () => {
        await daemon?.stop();
        for (const { client, index } of created) await client().deleteIndex(index);
        await Promise.all([leader?.close(), follower?.close()]);
      });

      it('a leader mapping change reaches the follower before any document that uses it', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        created.push({ client: () => leader, index: leaderIndex }, { client: () => follower, index: followerIndex });
        await createLeaderIndex(leader, leaderIndex, {
          mappings: { dynamic: 'strict', properties: { n: { type: 'integer' }, text: { type: 'text' } } },
        });
        let next = 0;
        const docs = (count: number, extra: (i: number) => Record<string, unknown> = () => ({})): DocumentWrite[] =>
          Array.from({ length: count }, () => {
            const i = next++;
            return { op: 'index', id: `doc-${i}`, source: { n: i, text: `document ${i}`, ...extra(i) } };
          });
        await leader.writeDocuments(leaderIndex, docs(300));
        await daemon.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);

        // The follower is strict too: that is what makes this test able to fail.
        const before = await follower.indexMetadata(followerIndex);
        expect(before.mappings['dynamic']).to.equal('strict');
        expect(propertiesOf(before.mappings)).to.not.have.property('code');

        // While followed: add a field, then at once write documents that use it (and the earlier new
        // fields), without waiting for the follower in between.
        const used: typeof NEW_FIELDS[number][] = [];
        for (const field of NEW_FIELDS) {
          await leader.putMapping(leaderIndex, { properties: { [field.name]: field.mapping } });
          used.push(field);
          for (let batch = 0; batch < 3; batch += 1) {
            await leader.writeDocuments(leaderIndex, docs(100, (i) => Object.fromEntries(used.map((f) => [f.name, f.value(i)]))));
          }
        }
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);

        const stats = statsOf(daemon.daemon, followerIndex);
        expect(stats.fatal_exception, JSON.stringify(stats.fatal_exception)).to.equal(undefined);
        expect(stats.status).to.equal('active');
        const after = await follower.indexMetadata(followerIndex);
        expect(after.mappings['dynamic']).to.equal('strict');
        for (const field of NEW_FIELDS) {
          expect(propertiesOf(after.mappings)[field.name], `follower mapping of [${field.name}]`).to.deep.include({ type: field.expectedType });
        }
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
        // The new fields are searchable on the follower with their mapped types.
        await follower.refresh(followerIndex);
        const res = await follower.raw<{ count: number }>('count by code', {
          method: 'POST', path: `/${followerIndex}/_count`, body: { query: { term: { code: 'C-3' } } },
        });
        const expected = await leader.raw<{ count: number }>('count by code', {
          method: 'POST', path: `/${leaderIndex}/_count`, body: { query: { term: { code: 'C-3' } } },
        });
        expect(res.body.count).to.be.greaterThan(0);
        expect(res.body.count).to.equal(expected.body.count);
      });
    });
  }
});

function propertiesOf(mappings: Readonly<Record<string, unknown>>): Record<string, Record<string, unknown>> {
  return (mappings['properties'] ?? {}) as Record<string, Record<string, unknown>>;
}
