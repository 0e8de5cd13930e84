import { expect } from 'chai';
import { setMaxListeners } from 'node:events';
import { IndexBatchProbe, type ProbeLane } from '../../../src/follow/index-batch-probe.js';

/** Timers the test fires by hand, with the delay each was armed for. */
class ManualTimers {
  readonly armed: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  readonly schedule = (fn: () => void, ms: number): (() => void) => {
    const t = { fn, ms, cancelled: false };
    this.armed.push(t);
    return () => { t.cancelled = true; };
  };

  /** Fires every armed timer not cancelled yet, then lets the rounds' promises settle. */
  async fire(): Promise<void> {
    const due = this.armed.splice(0).filter((t) => !t.cancelled);
    for (const t of due) t.fn();
    await new Promise((r) => setImmediate(r));
  }
}

/** The port the probe reads through: answers from `values`, records every batch asked. */
class FakeReads {
  readonly batches: string[][] = [];
  readonly alone: string[] = [];
  values = new Map<string, number>();
  failBatch: Error | undefined;

  readMany = async (indices: readonly string[]): Promise<Map<string, number>> => {
    this.batches.push([...indices]);
    if (this.failBatch) throw this.failBatch;
    return new Map(indices.filter((i) => this.values.has(i)).map((i) => [i, this.values.get(i)!]));
  };

  readOne = async (index: string): Promise<number> => {
    this.alone.push(index);
    throw new Error(`no such index [${index}]`);
  };
}

