/**
 * The one retry loop, `retry()`, with a fake sleep: how many attempts it makes, what it waits
 * between them, and what ends it. Errors are built by hand: the point is each path of the loop.
 */
import { expect } from 'chai';
import { ClusterAbortedError, ClusterConnectionError, ClusterResponseError } from '../../../src/cluster/errors.js';
import { retry, RetryPolicy, type RetriedFailure } from '../../../src/cluster/retry.js';
import { abortError } from '../../../src/util/sleep.js';
import { FakeSleep } from '../shard/fakes.js';

const unreachable = (): Error => new ClusterConnectionError({ alias: 'leader', operation: 'search', reason: 'connect ECONNREFUSED' });
const throttled = (): Error => new ClusterResponseError({ alias: 'follower', operation: 'bulk', statusCode: 429, esType: 'es_rejected_execution_exception', reason: 'queue full' });
const rejected = (): Error => new ClusterResponseError({ alias: 'follower', operation: 'bulk', statusCode: 400, esType: 'mapper_parsing_exception', reason: 'bad field' });

/** An attempt that fails with `failures` in turn, then answers 'done'; it counts its calls. */
function attempts(...failures: Array<() => unknown>): { fn: (n: number) => Promise<string>; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    fn: async (n) => {
      calls.push(n);
      const failure = failures[calls.length - 1];
      if (failure) throw failure();
      return 'done';
    },
  };
}

describe('retry', () => {
  let sleep: FakeSleep;
  let retried: RetriedFailure[];
  const policy = new RetryPolicy(500, () => 1);

  beforeEach(() => {
    sleep = new FakeSleep();
    retried = [];
  });

  const options = (signal = new AbortController().signal) => ({ signal, policy, sleep: sleep.sleep, onRetry: (f: RetriedFailure) => retried.push(f) });

  it('retries exactly N retryable failures, then resolves with the value of the attempt that succeeded', async () => {
    const run = attempts(unreachable, throttled, unreachable);
    expect(await retry(run.fn, options())).to.equal('done');
    expect(run.calls).to.deep.equal([1, 2, 3, 4]);
    expect(retried.map((f) => [f.action, f.attempt, f.delayMs])).to.deep.equal([['retry', 1, 50], ['retry', 2, 100], ['retry', 3, 200]]);
    expect(retried[1]!.reason).to.match(/^too many requests|^the cluster is rejecting work/);
    expect(sleep.calls.map((c) => c.ms)).to.deep.equal([50, 100, 200]);
  });

  it('caps the backoff at the policy\'s max delay', async () => {
    const run = attempts(...Array.from({ length: 7 }, () => unreachable));
    await retry(run.fn, options());
    expect(sleep.calls.map((c) => c.ms)).to.deep.equal([50, 100, 200, 400, 500, 500, 500]);
  });

  it('rejects at once with the error itself when classify calls it fatal, without sleeping', async () => {
    const err = rejected();
    const run = attempts(unreachable, () => err, unreachable);
    const failure = await retry(run.fn, options()).then(() => undefined, (e: unknown) => e);
    expect(failure).to.equal(err);
    expect(run.calls).to.deep.equal([1, 2]);
    expect(sleep.calls).to.have.length(1);
    expect(retried).to.have.length(1);
  });

  it('with maxAttempts, rejects with the last retryable error once that many attempts failed', async () => {
    const last = throttled();
    const run = attempts(unreachable, unreachable, () => last, unreachable);
    const failure = await retry(run.fn, { ...options(), maxAttempts: 3 }).then(() => undefined, (e: unknown) => e);
    expect(failure).to.equal(last);
    expect(run.calls).to.deep.equal([1, 2, 3]);
    expect(sleep.calls.map((c) => c.ms)).to.deep.equal([50, 100]);
  });

  it('treats an unknown error as fatal', async () => {
    const run = attempts(() => new TypeError('x is undefined'));
    const failure = await retry(run.fn, options()).then(() => undefined, (e: unknown) => e);
    expect(failure).to.be.instanceOf(TypeError);
    expect(run.calls).to.deep.equal([1]);
  });

  it('with retryFatal, retries a fatal error too and reports it as fatal', async () => {
    const run = attempts(rejected, unreachable);
    expect(await retry(run.fn, { ...options(), retryFatal: true })).to.equal('done');
    expect(retried.map((f) => f.action)).to.deep.equal(['fatal', 'retry']);
  });

  it('stops a sleep in progress when its signal aborts, rejecting with an AbortError and trying no more', async () => {
    sleep.hold = true;
    const abort = new AbortController();
    const run = attempts(unreachable, unreachable);
    const result = retry(run.fn, options(abort.signal)).then(() => 'resolved', (e: unknown) => e);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sleep.calls).to.have.length(1);
    abort.abort();
    const err = await result;
    expect(err).to.be.instanceOf(Error).with.property('name', 'AbortError');
    expect(run.calls).to.deep.equal([1]);
  });

  it('does not retry an attempt that failed after its own signal aborted, whatever the error', async () => {
    const abort = new AbortController();
    const run = attempts(() => {
      abort.abort();
      return unreachable();
    });
    const err = await retry(run.fn, options(abort.signal)).then(() => undefined, (e: unknown) => e);
    expect(err).to.have.property('name', 'AbortError');
    expect(sleep.calls).to.have.length(0);
  });

  it('makes no attempt with a signal already aborted', async () => {
    const run = attempts();
    const err = await retry(run.fn, options(AbortSignal.abort())).then(() => undefined, (e: unknown) => e);
    expect(err).to.have.property('name', 'AbortError');
    expect(run.calls).to.deep.equal([]);
  });

  it('retries an attempt aborted on another caller\'s behalf while its own signal is live', async () => {
    const run = attempts(() => abortError(), () => new ClusterAbortedError({ alias: 'leader', operation: 'refresh', reason: 'request aborted' }));
    expect(await retry(run.fn, options())).to.equal('done');
    expect(retried.map((f) => [f.action, f.reason])).to.deep.equal([['retry', 'aborted by another caller'], ['retry', 'aborted by another caller']]);
  });

  it('starts from the first delay again on each call', async () => {
    await retry(attempts(unreachable, unreachable).fn, options());
    await retry(attempts(unreachable).fn, options());
    expect(sleep.calls.map((c) => c.ms)).to.deep.equal([50, 100, 50]);
  });
});
