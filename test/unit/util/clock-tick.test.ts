import { expect } from 'chai';
import { everyClockTick } from '../../../src/util/clock-tick.js';

/** A clock and timers moved by hand. */
function fakeTimers(start: number): { now: () => number; schedule: (fn: () => void, ms: number) => () => void; advanceTo: (t: number) => void } {
  let now = start;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    schedule: (fn, ms) => {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return () => { timers = timers.filter((t) => t !== timer); };
    },
    advanceTo: (t) => {
      for (;;) {
        const next = timers.filter((x) => x.at <= t).sort((a, b) => a.at - b.at)[0];
        if (next === undefined) break;
        timers = timers.filter((x) => x !== next);
        now = next.at;
        next.fn();
      }
      now = t;
    },
  };
}

describe('everyClockTick', () => {
  it('fires on the clock\'s multiples of the period, whenever it was started', () => {
    const clock = fakeTimers(10_250);
    const seen: number[] = [];
    const other: number[] = [];
    everyClockTick(() => seen.push(clock.now()), 1000, clock);
    clock.advanceTo(10_700);
    everyClockTick(() => other.push(clock.now()), 1000, clock);
    clock.advanceTo(13_500);
    expect(seen).to.deep.equal([11_000, 12_000, 13_000]);
    expect(other).to.deep.equal(seen);
  });

  it('stops, also when stopped by its own callback', () => {
    const clock = fakeTimers(0);
    let calls = 0;
    const stop = everyClockTick(() => {
      calls += 1;
      if (calls === 2) stop();
    }, 100, clock);
    clock.advanceTo(1_000);
    expect(calls).to.equal(2);
    let later = 0;
    const stopLater = everyClockTick(() => { later += 1; }, 100, clock);
    stopLater();
    clock.advanceTo(2_000);
    expect(later).to.equal(0);
  });
});
