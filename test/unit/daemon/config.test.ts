import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultConfig, loadConfig, parseConfig, type ParseOptions } from '../../../src/daemon/config.js';
import { ConfigError } from '../../../src/daemon/config-error.js';
import { SecretRegistry } from '../../../src/util/secrets.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const BASE = path.resolve('/etc/ccr');

function options(env: NodeJS.ProcessEnv = {}, baseDir = BASE): ParseOptions {
  return { env, baseDir, sourceName: 'ccr-follow.yml' };
}

/** The ConfigError that parsing `yaml` rejects with. */
async function configError(yaml: string, env: NodeJS.ProcessEnv = {}, secrets?: SecretRegistry): Promise<ConfigError> {
  try {
    await parseConfig(yaml, options(env), secrets);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('daemon/config', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ccr-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('valid files', () => {
    it('gives the defaults for an empty file', async () => {
      const config = await parseConfig('', options());
      expect(config).to.deep.equal(defaultConfig(BASE));
      expect(config.clusters.size).to.equal(0);
      expect(config.stateDir).to.equal(path.join(BASE, '.ccr-follow'));
      expect(config.control).to.deep.equal({ host: '127.0.0.1', port: 9809 });
      expect(config.log).to.deep.equal({ level: 'info', format: 'text' });
    });

    it('allows a clusters section that is empty', async () => {
      expect((await parseConfig('clusters:\n', options())).clusters.size).to.equal(0);
      expect((await parseConfig('clusters: {}\n', options())).clusters.size).to.equal(0);
    });

    it('reads a full file, interpolating the environment and registering secrets', async () => {
      await writeFile(path.join(dir, 'ca.pem'), PEM);
      const secrets = new SecretRegistry();
      const config = await parseConfig(`
clusters:
  leader:
    url: https://es1:9200
    auth:
      username: elastic
      password: \${LEADER_PASSWORD}
    tls:
      ca: ./ca.pem
      verify: false
    request_timeout: 1m
  follower:
    urls: [http://os1:9200, "http://\${OS2_HOST:-os2}:9200"]
    auth:
      api_key: \${KEY}
  third_cluster-3:
    url: http://localhost:9200
    auth:
      bearer: \${TOKEN}
daemon:
  state_dir: state
  control:
    host: 0.0.0.0
    port: 0
  log:
    level: debug
    file: logs/ccr.log
    format: json
`, options({ LEADER_PASSWORD: 'leader-pw', KEY: 'key-value', TOKEN: 'token-value' }, dir), secrets);

      expect([...config.clusters.keys()]).to.deep.equal(['leader', 'follower', 'third_cluster-3']);
      expect(config.clusters.get('leader')).to.deep.equal({
        alias: 'leader',
        urls: ['https://es1:9200'],
        auth: { type: 'basic', username: 'elastic', password: 'leader-pw' },
        tls: { ca: PEM, rejectUnauthorized: false },
        requestTimeoutMs: 60_000,
      });
      expect(config.clusters.get('follower')).to.deep.equal({
        alias: 'follower',
        urls: ['http://os1:9200', 'http://os2:9200'],
        auth: { type: 'api_key', apiKey: 'key-value' },
        requestTimeoutMs: 30_000,
      });
      expect(config.clusters.get('third_cluster-3')?.auth).to.deep.equal({ type: 'bearer', token: 'token-value' });
      expect(config.stateDir).to.equal(path.join(dir, 'state'));
      expect(config.control).to.deep.equal({ host: '0.0.0.0', port: 0 });
      expect(config.log).to.deep.equal({ level: 'debug', format: 'json', file: path.join(dir, 'logs', 'ccr.log') });

      const leaked = secrets.redact('leader-pw key-value token-value ' + Buffer.from('elastic:leader-pw').toString('base64'));
      expect(leaked).to.equal('<redacted> <redacted> <redacted> <redacted>');
    });

    it('has no auth and no tls when those sections are absent', async () => {
      const config = await parseConfig('clusters:\n  leader:\n    url: http://localhost:9200\n', options());
      expect(config.clusters.get('leader')).to.deep.equal({
        alias: 'leader', urls: ['http://localhost:9200'], auth: { type: 'none' }, requestTimeoutMs: 30_000,
      });
    });

    it('accepts an inline PEM as tls.ca, and verify defaults to true', async () => {
      const config = await parseConfig(`clusters:\n  a:\n    url: https://h:9200\n    tls:\n      ca: |\n${PEM.split('\n').map((l) => `        ${l}`).join('\n')}`, options());
      expect(config.clusters.get('a')?.tls).to.deep.equal({ ca: PEM.trim(), rejectUnauthorized: true });
    });

    it('takes ports and booleans from environment variables', async () => {
      const config = await parseConfig(
        'clusters:\n  a:\n    url: https://h:9200\n    tls:\n      verify: ${VERIFY}\ndaemon:\n  control:\n    port: ${PORT}\n',
        options({ PORT: '9300', VERIFY: 'false' }));
      expect(config.control.port).to.equal(9300);
      expect(config.clusters.get('a')?.tls?.rejectUnauthorized).to.equal(false);
    });

    it('interpolates defaults, empty values and literal $${', async () => {
      const yaml = 'daemon:\n  control:\n    host: "${A:-fallback}"\n  state_dir: "x$${NOT_A_VAR}${EMPTY}"\n';
      const config = await parseConfig(yaml, options({ EMPTY: '' }));
      expect(config.control.host).to.equal('fallback');
      expect(config.stateDir).to.equal(path.join(BASE, 'x${NOT_A_VAR}'));
      const withEmpty = await parseConfig('daemon:\n  control:\n    host: ${H:-dflt}\n', options({ H: '' }));
      expect(withEmpty.control.host).to.equal('dflt');
    });

    it('loadConfig resolves paths against the file and records it', async () => {
      const file = path.join(dir, 'ccr-follow.yml');
      await writeFile(file, 'daemon:\n  state_dir: ./st\n');
      const config = await loadConfig(file, {});
      expect(config.sourcePath).to.equal(file);
      expect(config.stateDir).to.equal(path.join(dir, 'st'));
    });
  });

  describe('errors', () => {
    it('names the path, the rule and the value received', async () => {
      const err = await configError('clusters:\n  leader:\n    url: ftp://x\n');
      expect(err.name).to.equal('ConfigError');
      expect(err.path).to.equal('clusters.leader.url');
      expect(err.rule).to.equal('expected an http(s) URL');
      expect(err.received).to.equal('"ftp://x"');
      expect(err.message).to.equal('ccr-follow.yml:3:10: clusters.leader.url: expected an http(s) URL, got "ftp://x"');
      expect([err.line, err.column]).to.deep.equal([3, 10]);
    });

    it('names a missing variable and where it was used', async () => {
      const err = await configError('clusters:\n  leader:\n    url: http://h:9200\n    auth:\n      username: u\n      password: ${LEADER_PASSWORD}\n');
      expect(err.path).to.equal('clusters.leader.auth.password');
      expect(err.message).to.include('LEADER_PASSWORD').and.include('not set');
    });

    it('reads daemon.lease_timeout (30 s by default)', async () => {
      expect(defaultConfig(BASE).leaseTimeoutMs).to.equal(30_000);
      expect((await parseConfig('daemon:\n  lease_timeout: 6s\n', options())).leaseTimeoutMs).to.equal(6_000);
    });

    it('rejects malformed references', async () => {
      expect((await configError('daemon:\n  state_dir: "${1BAD}"\n')).rule).to.include('invalid reference');
      expect((await configError('daemon:\n  state_dir: "${OPEN"\n')).rule).to.include('unterminated');
    });

    const cases: [string, string, string, RegExp][] = [
      ['an alias with a dot', 'clusters:\n  my.cluster:\n    url: http://h:9200\n', 'clusters.my.cluster', /alias must match/],
      ['a cluster without a url', 'clusters:\n  a:\n    request_timeout: 5s\n', 'clusters.a', /expected url or urls/],
      ['both url and urls', 'clusters:\n  a:\n    url: http://h:1\n    urls: [http://h:2]\n', 'clusters.a', /either url or urls/],
      ['an empty urls list', 'clusters:\n  a:\n    urls: []\n', 'clusters.a.urls', /non-empty list/],
      ['a bad url in a list', 'clusters:\n  a:\n    urls: [http://h:1, "not a url"]\n', 'clusters.a.urls[1]', /http\(s\) URL, got "not a url"/],
      ['credentials in a url', 'clusters:\n  a:\n    url: http://u:pw12345@h:9200\n', 'clusters.a.url', /under auth\), got "http:\/\/h:9200"/],
      ['two kinds of auth', 'clusters:\n  a:\n    url: http://h:1\n    auth:\n      api_key: k1234\n      bearer: t1234\n', 'clusters.a.auth', /exactly one of .* got api_key and bearer/],
      ['no kind of auth', 'clusters:\n  a:\n    url: http://h:1\n    auth: {}\n', 'clusters.a.auth', /exactly one of .* got none/],
      ['a username without password', 'clusters:\n  a:\n    url: http://h:1\n    auth:\n      username: u\n', 'clusters.a.auth.password', /username requires a password/],
      ['a password without username', 'clusters:\n  a:\n    url: http://h:1\n    auth:\n      password: p1234\n', 'clusters.a.auth.username', /password requires a username/],
      ['an unknown top-level key', 'clustres: {}\n', 'clustres', /unknown key \(expected one of: clusters, daemon\)/],
      ['a misspelt auth key', 'clusters:\n  a:\n    url: http://h:1\n    auth:\n      username: u\n      pasword: p\n', 'clusters.a.auth.pasword', /unknown key/],
      ['a misspelt daemon key', 'daemon:\n  control:\n    prot: 1\n', 'daemon.control.prot', /unknown key/],
      ['a port out of range', 'daemon:\n  control:\n    port: 65536\n', 'daemon.control.port', /0 to 65535, got 65536/],
      ['a negative port', 'daemon:\n  control:\n    port: -1\n', 'daemon.control.port', /0 to 65535/],
      ['an unknown log level', 'daemon:\n  log:\n    level: verbose\n', 'daemon.log.level', /one of error, warn, info, debug, got "verbose"/],
      ['an unknown log format', 'daemon:\n  log:\n    format: xml\n', 'daemon.log.format', /one of text, json/],
      ['a bad timeout', 'clusters:\n  a:\n    url: http://h:1\n    request_timeout: soon\n', 'clusters.a.request_timeout', /duration/],
      ['a zero timeout', 'clusters:\n  a:\n    url: http://h:1\n    request_timeout: 0s\n', 'clusters.a.request_timeout', /above zero/],
      ['a lease timeout that is no duration', 'daemon:\n  lease_timeout: long\n', 'daemon.lease_timeout', /duration/],
      ['a lease timeout too short to renew', 'daemon:\n  lease_timeout: 1s\n', 'daemon.lease_timeout', /from 3s to 10m, got "1s"/],
      ['verify that is not a boolean', 'clusters:\n  a:\n    url: http://h:1\n    tls:\n      verify: yes\n', 'clusters.a.tls.verify', /true or false, got "yes"/],
      ['a missing CA file', 'clusters:\n  a:\n    url: http://h:1\n    tls:\n      ca: ./nope.pem\n', 'clusters.a.tls.ca', /cannot read CA file .*nope\.pem: ENOENT/],
      ['a cluster that is a list', 'clusters:\n  a: [1]\n', 'clusters.a', /expected a mapping, got a list/],
      ['a root that is a list', '- a\n', '', /expected a mapping/],
    ];
    for (const [what, yaml, errorPath, message] of cases) {
      it(`rejects ${what}`, async () => {
        const err = await configError(yaml);
        expect(err.path).to.equal(errorPath);
        expect(err.message).to.match(message);
      });
    }

    it('never shows a secret value, even when it is wrong', async () => {
      const secrets = new SecretRegistry();
      const err = await configError('clusters:\n  a:\n    url: http://h:1\n    auth:\n      username: u\n      password: 123456\n', {}, secrets);
      expect(err.path).to.equal('clusters.a.auth.password');
      expect(err.received).to.equal('<redacted>');
      expect(err.message).to.include('quote').and.not.include('123456');
    });

    it('redacts registered secrets from later errors', async () => {
      const err = await configError(
        'clusters:\n  a:\n    url: http://h:1\n    auth:\n      bearer: tok-SECRET\n  b:\n    url: "tok-SECRET"\n');
      expect(err.path).to.equal('clusters.b.url');
      expect(err.message).not.to.include('tok-SECRET');
    });

    it('reports malformed YAML with its line and column and without quoting the source', async () => {
      const err = await configError('clusters:\n  a:\n    url: http://h:1\n    auth: { password: "hunter22\n');
      expect(err.line).to.be.a('number');
      expect(err.column).to.be.a('number');
      expect(err.message).to.match(/^ccr-follow\.yml:\d+:\d+: malformed YAML/);
      expect(err.message).not.to.include('hunter22');
    });

    it('rejects duplicate keys', async () => {
      const err = await configError('daemon:\n  state_dir: a\n  state_dir: b\n');
      expect(err.message).to.match(/^ccr-follow\.yml:3:\d+: malformed YAML/);
    });

    it('loadConfig names a missing file', async () => {
      const missing = path.join(dir, 'missing.yml');
      const err = await loadConfig(missing, {}).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).message).to.include(missing).and.include('not found');
    });
  });
});
