import { expect } from 'chai';
import {
  type Candidate, candidatesOf, decide, type DecisionContext, existingEntries, type KnownFollower, pruneHandled, screen,
} from '../../../src/autofollow/auto-follow-decision.js';
import type { ResolvedIndices } from '../../../src/cluster/index-discovery.js';
import type { AutoFollowPatternRecord, HandledLeaderIndex } from '../../../src/state/state-store.js';

const PUT_AT = '2026-11-21T10:00:00.000Z';
const NOW = '2026-11-21T12:00:00.000Z';
const AFTER = Date.parse(PUT_AT) + 1000;
const BEFORE = Date.parse(PUT_AT) - 1000;

function pattern(overrides: Partial<AutoFollowPatternRecord> = {}): AutoFollowPatternRecord {
  return {
    name: 'daily-logs', remoteCluster: 'leader', followerCluster: 'follower',
    leaderIndexPatterns: ['logs-*', 'metrics-*'], leaderIndexExclusionPatterns: ['logs-debug-*'],
    followIndexPattern: '{{leader_index}}-replica', params: {}, status: 'active', createdAt: PUT_AT, activeSince: PUT_AT,
    ...overrides,
  };
}

const RESOLVED: ResolvedIndices = {
  indices: [
    { name: 'logs-a', open: true, hidden: false, system: false, aliases: [] },
    { name: 'logs-debug-1', open: true, hidden: false, system: false, aliases: [] },
    { name: 'logs-closed', open: false, hidden: false, system: false, aliases: [] },
    { name: 'logs-hidden', open: true, hidden: true, system: false, aliases: [] },
    { name: 'metrics-cpu', open: true, hidden: false, system: false, aliases: [] },
    { name: 'other', open: true, hidden: false, system: false, aliases: [] },
  ],
  aliases: [],
  dataStreams: [
    { name: 'logs-stream', backingIndices: ['.ds-logs-stream-2026.11.21-000001', '.ds-logs-stream-2026.11.21-000002'] },
    { name: 'logs-debug-stream', backingIndices: ['.ds-logs-debug-stream-2026.11.21-000001'] },
  ],
};

function candidate(name: string, extra: Partial<Candidate> = {}): Candidate {
  return { name, open: true, hidden: false, system: false, ...extra };
}

function ctx(overrides: Partial<DecisionContext> = {}): DecisionContext {
  return { pattern: pattern(), followers: [], followedBy: new Map(), now: NOW, ...overrides };
}

const follower = (leaderIndex: string, followerIndex: string, followerCluster = 'follower', remote = 'leader'): KnownFollower =>
  ({ remote_cluster: remote, leader_index: leaderIndex, follower_cluster: followerCluster, follower_index: followerIndex });

