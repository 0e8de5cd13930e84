/**
 * `clusters.<alias>.tls` and the auth kinds from the environment: what the config loader accepts,
 * what it refuses (with the YAML path and a rule, never a secret), and the warning a daemon gives
 * for `verify: false`. The certificates below are fixtures made once with openssl (EC P-256,
 * valid for 100 years): parsing only checks that a key opens and matches its certificate.
 */
import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { securityWarnings } from '../../../src/cluster/cluster-config.js';
import { ConfigError } from '../../../src/daemon/config-error.js';
import { parseConfig, type ParseOptions } from '../../../src/daemon/config.js';
import { SecretRegistry } from '../../../src/util/secrets.js';

const CERT = `-----BEGIN CERTIFICATE-----
MIIBmjCCAT+gAwIBAgIUUd8Zq1cyyDR5FXpttx8K7K95b0UwCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWY2NyLWZvbGxvdyBjb25maWcgdGVzdDAgFw0yNjExMjIwOTE4
NDdaGA8yMTI2MTAyOTA5MTg0N1owITEfMB0GA1UEAwwWY2NyLWZvbGxvdyBjb25m
aWcgdGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAY+4fLnDeoH4ZihD+HA
I6wg6REfwmggqnuPP1BKtvzK+C3vemOXEj5rwlTxRL1iPSWOKAGrgrZ8D0jhrbbs
/3CjUzBRMB0GA1UdDgQWBBS6n0j72yBCYWNrZ5nLc/+MoZxxKDAfBgNVHSMEGDAW
gBS6n0j72yBCYWNrZ5nLc/+MoZxxKDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49
BAMCA0kAMEYCIQCapURPQEy1OH+8YXe6XAvl7oI6ohNiKPX3hIYM6PGkCwIhAIB/
wHMOWKRERofMey0IC/f+cwn9tH7nsDfiLU586xgz
-----END CERTIFICATE-----
`;
/** CERT's key. */
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRGBnZs5v6qslEl3K
JYHRPZJtj8kXW34mb9fH1NxqnDehRANCAAQGPuHy5w3qB+GYoQ/hwCOsIOkRH8Jo
IKp7jz9QSrb8yvgt73pjlxI+a8JU8US9Yj0ljigBq4K2fA9I4a227P9w
-----END PRIVATE KEY-----
`;
/** Another key: not CERT's. */
const OTHER_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSZ3Mr1MlhNjDL7xv
xAKWZalnDkx1vo49BjEH4UzuMVqhRANCAAR0spqMHBSOdFxc5vtyczY60MbvqJO9
pszTPaC9TL4Oo4AK1qhbg6aARjms4Gb+gSqb7nMVsIQiFg//u327fiJf
-----END PRIVATE KEY-----
`;
/** KEY, encrypted (PKCS#8, AES-256-CBC) with PASSPHRASE. */
const ENCRYPTED_KEY = `-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjTZMl2C+2XeQICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEGXglROF9NH42nzy/fQOQPQEgZBe
8oOc+e6Z38NMpwd7ikEdTSdN/xTjZGUVdJFh8D5yjya9w4T1jJSumwL3yZkQDF7v
pvGFSH7Af7AWH04r5RkFlOATrU7cki7p+NhvX8UpnLDhIP2HoJNkENmp6M2VZtQx
8ZUB4tkyOTLC/wKpjQtKlW5K0xpoJSas+/CUfvdvAS2S9uvec+KZ/S7N2xDDZ/U=
-----END ENCRYPTED PRIVATE KEY-----
`;
const PASSPHRASE = 'open-sesame-42';
const SHA256 = '3f'.repeat(32);
const SHA256_COLONS = SHA256.toUpperCase().match(/../g)!.join(':');
/** The private key's body line, to look for in outputs. */
const KEY_MATERIAL = KEY.split('\n')[1]!;

