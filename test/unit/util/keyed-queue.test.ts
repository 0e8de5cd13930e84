import { expect } from 'chai';
import { KeyedQueue } from '../../../src/util/keyed-queue.js';

/** A promise resolved from outside, to hold a task open. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('KeyedQueue', () => {
  it('runs the tasks of one key one after another, in call order', async () => {
    const queue = new KeyedQueue();
    const order: string[] = [];
    const first = gate();
    const a = queue.run('k', async () => { await first.promise; order.push('a'); });
    const b = queue.run('k', async () => { order.push('b'); });
    await Promise.resolve();
    expect(order).to.deep.equal([]);
    first.open();
    await Promise.all([a, b]);
    expect(order).to.deep.equal(['a', 'b']);
  });

  it('does not hold one key behind another', async () => {
    const queue = new KeyedQueue();
    const held = gate();
    const slow = queue.run('x', () => held.promise);
    expect(await queue.run('y', async () => 'done')).to.equal('done');
    held.open();
    await slow;
  });

  it('gives a failure to its caller only, and runs the next task all the same', async () => {
    const queue = new KeyedQueue();
    const failed = queue.run('k', async () => { throw new Error('boom'); });
    const next = queue.run('k', async () => 7);
    let caught: unknown;
    await failed.catch((err: unknown) => (caught = err));
    expect((caught as Error).message).to.equal('boom');
    expect(await next).to.equal(7);
  });

  it('idle and allIdle settle only after the tasks queued before them', async () => {
    const queue = new KeyedQueue();
    const held = gate();
    let finished = false;
    void queue.run('k', async () => { await held.promise; finished = true; });
    const idle = queue.idle('k').then(() => finished);
    const all = queue.allIdle().then(() => finished);
    held.open();
    expect(await idle).to.equal(true);
    expect(await all).to.equal(true);
    expect(await queue.idle('never-used').then(() => 'at once')).to.equal('at once');
  });
});
