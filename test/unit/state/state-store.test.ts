import { expect } from 'chai';
import { checkPatternKey, followerKey } from '../../../src/state/state-store.js';

describe('followerKey', () => {
  it('joins cluster and index with a slash', () => {
    expect(followerKey('follower', 'logs-app')).to.equal('follower/logs-app');
  });

  it('refuses names that would make the key ambiguous', () => {
    expect(() => followerKey('a/b', 'c')).to.throw(RangeError, 'a/b');
    expect(() => followerKey('a', '')).to.throw(RangeError, 'index');
  });
});

describe('checkPatternKey', () => {
  it('accepts any non-empty name without a slash', () => {
    expect(checkPatternKey('daily logs')).to.equal('daily logs');
  });

  it('refuses an empty name or one with a slash', () => {
    expect(() => checkPatternKey('')).to.throw(RangeError);
    expect(() => checkPatternKey('a/b')).to.throw(RangeError, 'a/b');
  });
});
