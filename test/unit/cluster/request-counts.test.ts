import { expect } from 'chai';
import { RATE_WINDOW_S, RequestCounts } from '../../../src/cluster/request-counts.js';

describe('RequestCounts', () => {
  it('gives the rate over the last whole seconds, leaving out the current one and anything older than the window', () => {
    let now = 1_000_000;
    const counts = new RequestCounts(() => now);
    // An old burst, then 3 requests a second for the window.
    for (let i = 0; i < 100; i += 1) counts.count('reads');
    now += (RATE_WINDOW_S + 1) * 1000;
    for (let s = 0; s < RATE_WINDOW_S; s += 1) {
      for (let i = 0; i < 3; i += 1) counts.count('checkpoints');
      now += 1000;
    }
    // The current second's requests count in the totals, not in the rate yet.
    counts.count('metadata');
    const stats = counts.stats();
    expect(stats.per_second.checkpoints).to.equal(3);
    expect(stats.per_second.reads).to.equal(0);
    expect(stats.per_second.metadata).to.equal(0);
    expect(stats.total).to.include({ reads: 100, checkpoints: 3 * RATE_WINDOW_S, metadata: 1 });
  });

  it('sums the rate once a second, and takes in the second just ended at the next', () => {
    let now = 5_000_000;
    const counts = new RequestCounts(() => now);
    counts.count('reads');
    const first = counts.stats();
    counts.count('reads');
    expect(counts.stats().per_second).to.equal(first.per_second);
    expect(counts.stats().total.reads).to.equal(2);
    now += 1000;
    expect(counts.stats().per_second.reads).to.equal(2 / RATE_WINDOW_S);
  });
});
