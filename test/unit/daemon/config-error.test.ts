import { expect } from 'chai';
import { ConfigError, describeValue } from '../../../src/daemon/config-error.js';

describe('ConfigError', () => {
  it('reads path: rule, got value', () => {
    const err = new ConfigError({ path: 'clusters.leader.url', rule: 'expected an http(s) URL', received: 'ftp://x' });
    expect(err).to.be.instanceOf(Error);
    expect(err.name).to.equal('ConfigError');
    expect(err.message).to.equal('clusters.leader.url: expected an http(s) URL, got "ftp://x"');
    expect(err.received).to.equal('"ftp://x"');
  });

  it('starts with file:line:column when known', () => {
    const err = new ConfigError({ path: 'daemon.control.port', rule: 'expected a port', received: 70000, source: 'c.yml', line: 4, column: 11 });
    expect(err.message).to.equal('c.yml:4:11: daemon.control.port: expected a port, got 70000');
    expect(new ConfigError({ path: '', rule: 'malformed YAML: x', line: 2, column: 1 }).message).to.equal('line 2:1: malformed YAML: x');
  });

  it('shows secrets as <redacted>', () => {
    const err = new ConfigError({ path: 'clusters.a.auth.password', rule: 'expected a string', received: 'hunter22', secret: true });
    expect(err.received).to.equal('<redacted>');
    expect(err.message).to.equal('clusters.a.auth.password: expected a string, got <redacted>');
  });

  it('leaves out "got" when nothing was received', () => {
    const err = new ConfigError({ path: 'clusters.a', rule: 'expected url or urls' });
    expect(err.message).to.equal('clusters.a: expected url or urls');
    expect(err.received).to.equal(undefined);
  });

  it('describes values briefly', () => {
    expect(describeValue(null)).to.equal('null (an empty value)');
    expect(describeValue([1])).to.equal('a list');
    expect(describeValue({ a: 1 })).to.equal('a mapping');
    expect(describeValue(true)).to.equal('true');
    expect(describeValue('x'.repeat(200))).to.have.length(80);
  });
});
