import { expect } from 'chai';
import { SecretRegistry } from '../../../src/util/secrets.js';

describe('SecretRegistry', () => {
  it('replaces every occurrence of every registered secret', () => {
    const secrets = new SecretRegistry();
    secrets.add('hunter2!');
    secrets.add('tok-123456');
    expect(secrets.redact('pw hunter2! then hunter2! and tok-123456')).to.equal('pw <redacted> then <redacted> and <redacted>');
  });

  it('ignores empty and very short strings', () => {
    const secrets = new SecretRegistry();
    secrets.add('');
    secrets.add('abc');
    secrets.add(undefined);
    expect(secrets.size).to.equal(0);
    expect(secrets.redact('abc abc')).to.equal('abc abc');
  });

  it('replaces a secret containing another one whole', () => {
    const secrets = new SecretRegistry();
    secrets.add('pass');
    secrets.add('password123');
    expect(secrets.redact('x password123 y pass')).to.equal('x <redacted> y <redacted>');
  });

  it('treats regular-expression characters literally', () => {
    const secrets = new SecretRegistry();
    secrets.add('a.*b$(c)');
    expect(secrets.redact('a.*b$(c) axxb')).to.equal('<redacted> axxb');
  });

  it('also catches the URL-encoded form', () => {
    const secrets = new SecretRegistry();
    secrets.add('p@ss/word');
    expect(secrets.redact('https://u:p%40ss%2Fword@host')).to.equal('https://u:<redacted>@host');
  });
});
