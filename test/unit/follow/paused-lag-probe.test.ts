/**
 * PausedLagProbe with the leader cluster's shared checkpoint probe: registered once, it takes every
 * tick's answer (the lag a paused follower shows) without asking again per tick.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../../src/cluster/cluster-client.js';
import type { ShardSeqNoState } from '../../../src/cluster/types.js';
import { IndexBatchProbe, type IndexProbe, type ProbeLane } from '../../../src/follow/index-batch-probe.js';
import { PausedLagProbe } from '../../../src/follow/paused-lag-probe.js';
import { turns } from '../shard/fakes.js';

describe('PausedLagProbe', () => {
  it('with the shared probe, stays registered and records each tick\'s answer: the leader moving past the paused checkpoint', async () => {
    const timers: (() => void)[] = [];
    let gcp = 5;
    const batch = new IndexBatchProbe<ShardSeqNoState[]>({
      readMany: async (indices) => new Map(indices.map((i) => [i, [{ shard: 0, globalCheckpoint: gcp, maxSeqNo: gcp, localCheckpoint: gcp }]])),
      readOne: () => Promise.reject(new Error('not expected')), tickMs: 1000,
      schedule: (fn) => { timers.push(fn); return () => undefined; },
    });
    let reads = 0;
    const probe: IndexProbe<ShardSeqNoState[]> = {
      read: (index: string, lane: ProbeLane, signal: AbortSignal, until?: (v: ShardSeqNoState[]) => boolean) => { reads += 1; return batch.read(index, lane, signal, until); },
    };
    let now = 1_000;
    const tick = async (): Promise<void> => {
      for (const fn of timers.splice(0)) fn();
      await turns(10);
    };
    const paused = new PausedLagProbe({} as ClusterClient, 'orders', { 0: 5 }, 1000, () => now, probe);
    try {
      await tick();
      expect(paused.shard(0)).to.deep.equal({ leaderGlobalCheckpoint: 5, behindSince: undefined });
      gcp = 9;
      now = 2_000;
      await tick();
      now = 3_000;
      await tick();
      expect(paused.shard(0)).to.deep.equal({ leaderGlobalCheckpoint: 9, behindSince: 2_000 });
      expect(paused.lastAnswerAt).to.equal(3_000);
      expect(reads, 'one read for all the ticks').to.equal(1);
    } finally {
      await paused.close();
      batch.close();
    }
  });
});
