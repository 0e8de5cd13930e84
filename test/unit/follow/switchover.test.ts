/**
 * The switchover's order and its refusals (runSwitchover), over ports: the leader's write block
 * first; no promotion before the follower holds everything, deletes included; and every refusal
 * leaves the leader taking writes again.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../../src/cluster/cluster-client.js';
import type { FailbackAnswer } from '../../../src/follow/follow-manager.js';
import type { FollowerIndexStats } from '../../../src/follow/index-follower.js';
import { runSwitchover, type SwitchoverPorts } from '../../../src/follow/switchover.js';
import type { PromotionRecord } from '../../../src/state/state-store.js';

const REQ = { leaderCluster: 'leader', leaderIndex: 'orders', followerCluster: 'follower', followerIndex: 'orders', catchUpTimeoutMs: 1_000 };
const FAILBACK: FailbackAnswer = { dry_run: false, version_base: 1024, lost_writes: 0, documents_written: 0, shards: [] };

interface Fake { calls: string[]; ports: SwitchoverPorts; setCheckpoint(cp: number): void; setFollowerCount(n: number): void }

function fake(opts: { blockFails?: boolean; paused?: boolean } = {}): Fake {
  const calls: string[] = [];
  let clock = 0;
  let checkpoint = 9;
  let followerCount = 5;
  const client = (side: string, count: () => number): ClusterClient => ({
    putSettings: async (_i: string, s: Record<string, unknown>) => {
      calls.push(`${side} block ${String(s['index.blocks.write'])}`);
      if (opts.blockFails === true) throw new Error('blocked by a read-only disk watermark');
    },
    shardSeqNos: async () => [{ shard: 0, maxSeqNo: 9, globalCheckpoint: 9 }],
    refresh: async () => undefined,
    countShard: async () => count(),
  }) as unknown as ClusterClient;
  const ports: SwitchoverPorts = {
    leader: client('leader', () => 5),
    follower: client('follower', () => followerCount),
    stats: () => ({ status: opts.paused === true ? 'paused' : 'active', shards: [{ shard_id: 0, follower_global_checkpoint: checkpoint }] }) as unknown as FollowerIndexStats,
    promote: async () => { calls.push('promote'); return {} as PromotionRecord; },
    failback: async () => { calls.push('failback'); return FAILBACK; },
    sleep: async (ms) => { clock += ms; },
    now: () => clock,
  };
  return { calls, ports, setCheckpoint: (cp) => { checkpoint = cp; }, setFollowerCount: (n) => { followerCount = n; } };
}

describe('runSwitchover', () => {
  it('blocks the leader, promotes once the follower holds everything, then fails back; the downtime runs from the block to the promotion', async () => {
    const f = fake();
    f.setCheckpoint(7);
    f.setFollowerCount(6);
    const sleep = f.ports.sleep;
    let polls = 0;
    const ports = { ...f.ports, sleep: async (ms: number) => { polls += 1; if (polls === 2) f.setCheckpoint(9); if (polls === 4) f.setFollowerCount(5); await sleep(ms); } };
    const answer = await runSwitchover(REQ, 'follower/orders', ports);
    expect(f.calls).to.deep.equal(['leader block true', 'promote', 'failback']);
    expect(answer.catch_up_millis).to.equal(400);
    expect(answer.write_downtime_millis).to.equal(400);
    expect(answer.failback).to.equal(FAILBACK);
  });

  it('refuses when the leader cannot be blocked, changing nothing', async () => {
    const f = fake({ blockFails: true });
    const err = await runSwitchover(REQ, 'follower/orders', f.ports).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/write block cannot be put on leader index \[leader\/orders\].*nothing was changed/);
    expect(f.calls).to.deep.equal(['leader block true']);
  });

  it('lifts the block and does not promote when the follower does not catch up in time (a delete not applied)', async () => {
    const f = fake();
    f.setFollowerCount(6);
    const err = await runSwitchover(REQ, 'follower/orders', f.ports).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/did not catch up in time \(deletes not applied yet on shard\(s\) 0 \(6 documents, the leader 5\)\)/);
    expect(f.calls).to.deep.equal(['leader block true', 'leader block null']);
  });

  it('lifts the block and does not promote a follower paused meanwhile', async () => {
    const f = fake({ paused: true });
    const err = await runSwitchover(REQ, 'follower/orders', f.ports).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/is paused/);
    expect(f.calls).to.deep.equal(['leader block true', 'leader block null']);
  });
});
