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
});
