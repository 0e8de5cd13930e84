import { expect } from 'chai';
import { SeqNoTracker } from '../../../src/shard/seq-no-tracker.js';
import { mulberry32, randomInt, shuffle } from '../../helpers/prng.js';

describe('SeqNoTracker', () => {
  it('starts at the initial checkpoint with nothing pending', () => {
    const tracker = new SeqNoTracker(41);
    expect(tracker.checkpoint).to.equal(41);
    expect(tracker.pendingWindows).to.equal(0);
  });

  describe('markCompleted', () => {
    it('advances over windows completed in order', () => {
      const tracker = new SeqNoTracker(-1);
      expect(tracker.markCompleted(-1, 9)).to.equal(true);
      expect(tracker.checkpoint).to.equal(9);
      expect(tracker.markCompleted(9, 19)).to.equal(true);
      expect(tracker.checkpoint).to.equal(19);
      expect(tracker.pendingWindows).to.equal(0);
    });

    it('holds a window completed out of order until the window below it completes', () => {
      const tracker = new SeqNoTracker(-1);
      expect(tracker.markCompleted(9, 19)).to.equal(false);
      expect(tracker.checkpoint).to.equal(-1);
      expect(tracker.pendingWindows).to.equal(1);
      expect(tracker.markCompleted(-1, 9)).to.equal(true);
      expect(tracker.checkpoint).to.equal(19);
      expect(tracker.pendingWindows).to.equal(0);
    });

    it('lets a gap hold the checkpoint back however much completes above it', () => {
      const tracker = new SeqNoTracker(-1);
      tracker.markCompleted(-1, 4);
      tracker.markCompleted(9, 14);
      tracker.markCompleted(14, 19);
      tracker.markCompleted(19, 100);
      expect(tracker.checkpoint).to.equal(4);
      expect(tracker.pendingWindows).to.equal(3);
      expect(tracker.markCompleted(4, 9)).to.equal(true);
      expect(tracker.checkpoint).to.equal(100);
      expect(tracker.pendingWindows).to.equal(0);
    });

    it('ignores a window at or below the checkpoint (a re-applied window)', () => {
      const tracker = new SeqNoTracker(-1);
      tracker.markCompleted(-1, 9);
      expect(tracker.markCompleted(-1, 9)).to.equal(false);
      expect(tracker.markCompleted(4, 9)).to.equal(false);
      expect(tracker.markCompleted(2, 3)).to.equal(false);
      expect(tracker.checkpoint).to.equal(9);
      expect(tracker.pendingWindows).to.equal(0);
    });

    it('counts a window that straddles the checkpoint from the checkpoint up', () => {
      const tracker = new SeqNoTracker(-1);
      tracker.markCompleted(-1, 9);
      expect(tracker.markCompleted(4, 14)).to.equal(true);
      expect(tracker.checkpoint).to.equal(14);
      expect(tracker.pendingWindows).to.equal(0);
    });

    it('keeps a window reported twice above the checkpoint as one pending window', () => {
      const tracker = new SeqNoTracker(-1);
      tracker.markCompleted(9, 19);
      tracker.markCompleted(9, 19);
      expect(tracker.pendingWindows).to.equal(1);
      tracker.markCompleted(-1, 9);
      expect(tracker.checkpoint).to.equal(19);
      expect(tracker.pendingWindows).to.equal(0);
    });

    it('keeps the wider of two windows starting at the same seq_no', () => {
      const tracker = new SeqNoTracker(-1);
      tracker.markCompleted(9, 29);
      tracker.markCompleted(9, 19);
      tracker.markCompleted(-1, 9);
      expect(tracker.checkpoint).to.equal(29);
    });

    it('refuses an empty window', () => {
      const tracker = new SeqNoTracker(-1);
      expect(() => tracker.markCompleted(10, 9)).to.throw(RangeError, /empty window \(10, 9\]/);
      expect(tracker.checkpoint).to.equal(-1);
    });
  });

  describe('with windows completed in random order', () => {
    for (const seed of [1, 2, 3, 42, 1337, 20240601, 987654321]) {
      it(`always equals the end of the longest completed prefix of windows (seed ${seed})`, () => {
        const random = mulberry32(seed);
        const n = randomInt(random, 1, 2000);
        // Split (-1, n] into windows of random length.
        const windows: Array<{ from: number; to: number }> = [];
        for (let from = -1; from < n;) {
          const to = Math.min(n, from + randomInt(random, 1, 60));
          windows.push({ from, to });
          from = to;
        }
        const done = new Array<boolean>(windows.length).fill(false);
        const order = shuffle(random, windows.map((_, i) => i));
        const tracker = new SeqNoTracker(-1);
        let expected = -1;
        let prefix = 0;
        for (const i of order) {
          const w = windows[i]!;
          const before = tracker.checkpoint;
          const advanced = tracker.markCompleted(w.from, w.to);
          done[i] = true;
          while (prefix < windows.length && done[prefix]) {
            expected = windows[prefix]!.to;
            prefix += 1;
          }
          expect(tracker.checkpoint, `after completing (${w.from}, ${w.to}]`).to.equal(expected);
          expect(advanced).to.equal(expected > before);
          // Re-reporting an already completed window now and then must change nothing.
          if (random() < 0.2) {
            const again = windows[order[randomInt(random, 0, order.indexOf(i))]!]!;
            expect(tracker.markCompleted(again.from, again.to)).to.equal(false);
            expect(tracker.checkpoint).to.equal(expected);
          }
        }
        expect(tracker.checkpoint).to.equal(n);
        expect(tracker.pendingWindows).to.equal(0);
      });
    }
  });
});
