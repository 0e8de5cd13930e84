import { expect } from 'chai';
import type { BulkItemResult, ExternalOp } from '../../../src/cluster/types.js';
import { FollowerMaxSeqNos } from '../../../src/follow/follower-seq-nos.js';
import type { FollowerShardWriter } from '../../../src/shard/ports.js';

const op = (id: string): ExternalOp => ({ op: 'index', id, routing: undefined, version: 1, sourceJson: '{}' });

describe('FollowerMaxSeqNos', () => {
  const never = new AbortController().signal;

  it('starts from what the follower said and rises with the seq_no of each applied write, never falls', async () => {
    const answers: BulkItemResult[][] = [
      [{ outcome: 'applied', id: 'a', seqNo: 12 }, { outcome: 'already_applied', id: 'b' }],
      [{ outcome: 'applied', id: 'c', seqNo: 9 }],
    ];
    const writer: FollowerShardWriter = { write: async () => answers.shift()! };
    const seqNos = new FollowerMaxSeqNos([{ shard: 0, maxSeqNo: 10 }]);
    const shard0 = seqNos.writerFor(0, writer);
    expect(seqNos.of(0)).to.equal(10);
    await shard0.write([op('a'), op('b')], never);
    expect(seqNos.of(0)).to.equal(12);
    await shard0.write([op('c')], never);
    expect(seqNos.of(0)).to.equal(12);
    expect(seqNos.of(1), 'nothing known').to.equal(-1);
  });

  it('passes the writer\'s shared concurrency limit through, and adds none of its own', () => {
    let limit = 3;
    const seqNos = new FollowerMaxSeqNos();
    const shared = seqNos.writerFor(0, { write: async () => [], concurrencyLimit: () => limit });
    expect(shared.concurrencyLimit?.()).to.equal(3);
    limit = 5;
    expect(shared.concurrencyLimit?.()).to.equal(5);
    expect(seqNos.writerFor(0, { write: async () => [] }).concurrencyLimit).to.equal(undefined);
  });
});
