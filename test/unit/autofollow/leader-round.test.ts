/**
 * LeaderRound's follows of one round: started a few at once (each waits on the follower cluster
 * creating its index), every decision still seeing the follows decided before it, and what each
 * did recorded once all have ended. The leader is faked at the two reads a round makes
 * (`resolveIndex`, `indexStates`); following itself is tested on real nodes.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../../src/cluster/cluster-client.js';
import type { ClusterRegistry } from '../../../src/cluster/cluster-registry.js';
import { PatternStats } from '../../../src/autofollow/auto-follow-stats.js';
import { LeaderRound, type PatternEntry } from '../../../src/autofollow/leader-round.js';
import type { FollowRequest } from '../../../src/follow/follow-manager.js';
import type { AutoFollowPatternRecord, HandledLeaderIndex, StateStore } from '../../../src/state/state-store.js';
import { silentLogger } from '../../../src/util/logger.js';
import { until } from '../shard/fakes.js';

function leaderWith(names: readonly string[], createdAt: number): ClusterClient {
  return {
    alias: 'leader',
    resolveIndex: async () => ({ indices: names.map((name) => ({ name, attributes: ['open'] })), aliases: [], data_streams: [] }),
    indexStates: async (asked: readonly string[]) => ({
      metadata: Object.fromEntries(asked.map((n) => [n, { state: 'open', settings: { index: { creation_date: String(createdAt) } } }])),
      routing: Object.fromEntries(asked.map((n) => [n, { 0: [{ primary: true, state: 'STARTED' }] }])),
    }),
  } as unknown as ClusterClient;
}

function pattern(name: string, activeSince: string): AutoFollowPatternRecord {
  return {
    name, remoteCluster: 'leader', followerCluster: 'follower', leaderIndexPatterns: ['logs-*'], leaderIndexExclusionPatterns: [],
    followIndexPattern: `{{leader_index}}-${name}`, params: {}, status: 'active', createdAt: activeSince, activeSince,
  };
}

describe('LeaderRound', () => {
  it('starts a round\'s follows several at once (at most 8), each leader index followed once, and records them all', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `logs-${String(i).padStart(2, '0')}`);
    const since = '2026-12-01T00:00:00.000Z';
    const leader = leaderWith(names, Date.parse(since) + 1000);
    const saved = new Map<string, HandledLeaderIndex[]>();
    const asked: FollowRequest[] = [];
    const release: (() => void)[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const round = new LeaderRound({
      clusters: { client: async () => leader } as unknown as ClusterRegistry,
      state: { saveHandledIndices: async (p: string, h: HandledLeaderIndex[]) => { saved.set(p, h); } } as unknown as StateStore,
      followers: {
        info: () => [],
        follow: async (req) => {
          asked.push(req);
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise<void>((r) => release.push(r));
          inFlight -= 1;
        },
      },
      logger: silentLogger, now: () => Date.parse('2026-12-07T00:00:00.000Z'),
    });
    // Two patterns match every index: the first put follows each, the second records it as taken.
    const entries: PatternEntry[] = ['a', 'b'].map((n) => ({ record: pattern(n, since), handled: new Map(), stats: new PatternStats(n) }));
    const running = round.run('leader', entries, new AbortController().signal);
    while (asked.length < names.length || release.length > 0) {
      await until(() => release.length > 0 || asked.length === names.length, 2000, 'follows in flight');
      expect(inFlight).to.be.at.most(8);
      for (const r of release.splice(0)) r();
      await new Promise((r) => setImmediate(r));
    }
    await running;
    expect(maxInFlight, 'several at once').to.be.greaterThan(1);
    expect(maxInFlight).to.be.at.most(8);
    expect(asked.map((r) => r.leaderIndex).sort()).to.deep.equal(names);
    expect(asked.every((r) => r.followerIndex === `${r.leaderIndex}-a`)).to.equal(true);
    expect(saved.get('a')!.filter((h) => h.outcome === 'followed').map((h) => h.leaderIndex).sort()).to.deep.equal(names);
    expect(saved.get('b')!.map((h) => h.outcome), 'the second pattern skips each: taken in this round').to.deep.equal(names.map(() => 'skipped'));
  });
});
