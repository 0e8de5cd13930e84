import { expect } from 'chai';
import { checkPatternName, followerKey } from '../../../src/state/state-store.js';

describe('followerKey', () => {
  it('joins cluster and index with a slash', () => {
    expect(followerKey('follower', 'logs-app')).to.equal('follower/logs-app');
  });

  it('refuses names that would make the key ambiguous', () => {
    expect(() => followerKey('a/b', 'c')).to.throw(RangeError, 'a/b');
    expect(() => followerKey('a', '')).to.throw(RangeError, 'index');
  });
});

describe('checkPatternName', () => {
  it('accepts any non-empty name without a slash', () => {
    expect(checkPatternName('daily logs')).to.equal('daily logs');
  });

  it('refuses an empty name or one with a slash', () => {
    expect(() => checkPatternName('')).to.throw(RangeError);
    expect(() => checkPatternName('a/b')).to.throw(RangeError, 'a/b');
  });
});
