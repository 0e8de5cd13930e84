// The lease rules with a hand-moved clock: expiry judged by the observer's own clock, the holder's
// give-up time, the share rule and what a round takes and hands over.
import { expect } from 'chai';
import { fairShare, giveUpAt, type LeaseSeen, planRound, renewalIntervalMs, Sightings, surplus } from '../../../src/lease/lease-rules.js';

const T = 30_000;

function leases(...entries: [string, string | null, string][]): Map<string, LeaseSeen> {
  return new Map(entries.map(([resource, owner, version]) => [resource, { resource, owner, version }]));
}

describe('lease rules', () => {
  it('renews every third of the timeout and gives up two thirds after the last renewal that landed was sent', () => {
    expect(renewalIntervalMs(T)).to.equal(10_000);
    expect(giveUpAt(1_000, T)).to.equal(21_000);
    expect(renewalIntervalMs(6_000)).to.equal(2_000);
  });

  it('judges a lease expired only after seeing the same version for a whole timeout on its own clock', () => {
    const seen = new Sightings();
    seen.see('f', '1/1', 0);
    expect(seen.unchangedFor('f', T - 1)).to.equal(T - 1);
    seen.see('f', '1/1', 20_000); // the same version again: the time keeps running
    expect(seen.unchangedFor('f', T)).to.equal(T);
    seen.see('f', '2/1', 31_000); // renewed: the time starts again
    expect(seen.unchangedFor('f', 40_000)).to.equal(9_000);
    expect(seen.unchangedFor('never-seen', 40_000)).to.equal(0);
    seen.keepOnly(new Set());
    expect(seen.unchangedFor('f', 99_000)).to.equal(0);
  });

  it('leaves a holder a third of the timeout between giving up and the earliest take-over, whatever the wall clocks say', () => {
    // The holder sends a renewal at its t=0; it lands at t=300 and an observer first sees it at t=900 (its next scan).
    const holderStopsAt = giveUpAt(0, T);
    const seen = new Sightings();
    seen.see('f', '7/1', 900);
    let firstTake = 900;
    while (seen.unchangedFor('f', firstTake) < T) firstTake += 100;
    expect(firstTake - holderStopsAt).to.be.at.least(renewalIntervalMs(T));
  });

  it('shares M leases among N members: ceil(M/N) each, hands over what is above, and one when another is two or more below', () => {
    expect(fairShare(6, 3)).to.equal(2);
    expect(fairShare(7, 3)).to.equal(3);
    expect(fairShare(5, 0)).to.equal(5);
    expect(surplus(6, 6, [0, 0])).to.equal(4);
    expect(surplus(3, 7, [3, 1])).to.equal(1);
    expect(surplus(3, 7, [3, 2])).to.equal(0);
    expect(surplus(2, 6, [2, 2])).to.equal(0);
    expect(surplus(1, 6, [5, 0])).to.equal(0); // below its share: it takes, never gives
  });

  it('takes free, released, expired and its own forgotten leases up to its share, never a live one of another', () => {
    const sightings = new Sightings();
    const current = leases(['a', 'other', '1/1'], ['b', null, '2/1'], ['c', 'dead', '3/1'], ['d', 'me', '4/1']);
    for (const l of current.values()) sightings.see(l.resource, l.version, 0);
    sightings.see('a', '5/1', T); // a is renewed; c is not
    current.set('a', { resource: 'a', owner: 'other', version: '5/1' });
    const plan = planRound({
      me: 'me', now: T, timeoutMs: T, resources: ['a', 'b', 'c', 'd', 'e'], leases: current, held: new Set(), sightings, others: new Map(),
    });
    expect([...plan.take].sort()).to.deep.equal(['b', 'c', 'd', 'e']);
    expect(plan.release).to.deep.equal([]);
  });

  it('takes no more than its share, and hands over its surplus once others are live', () => {
    const sightings = new Sightings();
    const six = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'];
    const partial = planRound({ me: 'me', now: 0, timeoutMs: T, resources: six, leases: new Map(), held: new Set(), sightings, others: new Map([['b', 0], ['c', 0]]) });
    expect(partial.take).to.have.length(2);
    const all = new Map(six.map((r) => [r, { resource: r, owner: 'me', version: '1/1' }] as const));
    const over = planRound({ me: 'me', now: 0, timeoutMs: T, resources: six, leases: all, held: new Set(six), sightings, others: new Map([['b', 0], ['c', 0]]) });
    expect(over.take).to.deep.equal([]);
    expect(over.release).to.have.length(4);
  });

  it('finds the leases of resources that are gone, except those it holds', () => {
    const plan = planRound({
      me: 'me', now: 0, timeoutMs: T, resources: ['a'], leases: leases(['a', 'me', '1/1'], ['gone', 'x', '1/1'], ['mine', 'me', '1/1']),
      held: new Set(['a', 'mine']), sightings: new Sightings(), others: new Map(),
    });
    expect(plan.orphans).to.deep.equal(['gone']);
  });
});