describe('daemon/config: clusters.<alias>.tls and auth from the environment', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ccr-config-tls-'));
    await Promise.all([
      writeFile(path.join(dir, 'ca.pem'), CERT),
      writeFile(path.join(dir, 'client.pem'), CERT),
      writeFile(path.join(dir, 'client.key'), KEY),
      writeFile(path.join(dir, 'other.key'), OTHER_KEY),
      writeFile(path.join(dir, 'encrypted.key'), ENCRYPTED_KEY),
      writeFile(path.join(dir, 'not-pem.txt'), 'hello\n'),
    ]);
    await mkdir(path.join(dir, 'my keys'));
    await writeFile(path.join(dir, 'my keys', 'client.key'), KEY);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const options = (env: NodeJS.ProcessEnv = {}): ParseOptions => ({ env, baseDir: dir, sourceName: 'ccr-follow.yml' });

  /** A config with one cluster `a` at https://h:9200 and these lines under its `tls:`. */
  const withTls = (...lines: string[]): string => `clusters:\n  a:\n    url: https://h:9200\n    tls:\n${lines.map((l) => `      ${l}`).join('\n')}\n`;

  async function configError(yaml: string, env: NodeJS.ProcessEnv = {}, secrets = new SecretRegistry()): Promise<ConfigError> {
    try {
      await parseConfig(yaml, options(env), secrets);
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('expected a ConfigError');
  }

  describe('accepted', () => {
    it('reads the CA, the client certificate and its key from files relative to the config', async () => {
      const config = await parseConfig(withTls('ca: ca.pem', 'cert: ./client.pem', 'key: client.key'), options());
      expect(config.clusters.get('a')?.tls).to.deep.equal({ rejectUnauthorized: true, ca: CERT, cert: CERT, key: KEY });
    });

    it('reads a key whose path has a space in it', async () => {
      const config = await parseConfig(withTls('cert: client.pem', 'key: "my keys/client.key"'), options());
      expect(config.clusters.get('a')?.tls?.key).to.equal(KEY);
    });

    it('takes a SHA-256 fingerprint with or without colons, in any case, and keeps it as lowercase hex', async () => {
      for (const written of [SHA256, SHA256.toUpperCase(), SHA256_COLONS, `"${SHA256_COLONS.toLowerCase()}"`]) {
        const config = await parseConfig(withTls(`fingerprint: ${written}`), options());
        expect(config.clusters.get('a')?.tls, written).to.deep.equal({ rejectUnauthorized: true, caFingerprint: SHA256 });
      }
    });

    it('opens an encrypted key with key_passphrase from the environment, and registers key and passphrase as secrets', async () => {
      const secrets = new SecretRegistry();
      const config = await parseConfig(withTls('cert: client.pem', 'key: encrypted.key', 'key_passphrase: ${KEY_PASS}'), options({ KEY_PASS: PASSPHRASE }), secrets);
      expect(config.clusters.get('a')?.tls).to.deep.equal({ rejectUnauthorized: true, cert: CERT, key: ENCRYPTED_KEY, keyPassphrase: PASSPHRASE });
      expect(secrets.redact(`pass ${PASSPHRASE} key ${ENCRYPTED_KEY}`)).to.equal('pass <redacted> key <redacted>');
    });

    it('takes the key itself (PEM) from an environment variable', async () => {
      const secrets = new SecretRegistry();
      const config = await parseConfig(withTls('cert: client.pem', 'key: "${CLIENT_KEY}"'), options({ CLIENT_KEY: KEY }), secrets);
      expect(config.clusters.get('a')?.tls?.key).to.equal(KEY.trim());
      expect(secrets.redact(`the key: ${KEY.trim()}`)).to.equal('the key: <redacted>');
    });

    it('takes each kind of credentials from environment variables, and registers them as secrets', async () => {
      const secrets = new SecretRegistry();
      const env = { ES_USER: 'ccr', ES_PASSWORD: 'pw-basic-1', ES_API_KEY: 'key-api-2', OS_TOKEN: 'tok-bearer-3' };
      const config = await parseConfig([
        'clusters:',
        '  basic:', '    url: https://h:9200', '    auth:', '      username: ${ES_USER}', '      password: ${ES_PASSWORD}',
        '  key:', '    url: https://h:9200', '    auth:', '      api_key: ${ES_API_KEY}',
        '  token:', '    url: https://h:9200', '    auth:', '      bearer: ${OS_TOKEN}',
        '',
      ].join('\n'), options(env), secrets);
      expect(config.clusters.get('basic')?.auth).to.deep.equal({ type: 'basic', username: 'ccr', password: 'pw-basic-1' });
      expect(config.clusters.get('key')?.auth).to.deep.equal({ type: 'api_key', apiKey: 'key-api-2' });
      expect(config.clusters.get('token')?.auth).to.deep.equal({ type: 'bearer', token: 'tok-bearer-3' });
      expect(secrets.redact('pw-basic-1 key-api-2 tok-bearer-3')).to.equal('<redacted> <redacted> <redacted>');
    });

    it('allows verify: false with a CA (switching verification off for a while keeps the CA)', async () => {
      const config = await parseConfig(withTls('ca: ca.pem', 'verify: false'), options());
      expect(config.clusters.get('a')?.tls).to.deep.equal({ rejectUnauthorized: false, ca: CERT });
    });
  });

  describe('refused, naming the YAML path and never a secret', () => {
    const cases: Array<[string, string, NodeJS.ProcessEnv, string, RegExp]> = [
      ['both a CA and a fingerprint', withTls('ca: ca.pem', `fingerprint: ${SHA256}`), {}, 'clusters.a.tls.fingerprint', /set either ca or fingerprint, not both/],
      ['a fingerprint with verify: false', withTls(`fingerprint: ${SHA256}`, 'verify: false'), {}, 'clusters.a.tls.verify', /would skip the fingerprint check too/],
      ['a SHA-1 fingerprint', withTls(`fingerprint: ${'ab'.repeat(20)}`), {}, 'clusters.a.tls.fingerprint', /SHA-256 fingerprint \(64 hex digits\), got a SHA-1 one: use openssl x509 -fingerprint -sha256/],
      ['a fingerprint that is not hex', withTls(`fingerprint: ${'zz'.repeat(32)}`), {}, 'clusters.a.tls.fingerprint', /expected a SHA-256 fingerprint: 64 hex digits, colons allowed/],
      ['a certificate without a key', withTls('cert: client.pem'), {}, 'clusters.a.tls.key', /tls\.cert and tls\.key go together/],
      ['a key without a certificate', withTls('key: client.key'), {}, 'clusters.a.tls.cert', /tls\.cert and tls\.key go together/],
      ['a key that is not the certificate\'s', withTls('cert: client.pem', 'key: other.key'), {}, 'clusters.a.tls.key', /tls\.key is not the private key of tls\.cert/],
      ['an encrypted key without a passphrase', withTls('cert: client.pem', 'key: encrypted.key'), {}, 'clusters.a.tls.key', /tls\.key is encrypted: set tls\.key_passphrase/],
      ['a wrong passphrase', withTls('cert: client.pem', 'key: encrypted.key', 'key_passphrase: ${P}'), { P: 'not-the-passphrase' }, 'clusters.a.tls.key', /tls\.key_passphrase does not open tls\.key/],
      ['a passphrase without a key', withTls('key_passphrase: ${P}'), { P: PASSPHRASE }, 'clusters.a.tls.key_passphrase', /key_passphrase requires tls\.key/],
      ['a missing certificate file', withTls('cert: nope.pem', 'key: client.key'), {}, 'clusters.a.tls.cert', /cannot read certificate file .*nope\.pem: ENOENT/],
      ['a missing key file', withTls('cert: client.pem', 'key: nope.key'), {}, 'clusters.a.tls.key', /cannot read private key file .*nope\.key: ENOENT/],
      ['a CA file without a certificate', withTls('ca: not-pem.txt'), {}, 'clusters.a.tls.ca', /expected a PEM CA in .*not-pem\.txt/],
      ['a key file without a key', withTls('cert: client.pem', 'key: ca.pem'), {}, 'clusters.a.tls.key', /expected a PEM private key in .*ca\.pem/],
      ['an unknown tls key', withTls('ca_file: ca.pem'), {}, 'clusters.a.tls.ca_file', /unknown key \(expected one of: ca, fingerprint, cert, key, key_passphrase, verify\)/],
      ['tls on an http:// URL', 'clusters:\n  a:\n    url: http://h:9200\n    tls:\n      ca: ca.pem\n', {}, 'clusters.a.url', /tls is set but this URL is http:\/\/; TLS applies to https:\/\/ URLs only, got "http:\/\/h:9200"/],
      ['tls with one http:// URL among others', 'clusters:\n  a:\n    urls: [https://h1:9200, http://h2:9200]\n    tls:\n      verify: false\n', {}, 'clusters.a.urls[1]', /TLS applies to https:\/\/ URLs only/],
    ];
    for (const [what, yaml, env, at, rule] of cases) {
      it(what, async () => {
        const err = await configError(yaml, env);
        expect(err.path).to.equal(at);
        expect(err.message).to.match(rule);
        expect(err.message).to.match(/^ccr-follow\.yml:\d+:\d+: /);
        for (const secret of [KEY_MATERIAL, PASSPHRASE, 'not-the-passphrase']) expect(err.message).to.not.include(secret);
      });
    }

    it('never quotes a key given inline without its PEM header', async () => {
      for (const notPem of [KEY.split('\n').slice(1, -2).join('\n'), 'A'.repeat(2000)]) {
        const err = await configError(withTls('cert: client.pem', 'key: "${K}"'), { K: notPem });
        expect(err.path).to.equal('clusters.a.tls.key');
        expect(err.message).to.match(/expected a PEM private key \(-----BEGIN \.\.\. PRIVATE KEY-----\) or the path of a file holding one/);
        expect(err.message).to.not.include(notPem.slice(0, 20));
      }
    });
  });

  describe('securityWarnings', () => {
    it('warns about verify: false, naming the alias and what to set instead', async () => {
      const config = await parseConfig(withTls('verify: false'), options());
      const warnings = securityWarnings(config.clusters.get('a')!);
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.match(/^cluster \[a\]: TLS certificate verification is OFF \(clusters\.a\.tls\.verify: false\)/);
      expect(warnings[0]).to.include('set clusters.a.tls.ca (or tls.fingerprint)');
    });

    it('has nothing to say when certificates are verified, or without tls', async () => {
      const config = await parseConfig(`${withTls('ca: ca.pem')}  b:\n    url: http://h:9200\n`, options());
      expect(securityWarnings(config.clusters.get('a')!)).to.deep.equal([]);
      expect(securityWarnings(config.clusters.get('b')!)).to.deep.equal([]);
    });
  });
});
