/**
 * Metadata first (docs/architecture.md, shard step 8): a field added to the leader's mapping while
 * it is followed reaches the follower's mapping before any document using it is written there. Both
 * indices use `dynamic: strict`, so a document that arrived first would be refused by the follower
 * (strict_dynamic_mapping_exception) and the follower would pause.
 */
import { expect } from 'chai';
import type { DocumentWrite } from '../../src/cluster/types.js';
import { uniqueName } from '../helpers/clusters.js';
import { FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import { compareIndices, createLeaderIndex, statsOf, waitForCaughtUp } from '../helpers/replication.js';


/** Fields added one after another while followed, each used by documents written right after. */
const NEW_FIELDS: readonly { name: string; mapping: Record<string, unknown>; value: (i: number) => unknown; expectedType: string }[] = [
  { name: 'code', mapping: { type: 'keyword' }, value: (i) => `C-${i % 17}`, expectedType: 'keyword' },
  { name: 'amount', mapping: { type: 'long' }, value: (i) => i * 1000, expectedType: 'long' },
  { name: 'when', mapping: { type: 'date' }, value: (i) => new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(), expectedType: 'date' },
];

describe('mappings before documents', function () {
  this.timeout(300_000);

  for (const flavors of FLAVOR_PAIRS) {
    describe(pairTitle(flavors), () => {
      const pair = useFollowPair(flavors);

      before(async () => {
      });

      it('a leader mapping change reaches the follower before any document that uses it', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        pair.track('leader', leaderIndex);
        pair.track('follower', followerIndex);
        await createLeaderIndex(pair.leader, leaderIndex, {
          mappings: { dynamic: 'strict', properties: { n: { type: 'integer' }, text: { type: 'text' } } },
        });
        let next = 0;
        const docs = (count: number, extra: (i: number) => Record<string, unknown> = () => ({})): DocumentWrite[] =>
          Array.from({ length: count }, () => {
            const i = next++;
            return { op: 'index', id: `doc-${i}`, source: { n: i, text: `document ${i}`, ...extra(i) } };
          });
        await pair.leader.writeDocuments(leaderIndex, docs(300));
        await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);

        // The follower is strict too: that is what makes this test able to fail.
        const before = await pair.follower.indexMetadata(followerIndex);
        expect(before.mappings['dynamic']).to.equal('strict');
        expect(propertiesOf(before.mappings)).to.not.have.property('code');

        // While followed: add a field, then at once write documents that use it (and the earlier new
        // fields), without waiting for the follower in between.
        const used: typeof NEW_FIELDS[number][] = [];
        for (const field of NEW_FIELDS) {
          await pair.leader.putMapping(leaderIndex, { properties: { [field.name]: field.mapping } });
          used.push(field);
          for (let batch = 0; batch < 3; batch += 1) {
            await pair.leader.writeDocuments(leaderIndex, docs(100, (i) => Object.fromEntries(used.map((f) => [f.name, f.value(i)]))));
          }
        }
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);

        const stats = statsOf(pair.daemon, followerIndex);
        expect(stats.fatal_exception, JSON.stringify(stats.fatal_exception)).to.equal(undefined);
        expect(stats.status).to.equal('active');
        const after = await pair.follower.indexMetadata(followerIndex);
        expect(after.mappings['dynamic']).to.equal('strict');
        for (const field of NEW_FIELDS) {
          expect(propertiesOf(after.mappings)[field.name], `follower mapping of [${field.name}]`).to.deep.include({ type: field.expectedType });
        }
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
        // The new fields are searchable on the follower with their mapped types.
        await pair.follower.refresh(followerIndex);
        const res = await pair.follower.raw<{ count: number }>('count by code', {
          method: 'POST', path: `/${followerIndex}/_count`, body: { query: { term: { code: 'C-3' } } },
        });
        const expected = await pair.leader.raw<{ count: number }>('count by code', {
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
