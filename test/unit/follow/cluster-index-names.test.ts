import { expect } from 'chai';
import { ClusterIndexNames } from '../../../src/follow/cluster-index-names.js';

const signal = new AbortController().signal;
const wanted = Array.from({ length: 300 }, (_, i) => `logs-${String(i).padStart(3, '0')}`);
const settled = (): Promise<void> => new Promise((resolve) => { setImmediate(resolve); });

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
    refusedMs: 600_000,
  });
  return { names, lists: () => lists, advance: (ms) => (now += ms) };
}

describe('ClusterIndexNames', () => {
  it('names each index itself until the listing (read beside the caller) arrives, then by a pattern, listing again after a minute', async () => {
    const h = harness(() => [...wanted, 'metrics']);
    expect(h.names.expressionsFor(wanted, signal)).to.equal(wanted);
    await settled();
    expect(h.names.expressionsFor(wanted, signal)).to.deep.equal(['logs-*']);
    h.advance(59_000);
    expect(h.names.expressionsFor(wanted, signal)).to.deep.equal(['logs-*']);
    expect(h.lists()).to.equal(1);
    h.advance(1_000);
    h.names.expressionsFor(wanted, signal);
    h.names.expressionsFor(wanted, signal);
    expect(h.lists(), 'one listing at a time').to.equal(2);
  });

  it('lists again soon when a wanted index is not in the listing, and never leaves it out meanwhile', async () => {
    let listing: string[] = [...wanted, 'logs-new-other'];
    const h = harness(() => listing);
    h.names.expressionsFor(wanted, signal);
    await settled();
    const withNew = [...wanted, 'logs-new'];
    expect(h.names.expressionsFor(withNew, signal)).to.include('logs-new');
    expect(h.lists()).to.equal(1);
    h.advance(10_000);
    listing = [...listing, 'logs-new'];
    h.names.expressionsFor(withNew, signal);
    await settled();
    expect(h.lists()).to.equal(2);
    const expressions = h.names.expressionsFor(withNew, signal);
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
    names.expressionsFor(wanted, signal);
    await settled();
    expect(names.expressionsFor(wanted, signal)).to.equal(wanted);
    expect(lists).to.equal(1);
    fail = false;
    now += 60_000;
    names.expressionsFor(wanted, signal);
    await settled();
    expect(names.expressionsFor(wanted, signal)).to.deep.equal(['logs-*']);
    expect(lists).to.equal(2);
  });

  it('reads again by the names when a read by patterns fails, and lets patterns rest for a while', async () => {
    const h = harness(() => [...wanted, 'logs-secret']);
    h.names.expressionsFor(wanted, signal);
    await settled();
    const asked: (readonly string[])[] = [];
    const refusePatterns = async (expressions: readonly string[]): Promise<string> => {
      asked.push(expressions);
      if (expressions.some((e) => e.endsWith('*'))) throw new Error('403 no permissions for [logs-secret]');
      return 'answered';
    };
    expect(await h.names.read(wanted, signal, refusePatterns)).to.equal('answered');
    expect(asked).to.have.length(2);
    expect(asked[1]).to.equal(wanted);
    await h.names.read(wanted, signal, refusePatterns);
    expect(asked, 'no pattern while they rest').to.have.length(3);
    h.advance(600_000);
    await settled();
    await h.names.read(wanted, signal, refusePatterns);
    expect(asked[3]!.some((e) => e.endsWith('*'))).to.equal(true);
  });

  it('does not list for a single name', () => {
    const h = harness(() => wanted);
    expect(h.names.expressionsFor(['logs-001'], signal)).to.deep.equal(['logs-001']);
    expect(h.lists()).to.equal(0);
  });
});
