import { expect } from 'chai';
import { chooseChanges, DEFAULT_SHARES, lostWriteCount, promotedChangeCount } from '../../../bench/lib/change-set.js';

describe('the fail-back bench change set', () => {
  it('draws the default 2 % changed and 0.1 % lost writes, no id on both sides or twice', () => {
    const c = chooseChanges(200_000, DEFAULT_SHARES, 7);
    expect([c.updated.length, c.created.length, c.deleted.length]).to.deep.equal([3000, 500, 500]);
    expect(promotedChangeCount(c)).to.equal(4000);
    expect([c.lostUpdated.length, c.lostDeleted.length, c.lostCreated.length]).to.deep.equal([160, 20, 20]);
    expect(lostWriteCount(c)).to.equal(200);
    const existing = [...c.updated, ...c.deleted, ...c.lostUpdated, ...c.lostDeleted];
    expect(new Set(existing).size, 'existing documents changed once each').to.equal(existing.length);
    expect(existing.every((n) => Number.isInteger(n) && n >= 0 && n < 200_000)).to.equal(true);
    const created = [...c.created, ...c.lostCreated];
    expect(new Set(created).size).to.equal(created.length);
    expect(created.every((n) => n >= 200_000)).to.equal(true);
    expect(c.updated).to.deep.equal([...c.updated].sort((a, b) => a - b));
  });

  it('draws the same for a seed and differently for another', () => {
    expect(chooseChanges(20_000, DEFAULT_SHARES, 3)).to.deep.equal(chooseChanges(20_000, DEFAULT_SHARES, 3));
    expect(chooseChanges(20_000, DEFAULT_SHARES, 3).updated).not.to.deep.equal(chooseChanges(20_000, DEFAULT_SHARES, 4).updated);
  });

  it('refuses shares that change more documents than there are, or are out of range', () => {
    expect(() => chooseChanges(100, { updated: 0.9, created: 0, deleted: 0.2, lost: 0 }, 1)).to.throw('more than the 100 loaded');
    expect(() => chooseChanges(100, { ...DEFAULT_SHARES, lost: -0.1 }, 1)).to.throw('the lost share must be between 0 and 1');
    expect(() => chooseChanges(0, DEFAULT_SHARES, 1)).to.throw('docs must be a positive integer');
  });
});
