import { expect } from 'chai';
import { AdaptiveConcurrency, type ConcurrencySample } from '../../../src/shard/adaptive-concurrency.js';

const bulk = (latencyMs: number, extra: Partial<ConcurrencySample> = {}): ConcurrencySample => ({
  latencyMs, operations: 1000, throttled: false, saturated: true, ...extra,
});

/** Feeds whole rounds (as many samples as the limit) of the same sample. */
function rounds(c: AdaptiveConcurrency, n: number, sample: (limit: number) => ConcurrencySample): void {
  for (let r = 0; r < n; r += 1) {
    const limit = c.limit;
    for (let i = 0; i < limit; i += 1) c.record(sample(limit));
  }
}

describe('AdaptiveConcurrency', () => {
  it('grows by one per round while requests wait and latency stays near its best', () => {
    const c = new AdaptiveConcurrency({ initial: 2, max: 10 });
    rounds(c, 3, () => bulk(100));
    expect(c.limit).to.equal(5);
    expect(c.lastChange).to.include({ from: 4, to: 5 });
    expect(c.lastChange.reason).to.match(/^requests waiting, bulk latency 100 ms per 1000 operations, 1\.00× the best recent/);
  });

  it('does not grow while nothing waits for a slot: the limit is not what holds writes back', () => {
    const c = new AdaptiveConcurrency({ initial: 2 });
    rounds(c, 5, () => bulk(100, { saturated: false }));
    expect(c.limit).to.equal(2);
    expect(c.lastChange.reason).to.equal('initial limit');
  });

  it('settles where one more request in flight only makes every request slower', () => {
    // A follower with 2 indexing threads: up to 2 in flight take 100 ms; beyond, requests queue in it.
    const c = new AdaptiveConcurrency({ initial: 1, max: 20 });
    const seen = new Set<number>();
    rounds(c, 40, (limit) => {
      seen.add(limit);
      return bulk(100 * Math.max(1, limit / 2));
    });
    expect(c.limit).to.be.within(2, 4);
    expect(Math.max(...seen)).to.be.at.most(5);
  });

  it('gives one back when latency passes twice the best recent', () => {
    const c = new AdaptiveConcurrency({ initial: 4 });
    rounds(c, 1, () => bulk(100, { saturated: false }));
    rounds(c, 1, () => bulk(190));
    expect(c.limit, 'within 2×: kept').to.equal(4);
    rounds(c, 1, () => bulk(250));
    expect(c.limit).to.equal(3);
    expect(c.lastChange.reason).to.match(/^bulk latency 250 ms per 1000 operations, 2\.50× the best recent \(100\)/);
  });

  it('halves on a 429, once for the requests that were in flight together, then again if 429s go on', () => {
    let now = 1_000;
    const c = new AdaptiveConcurrency({ initial: 8, now: () => now });
    now = 2_000;
    c.record(bulk(100, { throttled: true }));
    expect(c.limit).to.equal(4);
    expect(c.lastChange).to.deep.equal({ from: 8, to: 4, at: 2_000, reason: 'the follower answered 429 (too many requests)' });
    // The other 7 requests sent under the old limit answer 429 too: the same signal.
    for (let i = 0; i < 7; i += 1) c.record(bulk(100, { throttled: true }));
    expect(c.limit).to.equal(4);
    c.record(bulk(100, { throttled: true }));
    expect(c.limit).to.equal(2);
  });

  it('never goes below min or above max', () => {
    const c = new AdaptiveConcurrency({ initial: 2, min: 2, max: 3 });
    rounds(c, 10, () => bulk(100));
    expect(c.limit).to.equal(3);
    for (let i = 0; i < 20; i += 1) c.record(bulk(100, { throttled: true }));
    expect(c.limit).to.equal(2);
  });

  it('keeps two in flight by default however slow or throttled the follower, unless max is lower', () => {
    const c = new AdaptiveConcurrency({ initial: 6 });
    rounds(c, 1, () => bulk(100, { saturated: false }));
    rounds(c, 10, () => bulk(1_000));
    for (let i = 0; i < 20; i += 1) c.record(bulk(100, { throttled: true }));
    expect(c.limit).to.equal(2);
    const one = new AdaptiveConcurrency({ initial: 3, max: 1 });
    expect(one.limit).to.equal(1);
  });

  it('leaves small bulks out of the latency comparison', () => {
    const c = new AdaptiveConcurrency({ initial: 3 });
    rounds(c, 1, () => bulk(100, { saturated: false }));
    // 10 operations in 100 ms is 10,000 ms per 1000 operations, but says nothing about queueing.
    for (let i = 0; i < 30; i += 1) c.record(bulk(100, { operations: 10 }));
    expect(c.limit).to.equal(3);
    expect(c.baselineMsPerKiloOps).to.equal(100);
  });
});
