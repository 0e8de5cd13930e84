/**
 * The poller's loop with a fake sleep: what it waits after each kind of round, which states it
 * goes through, and how it stops. Cluster errors are built by hand: a real leader cannot be made
 * to refuse auth on demand.
 */
import { expect } from 'chai';
import { LeaderPoller, type LeaderPollerState } from '../../../src/autofollow/leader-poller.js';
import { ClusterConnectionError, ClusterResponseError } from '../../../src/cluster/errors.js';
import { silentLogger } from '../../../src/util/logger.js';
import { abortError, type Sleep } from '../../../src/util/sleep.js';
import { waitFor } from '../../helpers/wait-for.js';

const INTERVAL = 1000;
const unreachable = (): Error => new ClusterConnectionError({ alias: 'leader', operation: 'resolve indices', reason: 'ECONNREFUSED' });
const authRefused = (): Error => new ClusterResponseError({ alias: 'leader', operation: 'resolve indices', statusCode: 401, reason: 'unable to authenticate' });

/**
 * Records the delay asked for and ends on the next turn of the event loop (not the next microtask:
 * the test's own waits must get their turn), or rejects like the real sleep when aborted.
 */
function fakeSleep(delays: number[]): Sleep {
  return async (ms, signal) => {
    delays.push(ms);
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (signal?.aborted) throw abortError();
  };
}

describe('LeaderPoller', () => {
  it('polls every interval, backs off from the interval after failed rounds, fatal ones too, and never stops on an error', async () => {
    const delays: number[] = [];
    const errors: string[] = [];
    const outcomes = [unreachable(), authRefused(), authRefused(), undefined, undefined];
    let rounds = 0;
    let stopped: Promise<void> | undefined;
    const poller: LeaderPoller = new LeaderPoller({
      leader: 'leader', intervalMs: INTERVAL, logger: silentLogger, sleep: fakeSleep(delays), random: () => 1,
      round: async () => {
        const outcome = outcomes[rounds];
        rounds += 1;
        if (rounds === outcomes.length) stopped = poller.stop();
        if (outcome) throw outcome;
      },
      onError: (_err, verdict) => errors.push(verdict.action),
    });
    poller.start();
    await waitFor(() => stopped !== undefined, { timeoutMs: 5000, message: 'the last round' });
    await stopped;
    expect(rounds).to.equal(5);
    expect(errors).to.deep.equal(['retry', 'fatal', 'fatal']);
    // Doubling from the interval with each failed round (the jitter draws its top); the interval after a success.
    expect(delays).to.deep.equal([INTERVAL, INTERVAL * 2, INTERVAL * 4, INTERVAL]);
    expect(poller.state).to.equal('stopped');
    expect(poller.timeSinceLastCheck()).to.be.a('number');
  });

  it('caps the backoff at a minute, and starts it over after a round that succeeds', async () => {
    const delays: number[] = [];
    let rounds = 0;
    let stopped: Promise<void> | undefined;
    const poller: LeaderPoller = new LeaderPoller({
      leader: 'leader', intervalMs: INTERVAL, logger: silentLogger, sleep: fakeSleep(delays), random: () => 1,
      round: async () => {
        rounds += 1;
        if (rounds === 10) stopped = poller.stop();
        if (rounds <= 8) throw unreachable();
      },
      onError: () => undefined,
    });
    poller.start();
    await waitFor(() => stopped !== undefined, { timeoutMs: 5000, message: 'the last round' });
    await stopped;
    expect(delays).to.deep.equal([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, INTERVAL]);
  });

  it('tries again, as retryable, a round aborted by something other than its stop', async () => {
    const errors: string[] = [];
    let rounds = 0;
    let stopped: Promise<void> | undefined;
    const poller: LeaderPoller = new LeaderPoller({
      leader: 'leader', intervalMs: INTERVAL, logger: silentLogger, sleep: fakeSleep([]),
      round: async () => {
        rounds += 1;
        if (rounds === 2) stopped = poller.stop();
        if (rounds === 1) throw abortError();
      },
      onError: (_err, verdict) => errors.push(`${verdict.action}: ${verdict.reason}`),
    });
    poller.start();
    await waitFor(() => stopped !== undefined, { timeoutMs: 5000, message: 'the second round' });
    await stopped;
    expect(errors).to.deep.equal(['retry: aborted by another caller']);
  });

  it('goes polling → waiting → polling … → stopping → stopped, and stop() is idempotent', async () => {
    const changes: string[] = [];
    let rounds = 0;
    const poller = new LeaderPoller({
      leader: 'leader', intervalMs: INTERVAL, logger: silentLogger, sleep: fakeSleep([]),
      round: async () => { rounds += 1; },
      onError: () => undefined,
      onStateChange: ({ from, to }) => changes.push(`${from}→${to}`),
    });
    poller.start();
    await waitFor(() => rounds >= 2, { timeoutMs: 5000, message: 'two rounds' });
    const first = poller.stop();
    expect(poller.stop()).to.equal(first);
    await first;
    expect(changes.slice(0, 3)).to.deep.equal(['idle→polling', 'polling→waiting', 'waiting→polling']);
    expect(changes.slice(-2)[1]).to.equal('stopping→stopped');
    expect(changes.slice(-2)[0]).to.match(/→stopping$/);
  });

  it('stops during a round by aborting its signal, without reporting the abort as an error', async () => {
    const errors: unknown[] = [];
    let started = false;
    const poller = new LeaderPoller({
      leader: 'leader', intervalMs: INTERVAL, logger: silentLogger,
      round: (signal) => new Promise<void>((_resolve, reject) => {
        started = true;
        signal.addEventListener('abort', () => reject(abortError()), { once: true });
      }),
      onError: (err) => errors.push(err),
    });
    poller.start();
    await waitFor(() => started, { timeoutMs: 5000, message: 'the round to start' });
    expect(poller.state).to.equal('polling');
    await poller.stop();
    expect(poller.state).to.equal('stopped');
    expect(errors).to.deep.equal([]);
  });

  it('can be stopped before it starts, and refuses an illegal transition', async () => {
    const states: LeaderPollerState[] = [];
    const poller = new LeaderPoller({
      leader: 'leader', intervalMs: INTERVAL, logger: silentLogger, round: async () => undefined, onError: () => undefined,
      onStateChange: ({ to }) => states.push(to),
    });
    await poller.stop();
    expect(states).to.deep.equal(['stopped']);
    expect(() => poller.start()).to.throw('illegal transition stopped → polling');
  });
});
