/** Rendering and loops of `start --wait`, `stats --watch` and `pause|resume --all|--match`, with fake stats and clocks. */
import { expect } from 'chai';
import { applyToFleet, fleetSucceeded, globToRegExp, renderFleetResults, selectFollowers, type FleetResult } from '../../../src/cli/fleet.js';
import { isCaughtUp, progressOf, RateMeter, renderProgress, waitUntilCaughtUp } from '../../../src/cli/progress.js';
import { CLEAR_SCREEN, runWatch, watchFrame } from '../../../src/cli/watch.js';
import type { FollowerInfo } from '../../../src/follow/follow-manager.js';
import type { FollowerIndexStats } from '../../../src/follow/index-follower.js';
import { DEFAULT_FOLLOW_PARAMS } from '../../../src/shard/follow-params.js';
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

  const refused = (type: string, message: string): Error => Object.assign(new Error(message), { type });

  it('reports each index: done, already in the state asked for (illegal_state_exception), or failed', async () => {
    const sent: string[] = [];
    const results = await applyToFleet(infos, async (path) => {
      sent.push(path);
      if (path.endsWith('logs-b')) throw refused('illegal_state_exception', 'cannot pause [follower/logs-b]: it is not following (already paused)');
      if (path.endsWith('metrics-a')) throw refused('resource_not_found_exception', '[follower/metrics-a] is not a follower index');
    }, 'paused');
    expect(sent, 'a request for each, already paused or not').to.deep.equal(['/follower/logs-a', '/follower/logs-b', '/follower/metrics-a', '/dr/logs-c']);
    expect(results.map((r) => r.outcome)).to.deep.equal(['done', 'already', 'failed', 'done']);
    expect(fleetSucceeded(results)).to.equal(false);
    expect(renderFleetResults(results, 'all', 'paused')).to.equal([
      'follower/logs-a     paused',
      'follower/logs-b     already paused',
      'follower/metrics-a  failed: resource_not_found_exception: [follower/metrics-a] is not a follower index',
      'dr/logs-c           paused',
      '3 of 4 done (1 already paused), 1 failed',
    ].join('\n'));
    expect(renderFleetResults([], '"x*"', 'paused')).to.equal('no follower indices match "x*"');
    expect(fleetSucceeded([]), 'nothing selected').to.equal(true);
  });

  it('succeeds when every follower ends in the state asked for, some already in it', async () => {
    const results = await applyToFleet(infos.slice(0, 3), async (path) => {
      if (!path.endsWith('logs-a')) throw refused('illegal_state_exception', 'it is already following');
    }, 'resumed');
    expect(fleetSucceeded(results)).to.equal(true);
    expect(renderFleetResults(results, '"*"', 'resumed')).to.equal([
      'follower/logs-a     resumed',
      'follower/logs-b     already following',
      'follower/metrics-a  already following',
      '3 of 3 done (2 already following)',
    ].join('\n'));
  });

  it('names the error of a follower already paused by one', async () => {
    const fatal = { ...info('follower', 'logs-a'), status: 'paused', fatal_exception: { type: 'mapper_parsing_exception', reason: 'x', at: '2026-01-01T00:00:00Z' } } as FollowerInfo;
    const results = await applyToFleet([fatal], async () => {
      throw refused('illegal_state_exception', 'already paused');
    }, 'paused');
    expect(results).to.deep.equal([{ follower: 'follower/logs-a', outcome: 'already', message: 'already paused (by an error: mapper_parsing_exception)' }]);
    expect(fleetSucceeded(results)).to.equal(true);
  });

  it('takes a follower already following as resumed only if it has the parameters the resume gives', async () => {
    const parameters = { ...DEFAULT_FOLLOW_PARAMS, max_retry_delay: 2000 };
    const following = [{ ...info('follower', 'logs-a'), status: 'active', parameters } as FollowerInfo];
    const resume = (params: Record<string, unknown>): Promise<FleetResult[]> => applyToFleet(following, async () => {
      throw refused('illegal_state_exception', 'cannot resume [follower/logs-a]: it is already following');
    }, 'resumed', params);

    for (const same of [{ max_retry_delay: '2s' }, { max_retry_delay: 2000, max_outstanding_read_requests: '12' }, {}]) {
      expect((await resume(same)).map((r) => r.outcome), JSON.stringify(same)).to.deep.equal(['already']);
    }
    const other = await resume({ max_retry_delay: '1s' });
    expect(fleetSucceeded(other)).to.equal(false);
    expect(other[0]!.message).to.equal('failed: illegal_state_exception: cannot resume [follower/logs-a]: it is already following '
      + '(with other parameters than those given: pause it first to change them)');
    // Without the parameters in the listing, they cannot be shown to be the ones given.
    const unknown = await applyToFleet(infos.slice(0, 1), async () => {
      throw refused('illegal_state_exception', 'already following');
    }, 'resumed', { max_retry_delay: '2s' });
    expect(unknown.map((r) => r.outcome)).to.deep.equal(['failed']);
  });

  it('takes illegal_state_exception as "already" only: any other refusal of a resume is a failure', async () => {
    const results = await applyToFleet(infos.slice(0, 1), async () => {
      throw refused('illegal_argument_exception', 'follow parameter [max_retry_delay] must be greater than 0');
    }, 'resumed');
    expect(results.map((r) => r.outcome)).to.deep.equal(['failed']);
    const untyped = await applyToFleet(infos.slice(0, 1), async () => {
      throw new Error('socket hang up');
    }, 'paused');
    expect(untyped).to.deep.equal([{ follower: 'follower/logs-a', outcome: 'failed', message: 'failed: socket hang up' }]);
  });
});