/** The message a promise rejects with; fails the test when it resolves. */
async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('IndexBatchProbe', () => {
  const never = new AbortController().signal;
  // Many callers of one test wait on this one signal.
  setMaxListeners(0, never);
  let timers: ManualTimers;
  let reads: FakeReads;
  let now: number;
  let probe: IndexBatchProbe<number>;

  beforeEach(() => {
    timers = new ManualTimers();
    reads = new FakeReads();
    now = 10_250;
    probe = new IndexBatchProbe<number>({ readMany: reads.readMany, readOne: reads.readOne, tickMs: 1000, soonMs: 5, now: () => now, schedule: timers.schedule });
  });
  afterEach(() => probe.close());

  it('answers every caller of a tick from one batched read of all the indices asked', async () => {
    for (let i = 0; i < 50; i += 1) reads.values.set(`idx-${i}`, i);
    const answers = Array.from({ length: 50 }, (_, i) => probe.read(`idx-${i}`, 'tick', never));
    const again = probe.read('idx-7', 'tick', never);
    expect(reads.batches).to.have.length(0);
    await timers.fire();
    expect(reads.batches).to.have.length(1);
    expect(reads.batches[0]).to.have.length(50);
    expect(await Promise.all(answers)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
    expect(await again).to.equal(7);
    expect(probe.stats).to.deep.include({ rounds: 1, indicesAnswered: 50 });
  });

  it('runs tick rounds on the clock, whenever the callers asked, and soon rounds right after the first caller', async () => {
    reads.values.set('a', 1);
    void probe.read('a', 'tick', never);
    expect(timers.armed.map((t) => t.ms)).to.deep.equal([750]);
    now = 10_900;
    void probe.read('b', 'tick', never).catch(() => undefined);
    // The second caller joins the tick already armed.
    expect(timers.armed).to.have.length(1);
    void probe.read('a', 'soon', never);
    expect(timers.armed.map((t) => t.ms)).to.deep.equal([750, 5]);
    await timers.fire();
    expect(reads.batches).to.deep.equal([['a', 'b'], ['a']]);
  });

  it('reads alone an index the batch left out, and gives its caller that read\'s error', async () => {
    reads.values.set('kept', 3);
    const kept = probe.read('kept', 'tick', never);
    const gone = rejection(probe.read('gone', 'tick', never));
    await timers.fire();
    expect(await kept).to.equal(3);
    expect(await gone).to.equal('no such index [gone]');
    expect(reads.alone).to.deep.equal(['gone']);
  });

  it('fails every caller of a round whose batched read failed, and the next round reads again', async () => {
    reads.values.set('a', 1);
    reads.failBatch = new Error('leader unreachable');
    const first = [probe.read('a', 'tick', never), probe.read('b', 'tick', never)].map(rejection);
    await timers.fire();
    expect(await Promise.all(first)).to.deep.equal(['leader unreachable', 'leader unreachable']);
    reads.failBatch = undefined;
    const next = probe.read('a', 'tick', never);
    await timers.fire();
    expect(await next).to.equal(1);
  });

  it('lets a caller leave on its own abort; an index nobody waits for any more is not read', async () => {
    reads.values.set('a', 1).set('b', 2);
    const leaving = new AbortController();
    const left = probe.read('b', 'tick', leaving.signal);
    const stays = probe.read('a', 'tick', never);
    leaving.abort();
    expect(await rejection(left)).to.equal('aborted');
    await timers.fire();
    expect(await stays).to.equal(1);
    expect(reads.batches).to.deep.equal([['a']]);
  });

  it('fails waiting callers when closed, and refuses later reads', async () => {
    const lanes: ProbeLane[] = ['tick', 'soon'];
    const waiting = lanes.map((lane) => rejection(probe.read('a', lane, never)));
    probe.close();
    expect(await Promise.all(waiting)).to.deep.equal(['aborted', 'aborted']);
    expect(await rejection(probe.read('a', 'tick', never))).to.equal('aborted');
    await timers.fire();
    expect(reads.batches).to.have.length(0);
  });
  describe('a caller waiting for news (until)', () => {
    it('stays registered across ticks, one batched read each, and is answered by the first answer that is news', async () => {
      reads.values.set('a', 1).set('b', 7);
      const seen: number[] = [];
      let settled = false;
      const news = probe.read('a', 'tick', never, (v) => { seen.push(v); return v > 1; }).finally(() => { settled = true; });
      const plain = probe.read('b', 'tick', never);
      await timers.fire();
      expect(await plain).to.equal(7);
      expect(settled).to.equal(false);
      await timers.fire();
      reads.values.set('a', 2);
      await timers.fire();
      expect(await news).to.equal(2);
      expect(seen).to.deep.equal([1, 1, 2]);
      expect(reads.batches).to.deep.equal([['a', 'b'], ['a'], ['a']]);
      await timers.fire();
      expect(reads.batches, 'nobody waits after the news').to.have.length(3);
    });

    it('is not kept, nor read for, after its abort while a round was in flight', async () => {
      reads.values.set('a', 1);
      const leaving = new AbortController();
      let release: () => void = () => undefined;
      const slow = new Promise<void>((r) => { release = r; });
      const readMany = reads.readMany;
      reads.readMany = async (indices) => { await slow; return readMany(indices); };
      probe.close();
      probe = new IndexBatchProbe<number>({ readMany: (i) => reads.readMany(i), readOne: reads.readOne, tickMs: 1000, now: () => now, schedule: timers.schedule });
      const left = probe.read('a', 'tick', leaving.signal, () => false);
      await timers.fire();
      leaving.abort();
      release();
      expect(await rejection(left)).to.equal('aborted');
      await new Promise((r) => setImmediate(r));
      await timers.fire();
      expect(reads.batches).to.deep.equal([['a']]);
    });

    it('is failed by a failed round and by a predicate that throws', async () => {
      reads.values.set('a', 1);
      reads.failBatch = new Error('leader unreachable');
      const failed = rejection(probe.read('a', 'tick', never, () => false));
      await timers.fire();
      expect(await failed).to.equal('leader unreachable');
      reads.failBatch = undefined;
      const thrown = rejection(probe.read('a', 'tick', never, () => { throw new Error('index replaced'); }));
      await timers.fire();
      expect(await thrown).to.equal('index replaced');
      await timers.fire();
      expect(reads.batches).to.have.length(2);
    });

    it('is failed with an abort when the probe closes', async () => {
      reads.values.set('a', 1);
      const kept = rejection(probe.read('a', 'tick', never, () => false));
      await timers.fire();
      probe.close();
      expect(await kept).to.equal('aborted');
    });
  });
});
