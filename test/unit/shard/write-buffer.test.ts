import { expect } from 'chai';
import { WriteBuffer, type BufferedOp } from '../../../src/shard/write-buffer.js';

interface Op extends BufferedOp<string> {
  readonly n: number;
}

const op = (n: number, sizeInBytes = 10): Op => ({ n, sizeInBytes, window: `w${Math.floor(n / 10)}` });
const ns = (ops: readonly Op[]): number[] => ops.map((o) => o.n);
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

describe('WriteBuffer', () => {
  it('starts empty and takes nothing when empty', () => {
    const buffer = new WriteBuffer<Op>();
    expect(buffer.count).to.equal(0);
    expect(buffer.sizeInBytes).to.equal(0);
    expect(buffer.take(10, 1000)).to.deep.equal([]);
  });

  it('hands operations out first in, first out across pushes', () => {
    const buffer = new WriteBuffer<Op>();
    buffer.push([op(1), op(2)]);
    buffer.push([op(3)]);
    expect(ns(buffer.take(2, Infinity))).to.deep.equal([1, 2]);
    buffer.push([op(4), op(5)]);
    expect(ns(buffer.take(10, Infinity))).to.deep.equal([3, 4, 5]);
    expect(buffer.count).to.equal(0);
  });

  it('counts operations and bytes as they go in and out', () => {
    const buffer = new WriteBuffer<Op>();
    buffer.push([op(1, 100), op(2, 250), op(3, 7)]);
    expect(buffer.count).to.equal(3);
    expect(buffer.sizeInBytes).to.equal(357);
    buffer.take(1, Infinity);
    expect(buffer.count).to.equal(2);
    expect(buffer.sizeInBytes).to.equal(257);
    buffer.take(5, Infinity);
    expect(buffer.count).to.equal(0);
    expect(buffer.sizeInBytes).to.equal(0);
  });

  describe('take', () => {
    it('takes at most maxCount operations', () => {
      const buffer = new WriteBuffer<Op>();
      buffer.push(range(0, 10).map((n) => op(n)));
      expect(ns(buffer.take(4, Infinity))).to.deep.equal([0, 1, 2, 3]);
      expect(buffer.count).to.equal(6);
    });

    it('stops before the operation that would go over maxBytes', () => {
      const buffer = new WriteBuffer<Op>();
      buffer.push([op(1, 40), op(2, 40), op(3, 40)]);
      expect(ns(buffer.take(10, 100))).to.deep.equal([1, 2]);
      expect(buffer.sizeInBytes).to.equal(40);
    });

    it('fills a batch up to exactly maxBytes', () => {
      const buffer = new WriteBuffer<Op>();
      buffer.push([op(1, 50), op(2, 50), op(3, 1)]);
      expect(ns(buffer.take(10, 100))).to.deep.equal([1, 2]);
    });

    it('always takes one operation, even one larger than maxBytes', () => {
      const buffer = new WriteBuffer<Op>();
      buffer.push([op(1, 5000), op(2, 1)]);
      expect(ns(buffer.take(10, 100))).to.deep.equal([1]);
      expect(buffer.count).to.equal(1);
      expect(buffer.sizeInBytes).to.equal(1);
    });
  });

  it('keeps order and accounting through compaction of the consumed prefix', () => {
    const buffer = new WriteBuffer<Op>();
    let next = 0;
    let expected = 0;
    let bytesIn = 0;
    let bytesOut = 0;
    // Far more than the compaction threshold, interleaving pushes and takes of different sizes.
    for (let round = 0; round < 400; round += 1) {
      const batch = range(next, 13).map((n) => op(n, 1 + (n % 7)));
      next += 13;
      bytesIn += batch.reduce((s, o) => s + o.sizeInBytes, 0);
      buffer.push(batch);
      const taken = buffer.take(round % 2 === 0 ? 11 : 17, Infinity);
      bytesOut += taken.reduce((s, o) => s + o.sizeInBytes, 0);
      expect(ns(taken)).to.deep.equal(range(expected, taken.length));
      expected += taken.length;
      expect(buffer.count).to.equal(next - expected);
      expect(buffer.sizeInBytes).to.equal(bytesIn - bytesOut);
    }
    const rest = buffer.take(Infinity, Infinity);
    expect(ns(rest)).to.deep.equal(range(expected, next - expected));
    expect(buffer.count).to.equal(0);
    expect(buffer.sizeInBytes).to.equal(0);
  });

  it('forgets everything on clear()', () => {
    const buffer = new WriteBuffer<Op>();
    buffer.push([op(1), op(2)]);
    buffer.take(1, Infinity);
    buffer.clear();
    expect(buffer.count).to.equal(0);
    expect(buffer.sizeInBytes).to.equal(0);
    expect(buffer.take(10, Infinity)).to.deep.equal([]);
    buffer.push([op(3)]);
    expect(ns(buffer.take(10, Infinity))).to.deep.equal([3]);
  });
});
