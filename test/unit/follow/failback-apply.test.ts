/**
 * applyFailback, the writing half of fail-back, over in-memory clusters (fake-cluster.ts): the
 * promoted index takes writes while fail-back runs, which a real node cannot be made to do at the
 * exact moment between planning and writing. Fail-back end to end is tested on real nodes.
 */
import { expect } from 'chai';
import { applyFailback, type FailbackPlan } from '../../../src/follow/failback.js';
import { baseVersion } from '../../../src/follow/failback-plan.js';
import { silentLogger } from '../../../src/util/logger.js';
import { FakeCluster } from './fake-cluster.js';

describe('applyFailback', () => {
  it('puts, not deletes, a document the promoted index created after the plan decided to delete it, so its reverse-follow copy is not refused', async () => {
    const promotedCluster = new FakeCluster('promoted');
    const oldCluster = new FakeCluster('old');
    const promoted = promotedCluster.add('orders');
    const old = oldCluster.add('orders');
    old.index('lost', { v: 'old leader only' });
    old.index('gone', { v: 'deleted on the promoted index' });
    const versionBase = 1024;
    const plan = {
      versionBase, lostWrites: [],
      shards: [{
        counts: { shard: 0, followFrom: -1, copied: 0, putBack: 0, deleted: 2, lostWrites: 1 }, oldMaxSeqNo: 1, maxOldVersion: 1, lostWrites: [],
        writes: [{ id: 'lost', routing: undefined, op: 'delete' }, { id: 'gone', routing: undefined, op: 'delete' }],
      }],
    } as unknown as FailbackPlan;
    // Between the plan and the write, the promoted index's writers create `lost` there.
    const seqNo = promoted.index('lost', { v: 'written on the promoted index after the plan' });

    const written = await applyFailback({
      promoted: promotedCluster.client, promotedIndex: 'orders', oldLeader: oldCluster.client, oldLeaderIndex: 'orders', shards: {}, logger: silentLogger,
    }, plan);

    expect(written).to.equal(2);
    expect(old.docs.has('gone'), 'a document the promoted index lacks is deleted').to.equal(false);
    const put = old.docs.get('lost');
    expect(put?.sourceJson).to.equal(JSON.stringify({ v: 'written on the promoted index after the plan' }));
    expect(put?.version).to.equal(baseVersion(versionBase, seqNo));
    // The reverse follow's copy of that write, at the same version, is then a no-op, not a loss.
    const [copy] = await oldCluster.client.bulkExternal('orders', [{ op: 'index', id: 'lost', routing: undefined, version: baseVersion(versionBase, seqNo), sourceJson: '{"v":"written on the promoted index after the plan"}' }]);
    expect(copy?.outcome).to.equal('already_applied');
  });
});
