import { expect } from 'chai';
import { RetryPolicy } from '../../../src/cluster/retry.js';
import { mulberry32 } from '../../helpers/prng.js';

/** The un-jittered ceiling of attempt `n`: 50 ms doubling, capped. */
const ceiling = (attempt: number, max: number): number => Math.min(max, 50 * 2 ** (attempt - 1));

describe('RetryPolicy', () => {
  describe('delayMs', () => {
    it('doubles with every attempt', () => {
      const policy = new RetryPolicy(60_000, () => 1);
      const delays = [1, 2, 3, 4, 5, 6, 7].map((a) => policy.delayMs(a));
      expect(delays).to.deep.equal([50, 100, 200, 400, 800, 1600, 3200]);
    });

    it('never waits longer than max_retry_delay', () => {
      const policy = new RetryPolicy(500, () => 1);
      const delays = [1, 2, 3, 4, 5, 6, 10, 50].map((a) => policy.delayMs(a));
      expect(delays).to.deep.equal([50, 100, 200, 400, 500, 500, 500, 500]);
    });

    it('stops doubling after 30 attempts, so a huge max_retry_delay still gives a finite delay', () => {
      // 50 ms · 2^9999 is Infinity; the exponent is held at 30, whatever the attempt number.
      const policy = new RetryPolicy(Number.MAX_SAFE_INTEGER, () => 1);
      expect(policy.delayMs(31)).to.equal(50 * 2 ** 30);
      expect(policy.delayMs(10_000)).to.equal(50 * 2 ** 30);
    });

    it('treats attempt 0 or below as the first attempt', () => {
      const policy = new RetryPolicy(500, () => 1);
      expect(policy.delayMs(0)).to.equal(50);
      expect(policy.delayMs(-3)).to.equal(50);
    });

    it('waits half the ceiling when the jitter draws 0', () => {
      const policy = new RetryPolicy(500, () => 0);
      expect([1, 2, 3, 4, 5, 9].map((a) => policy.delayMs(a))).to.deep.equal([25, 50, 100, 200, 250, 250]);
    });

    it('spreads delays across [ceiling/2, ceiling] with the injected random source', () => {
      for (const max of [1, 75, 500, 10_000]) {
        const random = mulberry32(max);
        const policy = new RetryPolicy(max, random);
        for (let attempt = 1; attempt <= 40; attempt += 1) {
          const cap = ceiling(attempt, max);
          const delay = policy.delayMs(attempt);
          expect(delay, `attempt ${attempt}, max ${max}`).to.be.within(Math.floor(cap / 2), cap);
        }
      }
      // And it really is the injected source that decides: a mid draw lands mid-range.
      expect(new RetryPolicy(500, () => 0.5).delayMs(4)).to.equal(300);
    });

    it('draws its jitter from Math.random by default', () => {
      const random = Math.random;
      try {
        Math.random = () => 0.5;
        expect(new RetryPolicy(500).delayMs(3)).to.equal(150);
        Math.random = () => 0;
        expect(new RetryPolicy(500).delayMs(3)).to.equal(100);
      } finally {
        Math.random = random;
      }
    });
  });
});