describe('auto-follow decisions', () => {
  describe('candidatesOf', () => {
    it('lists matching indices, and the backing indices of matching data streams, minus exclusions', () => {
      const found = candidatesOf(pattern(), RESOLVED);
      expect(found.map((c) => c.name)).to.deep.equal([
        '.ds-logs-stream-2026.11.21-000001', '.ds-logs-stream-2026.11.21-000002',
        'logs-a', 'logs-closed', 'logs-hidden', 'metrics-cpu',
      ]);
      expect(found[0]).to.deep.equal({ name: '.ds-logs-stream-2026.11.21-000001', dataStream: 'logs-stream', open: undefined, hidden: true, system: false });
      expect(found.find((c) => c.name === 'logs-closed')?.open).to.equal(false);
    });

    it('lists a backing index once, as part of its stream, when the pattern also matches its own name', () => {
      const resolved: ResolvedIndices = {
        indices: [{ name: '.ds-s-000001', open: false, hidden: true, system: false, dataStream: 's', aliases: [] }],
        aliases: [],
        dataStreams: [{ name: 's', backingIndices: ['.ds-s-000001'] }],
      };
      expect(candidatesOf(pattern({ leaderIndexPatterns: ['s', '.ds-*'] }), resolved)).to.deep.equal([
        { name: '.ds-s-000001', dataStream: 's', open: false, hidden: true, system: false },
      ]);
    });
  });

  describe('screen', () => {
    const s = (c: Candidate, handled: ReadonlyMap<string, HandledLeaderIndex> = new Map(), followers: KnownFollower[] = []): string => {
      const result = screen(c, handled, { pattern: pattern(), followers });
      return result.kind === 'ignore' ? `ignore: ${result.reason}` : result.kind;
    };

    it('passes an open, visible, unhandled index on to a lookup', () => {
      expect(s(candidate('logs-a'))).to.equal('lookup');
    });

    it('passes a backing index of a matching data stream on, although it is hidden and its state unknown', () => {
      expect(s(candidate('.ds-logs-stream-000001', { dataStream: 'logs-stream', hidden: true, open: undefined }))).to.equal('lookup');
    });

    it('leaves out what this pattern has handled', () => {
      const handled = new Map([['logs-a', { leaderIndex: 'logs-a', outcome: 'existing', at: PUT_AT } as HandledLeaderIndex]]);
      expect(s(candidate('logs-a'), handled)).to.equal('handled');
    });

    it('ignores closed, hidden, dot-named and system indices, and followers of this daemon on the leader cluster', () => {
      expect(s(candidate('logs-c', { open: false }))).to.equal('ignore: it is closed');
      expect(s(candidate('logs-h', { hidden: true }))).to.equal('ignore: it is a hidden index');
      expect(s(candidate('.logs-internal'))).to.equal('ignore: it is a hidden index');
      expect(s(candidate('logs-s', { system: true }))).to.equal('ignore: it is a system index');
      expect(s(candidate('logs-a-replica'), new Map(), [follower('logs-a', 'logs-a-replica', 'leader', 'other')])).to.equal('ignore: it is a follower index of this daemon');
      // The same name on the follower cluster is no reason to ignore the leader's index.
      expect(s(candidate('logs-a'), new Map(), [follower('x', 'logs-a', 'follower')])).to.equal('lookup');
    });
  });

  describe('decide', () => {
    it('follows an index created after the pattern was put, under the templated name', () => {
      expect(decide(candidate('logs-a'), { state: 'open', creationDate: AFTER, primariesActive: true }, ctx())).to.deep.equal({ kind: 'follow', followerIndex: 'logs-a-replica' });
    });

    it('records an index created before the pattern was put (or resumed) as existing', () => {
      const d = decide(candidate('.ds-s-1', { dataStream: 's' }), { state: 'open', creationDate: BEFORE, primariesActive: true }, ctx());
      expect(d).to.deep.equal({
        kind: 'record',
        entry: { leaderIndex: '.ds-s-1', dataStream: 's', at: NOW, outcome: 'existing', reason: 'created before the pattern was put or last resumed' },
      });
      const resumedLater = ctx({ pattern: pattern({ activeSince: new Date(AFTER + 1000).toISOString() }) });
      expect(decide(candidate('logs-a'), { state: 'open', creationDate: AFTER, primariesActive: true }, resumedLater).kind).to.equal('record');
    });

    it('waits until the primaries of a new index are started', () => {
      expect(decide(candidate('logs-a'), { state: 'open', creationDate: AFTER, primariesActive: false }, ctx()))
        .to.deep.equal({ kind: 'wait', reason: 'its primary shards are not all started yet' });
    });

    it('waits while an index is closed or gone', () => {
      expect(decide(candidate('logs-a'), { state: 'close', creationDate: AFTER, primariesActive: true }, ctx())).to.deep.equal({ kind: 'wait', reason: 'it is closed' });
      expect(decide(candidate('logs-a'), undefined, ctx())).to.deep.equal({ kind: 'wait', reason: 'it no longer exists' });
    });

    it('skips an index that another pattern followed first, naming it', () => {
      const d = decide(candidate('logs-a'), { state: 'open', creationDate: AFTER, primariesActive: true }, ctx({
        pattern: pattern({ name: 'later', followIndexPattern: '{{leader_index}}-other' }),
        followers: [follower('logs-a', 'logs-a-replica')],
        followedBy: new Map([['logs-a', 'daily-logs']]),
      }));
      expect(d).to.deep.equal({
        kind: 'record',
        entry: { leaderIndex: 'logs-a', at: NOW, outcome: 'skipped', reason: 'already followed into [follower/logs-a-replica] (by auto-follow pattern [daily-logs], put earlier)' },
      });
    });

    it('skips an index followed by hand', () => {
      const d = decide(candidate('logs-a'), { state: 'open', creationDate: AFTER, primariesActive: true }, ctx({ followers: [follower('logs-a', 'manual-copy')] }));
      expect(d).to.have.nested.property('entry.reason', 'already followed into [follower/manual-copy]');
    });

    it('adopts its own follower whose record a crash lost, instead of following twice', () => {
      const d = decide(candidate('logs-a'), { state: 'open', creationDate: AFTER, primariesActive: true }, ctx({ followers: [follower('logs-a', 'logs-a-replica')] }));
      expect(d).to.deep.equal({ kind: 'record', entry: { leaderIndex: 'logs-a', at: NOW, outcome: 'followed', followerIndex: 'logs-a-replica' } });
    });

    it('does not confuse an index of another leader cluster with the same name', () => {
      const d = decide(candidate('logs-a'), { state: 'open', creationDate: AFTER, primariesActive: true }, ctx({ followers: [follower('logs-a', 'x', 'follower', 'elsewhere')] }));
      expect(d.kind).to.equal('follow');
    });
  });

  it('prunes handled indices that no longer exist on the leader', () => {
    const handled = new Map<string, HandledLeaderIndex>([
      ['logs-a', { leaderIndex: 'logs-a', outcome: 'followed', followerIndex: 'logs-a-replica', at: NOW }],
      ['logs-deleted', { leaderIndex: 'logs-deleted', outcome: 'existing', at: PUT_AT }],
    ]);
    expect([...pruneHandled(handled, candidatesOf(pattern(), RESOLVED)).keys()]).to.deep.equal(['logs-a']);
  });

  it('records every matching index as existing on put, keeping what was handled before', () => {
    const handled = new Map<string, HandledLeaderIndex>([['logs-a', { leaderIndex: 'logs-a', outcome: 'followed', followerIndex: 'logs-a-replica', at: NOW }]]);
    const entries = existingEntries(candidatesOf(pattern(), RESOLVED), handled, NOW, 'existed when the pattern was put');
    expect(entries.map((e) => e.leaderIndex)).to.deep.equal([
      '.ds-logs-stream-2026.11.21-000001', '.ds-logs-stream-2026.11.21-000002', 'logs-closed', 'logs-hidden', 'metrics-cpu',
    ]);
    expect(entries[0]).to.deep.equal({
      leaderIndex: '.ds-logs-stream-2026.11.21-000001', outcome: 'existing', dataStream: 'logs-stream', reason: 'existed when the pattern was put', at: NOW,
    });
  });
});
