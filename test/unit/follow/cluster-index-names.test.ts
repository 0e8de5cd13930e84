import { expect } from 'chai';
import { ClusterIndexNames } from '../../../src/follow/cluster-index-names.js';

const signal = new AbortController().signal;
const wanted = Array.from({ length: 300 }, (_, i) => `logs-${String(i).padStart(3, '0')}`);

function harness(listing: () => readonly string[]): { names: ClusterIndexNames; lists: () => number; advance: (ms: number) => void } {
  let now = 1_000_000;
  let lists = 0;
  const names = new ClusterIndexNames({
    list: async () => {
      lists += 1;
      return listing();
    },
    now: () => now,
    relistMs: 60_000,
    missingRelistMs: 10_000,
  });
  return { names, lists: () => lists, advance: (ms) => (now += ms) };
}

describe('ClusterIndexNames', () => {
  it('names many followed indices by a pattern from one listing, kept for a minute', async () => {
    const h = harness(() => [...wanted, 'metrics']);
    expect(await h.names.expressionsFor(wanted, signal)).to.deep.equal(['logs-*']);
    h.advance(59_000);
    expect(await h.names.expressionsFor(wanted, signal)).to.deep.equal(['logs-*']);
    expect(h.lists()).to.equal(1);
    h.advance(1_000);
    await h.names.expressionsFor(wanted, signal);
    expect(h.lists()).to.equal(2);
  });

  it('lists again soon when a wanted index is not in the listing, and never excludes it meanwhile', async () => {
    let listing: string[] = [...wanted, 'logs-new-other'];
    const h = harness(() => listing);
    await h.names.expressionsFor(wanted, signal);
    const withNew = [...wanted, 'logs-new'];
    // Unknown to the listing: still named, here by itself.
    expect(await h.names.expressionsFor(withNew, signal)).to.include('logs-new');
    expect(h.lists()).to.equal(1);
    h.advance(10_000);
    listing = [...listing, 'logs-new'];
    const expressions = await h.names.expressionsFor(withNew, signal);
    expect(h.lists()).to.equal(2);
    expect(expressions).to.not.include('logs-new-other');
    expect(expressions.some((e) => 'logs-new'.startsWith(e.replace(/\*$/, '')))).to.equal(true);
  });

  it('names each index itself while the listing fails, and tries again after the same wait', async () => {
    let fail = true;
    let now = 0;
    let lists = 0;
    const names = new ClusterIndexNames({
      list: async () => {
        lists += 1;
        if (fail) throw new Error('unauthorized');
        return wanted;
      },
      now: () => now,
    });
    expect(await names.expressionsFor(wanted, signal)).to.deep.equal(wanted);
    expect(await names.expressionsFor(wanted, signal)).to.deep.equal(wanted);
    expect(lists).to.equal(1);
    fail = false;
    now += 60_000;
    expect(await names.expressionsFor(wanted, signal)).to.deep.equal(['logs-*']);
    expect(lists).to.equal(2);
  });

  it('lists once for callers asking at the same time, and not at all for a single name', async () => {
    const h = harness(() => wanted);
    expect(await h.names.expressionsFor(['logs-001'], signal)).to.deep.equal(['logs-001']);
    expect(h.lists()).to.equal(0);
    const [a, b] = await Promise.all([h.names.expressionsFor(wanted, signal), h.names.expressionsFor(wanted.slice(0, 10), signal)]);
    expect(h.lists()).to.equal(1);
    expect(a).to.deep.equal(['logs-*']);
    expect(b).to.deep.equal(['logs-00*']);
  });
});
