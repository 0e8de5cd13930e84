/** Rendering and loops of `start --wait`, `stats --watch` and `pause|resume --all|--match`, with fake stats and clocks. */
import { expect } from 'chai';
import { applyToFleet, globToRegExp, renderFleetResults, selectFollowers } from '../../../src/cli/fleet.js';
import { isCaughtUp, progressOf, RateMeter, renderProgress, waitUntilCaughtUp } from '../../../src/cli/progress.js';
import { CLEAR_SCREEN, runWatch, watchFrame } from '../../../src/cli/watch.js';
import type { FollowerInfo } from '../../../src/follow/follow-manager.js';
import type { FollowerIndexStats } from '../../../src/follow/index-follower.js';
import type { ShardStats } from '../../../src/shard/shard-stats.js';

function stats(shards: [number, number][], over: Partial<FollowerIndexStats> = {}): FollowerIndexStats {
  return {
    index: 'orders', remote_cluster: 'leader', leader_index: 'orders', follower_cluster: 'follower', status: 'active', state: 'active',
    total_global_checkpoint_lag: 0, operations_written: 0, operations_deleted: 0, foreign_writes_detected: 0, leader_checkpoints_seen: true,
    shards: shards.map(([follower, leader], i) => ({ shard_id: i, follower_global_checkpoint: follower, leader_global_checkpoint: leader } as unknown as ShardStats)),
    ...over,
  };
}

const info = (cluster: string, index: string): FollowerInfo => ({ follower_cluster: cluster, follower_index: index } as unknown as FollowerInfo);

describe('start --wait progress', () => {
  it('counts operations from global checkpoints summed over shards', () => {
    expect(progressOf(stats([[9, 19], [-1, 29]]), 0)).to.deep.equal({ copied: 10, total: 50, at: 0 });
  });

  it('is caught up only once the leader checkpoints were seen and every shard reached them', () => {
    expect(isCaughtUp(stats([[19, 19], [29, 29]]))).to.equal(true);
    expect(isCaughtUp(stats([[19, 19], [28, 29]]))).to.equal(false);
    expect(isCaughtUp(stats([[-1, -1]], { leader_checkpoints_seen: false }))).to.equal(false);
    expect(isCaughtUp(stats([[19, 19]], { status: 'paused' }))).to.equal(false);
  });

  it('measures the rate over its window and derives the ETA', () => {
    const meter = new RateMeter(10_000);
    expect(meter.add({ copied: 0, total: 1000, at: 0 })).to.deep.equal({ rate: 0, etaMs: undefined });
    expect(meter.add({ copied: 200, total: 1000, at: 2000 })).to.deep.equal({ rate: 100, etaMs: 8000 });
  });

  it('draws a bar on a terminal and a plain line otherwise', () => {
    expect(renderProgress({ copied: 25, total: 100, rate: 10.4, etaMs: 7500 }, true, 8)).to.equal('[##------]  25.0%  25/100 ops, 10 ops/s, ETA 7.5s');
    expect(renderProgress({ copied: 25, total: 100, rate: 10, etaMs: undefined }, false)).to.equal('copied 25/100 ops, 10 ops/s, ETA ? (25.0%)');
  });

  it('polls until caught up, redrawing one line on a terminal', async () => {
    const answers = [stats([[-1, -1]], { leader_checkpoints_seen: false }), stats([[49, 99]]), stats([[99, 99]])];
    let written = '';
    let clock = 0;
    const result = await waitUntilCaughtUp({
      fetch: async () => answers.shift()!, io: { out: () => expect.fail('no plain lines on a terminal'), tty: { write: (t) => (written += t) } },
      intervalMs: 1000, now: () => clock, sleep: async (ms) => { clock += ms; },
    });
    expect(result.outcome).to.equal('caught-up');
    expect(written.split('\r\x1b[2K')).to.have.length(4);
    expect(written).to.match(/\[#{30}\] 100\.0% {2}100\/100 ops, 50 ops\/s, ETA 0ms\n$/);
  });

  it('stops with "paused" when the follower is paused by a fatal error, printing plain lines without a terminal', async () => {
    const lines: string[] = [];
    const fatal = { type: 'mapper_parsing_exception', reason: 'bad', at: '' };
    const answers = [stats([[9, 99]]), stats([[9, 99]], { status: 'paused', fatal_exception: fatal })];
    const result = await waitUntilCaughtUp({ fetch: async () => answers.shift()!, io: { out: (l) => lines.push(l) }, intervalMs: 1, sleep: async () => undefined });
    expect(result.outcome).to.equal('paused');
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^copied 10\/100 ops/);
  });
});

describe('stats --watch', () => {
  it('clears the screen on a terminal and stamps appended frames otherwise', () => {
    const at = new Date('2026-11-22T06:00:00.000Z');
    expect(watchFrame('TABLE', at, true)).to.equal(`${CLEAR_SCREEN}2026-11-22T06:00:00.000Z  (every refresh; Ctrl-C to stop)\nTABLE\n`);
    expect(watchFrame('TABLE', at, false)).to.equal('--- 2026-11-22T06:00:00.000Z\nTABLE');
  });

  it('renders count frames, sleeping the interval between them', async () => {
    const out: string[] = [];
    const sleeps: number[] = [];
    let n = 0;
    await runWatch({ render: async () => `frame ${(n += 1)}`, out: (t) => out.push(t), intervalMs: 2000, count: 3, sleep: async (ms) => { sleeps.push(ms); } });
    expect(out.map((o) => o.split('\n')[1])).to.deep.equal(['frame 1', 'frame 2', 'frame 3']);
    expect(sleeps).to.deep.equal([2000, 2000]);
  });
});

describe('pause / resume --all | --match', () => {
  const infos = [info('follower', 'logs-a'), info('follower', 'logs-b'), info('follower', 'metrics-a'), info('dr', 'logs-c')];

  it('matches a glob on cluster/index or on the index alone', () => {
    expect(selectFollowers(infos, 'logs-*').map((i) => `${i.follower_cluster}/${i.follower_index}`)).to.deep.equal(['follower/logs-a', 'follower/logs-b', 'dr/logs-c']);
    expect(selectFollowers(infos, 'dr/*').map((i) => i.follower_index)).to.deep.equal(['logs-c']);
    expect(selectFollowers(infos, '*-?').map((i) => i.follower_index)).to.have.length(4);
    expect(selectFollowers(infos, undefined)).to.have.length(4);
    expect(globToRegExp('a.b*').test('a.bc')).to.equal(true);
    expect(globToRegExp('a.b*').test('axbc')).to.equal(false);
  });

  it('reports each index, failures included', async () => {
    const results = await applyToFleet(infos.slice(0, 2), async (path) => {
      if (path.endsWith('logs-b')) throw Object.assign(new Error('already paused'), { type: 'illegal_state_exception' });
    }, 'paused');
    expect(renderFleetResults(results, 'all')).to.equal(
      'follower/logs-a  paused\nfollower/logs-b  failed: illegal_state_exception: already paused\n1 of 2 done, 1 failed');
    expect(renderFleetResults([], '"x*"')).to.equal('no follower indices match "x*"');
  });
});
