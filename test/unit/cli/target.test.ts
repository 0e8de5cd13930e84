import { expect } from 'chai';
import { parseTarget, targetPath, UsageError } from '../../../src/cli/target.js';

describe('parseTarget', () => {
  it('splits <cluster-alias>/<index> at the slash', () => {
    expect(parseTarget('leader/orders', 'the leader')).to.deep.equal({ cluster: 'leader', index: 'orders' });
    expect(parseTarget('es_8-prod/.ds-logs-2024.01.01-000001', 'the leader')).to.deep.equal({ cluster: 'es_8-prod', index: '.ds-logs-2024.01.01-000001' });
  });

  it('leaves index name rules to the daemon (it reports them with the cluster in view)', () => {
    expect(parseTarget('leader/UPPER', 'the leader')).to.deep.equal({ cluster: 'leader', index: 'UPPER' });
    expect(parseTarget('leader/a*b', 'the leader')).to.deep.equal({ cluster: 'leader', index: 'a*b' });
  });

  for (const [text, why] of [
    ['leader', 'no slash'],
    ['/orders', 'no alias'],
    ['leader/', 'no index'],
    ['leader/a/b', 'two slashes'],
    ['/', 'a slash alone'],
    ['', 'nothing'],
  ] as const) {
    it(`refuses "${text}" (${why}) with a UsageError naming the argument, the expected form and the text`, () => {
      let thrown: unknown;
      try {
        parseTarget(text, 'the follower');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).to.be.instanceOf(UsageError);
      const message = (thrown as Error).message;
      expect(message).to.include('the follower must be written <cluster-alias>/<index>');
      expect(message).to.include(`got "${text}"`);
    });
  }
});

describe('targetPath', () => {
  it('is /<alias>/<index>, each part URL-encoded', () => {
    expect(targetPath({ cluster: 'follower', index: 'orders' })).to.equal('/follower/orders');
    expect(targetPath({ cluster: 'follower', index: 'a#b?c d' })).to.equal('/follower/a%23b%3Fc%20d');
  });
});
