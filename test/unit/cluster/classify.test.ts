import { expect } from 'chai';
import { classify, type Classification } from '../../../src/cluster/classify.js';
import {
  ClusterAbortedError,
  ClusterConnectionError,
  ClusterError,
  ClusterProtocolError,
  ClusterResponseError,
  ClusterTimeoutError,
  ClusterTlsError,
  tlsProblemOf,
  type ClusterErrorDetails,
  type TlsProblem,
} from '../../../src/cluster/errors.js';
import { abortError } from '../../../src/util/sleep.js';

const details = (over: Partial<ClusterErrorDetails>): ClusterErrorDetails => ({
  alias: 'leader',
  operation: 'search',
  request: 'POST /logs/_search',
  reason: 'something happened',
  ...over,
});
const response = (statusCode: number, esType?: string): ClusterResponseError =>
  new ClusterResponseError(details({ statusCode, ...(esType === undefined ? {} : { esType }) }));

type Action = Classification['action'];

const tlsError = (code: string, alias = 'leader'): ClusterTlsError =>
  new ClusterTlsError({ ...details({ alias, reason: 'node says why' }), problem: tlsProblemOf(code)!, code, url: 'https://es1:9200' });

/** [what, error, expected action]. */
const table: Array<[string, unknown, Action]> = [
  // Throttling and gateways: the cluster asks us to come back later.
  ['429 without a type', response(429), 'retry'],
  ['502 bad gateway', response(502), 'retry'],
  ['503 service unavailable', response(503), 'retry'],
  ['504 gateway timeout', response(504), 'retry'],
  ['429 es_rejected_execution_exception', response(429, 'es_rejected_execution_exception'), 'retry'],
  ['es_rejected_execution_exception under another status', response(500, 'es_rejected_execution_exception'), 'retry'],
  ['429 circuit_breaking_exception', response(429, 'circuit_breaking_exception'), 'retry'],
  ['503 no_shard_available_action_exception', response(503, 'no_shard_available_action_exception'), 'retry'],
  ['503 unavailable_shards_exception', response(503, 'unavailable_shards_exception'), 'retry'],
  ['404 shard_not_found_exception (relocating)', response(404, 'shard_not_found_exception'), 'retry'],
  ['503 master_not_discovered_exception', response(503, 'master_not_discovered_exception'), 'retry'],
  ['503 cluster_manager_not_discovered_exception', response(503, 'cluster_manager_not_discovered_exception'), 'retry'],
  // A block lifts (disk watermark, operator write block): 403 here is not a security refusal.
  ['403 cluster_block_exception', response(403, 'cluster_block_exception'), 'retry'],
  // No answer at all.
  ['connection refused', new ClusterConnectionError(details({ reason: 'connect ECONNREFUSED 127.0.0.1:9200' })), 'retry'],
  ['connection reset', new ClusterConnectionError(details({ reason: 'socket hang up' })), 'retry'],
  ['request timeout', new ClusterTimeoutError(details({ reason: 'Request timed out' })), 'retry'],
  // TLS: the next handshake fails the same way until someone changes a certificate or the config.
  ['an unknown CA (SELF_SIGNED_CERT_IN_CHAIN)', tlsError('SELF_SIGNED_CERT_IN_CHAIN'), 'fatal'],
  ['an unknown CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE)', tlsError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'fatal'],
  ['an expired certificate', tlsError('CERT_HAS_EXPIRED'), 'fatal'],
  ['a certificate for another host', tlsError('ERR_TLS_CERT_ALTNAME_INVALID'), 'fatal'],
  ['a fingerprint mismatch', tlsError('CA_FINGERPRINT_MISMATCH'), 'fatal'],
  ['a refused client certificate', tlsError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), 'fatal'],
  ['https:// to a plain HTTP server', tlsError('ERR_SSL_WRONG_VERSION_NUMBER'), 'fatal'],
  ['http:// to a TLS-only server', tlsError('TLS_REQUIRED'), 'fatal'],
  // Security, missing index, rejected documents: only a person can fix these.
  ['401 security_exception', response(401, 'security_exception'), 'fatal'],
  ['403 security_exception', response(403, 'security_exception'), 'fatal'],
  ['403 without a type', response(403), 'fatal'],
  ['404 index_not_found_exception', response(404, 'index_not_found_exception'), 'fatal'],
  ['400 mapper_parsing_exception', response(400, 'mapper_parsing_exception'), 'fatal'],
  ['400 illegal_argument_exception', response(400, 'illegal_argument_exception'), 'fatal'],
  ['500 with an unknown type', response(500, 'some_new_exception'), 'fatal'],
  ['a protocol error (unexpected answer shape)', new ClusterProtocolError(details({ reason: 'shard search partly failed' })), 'fatal'],
  ['a base ClusterError with nothing known', new ClusterError(details({})), 'fatal'],
  // Not from the cluster layer: unknown, hence fatal.
  ['a plain Error', new Error('boom'), 'fatal'],
  ['a TypeError', new TypeError('x is undefined'), 'fatal'],
  ['a thrown string', 'boom', 'fatal'],
  ['undefined', undefined, 'fatal'],
  // A stop, never a failure.
  ['an AbortError from sleep', abortError(), 'aborted'],
  ["an AbortSignal's reason", AbortSignal.abort().reason, 'aborted'],
  ['ClusterAbortedError', new ClusterAbortedError(details({ reason: 'Request aborted' })), 'aborted'],
];

describe('classify', () => {
  for (const [what, err, action] of table) {
    it(`${action === 'retry' ? 'retries' : action === 'fatal' ? 'fails on' : 'treats as aborted'} ${what}`, () => {
      const verdict = classify(err);
      expect(verdict.action).to.equal(action);
      if (verdict.action !== 'aborted') expect(verdict.reason).to.be.a('string').with.length.above(0);
    });
  }

  it('gives a reason naming the cause of a fatal cluster error', () => {
    const verdict = classify(new ClusterResponseError(details({ statusCode: 404, esType: 'index_not_found_exception', reason: 'no such index [logs]' })));
    expect(verdict).to.have.property('action', 'fatal');
    expect((verdict as { reason: string }).reason).to.include('no such index [logs]');
  });

  it('gives the message of an unknown error as the reason', () => {
    expect(classify(new Error('kaboom'))).to.deep.equal({ action: 'fatal', reason: 'unexpected error: kaboom' });
  });

  describe('TLS problems', () => {
    const cases: Array<[string, TlsProblem, RegExp]> = [
      ['SELF_SIGNED_CERT_IN_CHAIN', 'untrusted_certificate', /not signed by a trusted CA.*set clusters\.east\.tls\.ca .* or clusters\.east\.tls\.fingerprint/],
      ['DEPTH_ZERO_SELF_SIGNED_CERT', 'untrusted_certificate', /clusters\.east\.tls\.ca/],
      ['CERT_HAS_EXPIRED', 'expired_certificate', /has expired.*renew the HTTP certificate of cluster \[east\]/],
      ['ERR_TLS_CERT_ALTNAME_INVALID', 'hostname_mismatch', /for another host name.*clusters\.east\.url/],
      ['CA_FINGERPRINT_MISMATCH', 'fingerprint_mismatch', /check clusters\.east\.tls\.fingerprint/],
      ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'client_certificate_refused', /set clusters\.east\.tls\.cert and tls\.key/],
      ['ERR_SSL_WRONG_VERSION_NUMBER', 'not_tls', /does not speak TLS.*write http:\/\/ instead of https:\/\/ in clusters\.east/],
      ['TLS_REQUIRED', 'tls_required', /speaks TLS only.*write https:\/\/ instead of http:\/\/ in clusters\.east/],
    ];
    for (const [code, problem, message] of cases) {
      it(`${code} is ${problem}, fatal, with a reason naming the alias and what to change`, () => {
        expect(tlsProblemOf(code)).to.equal(problem);
        const err = tlsError(code, 'east');
        expect(err.kind).to.equal('tls');
        expect(err.message).to.match(/^\[east\] /);
        expect(err.message).to.include(`(${code}: node says why)`);
        const verdict = classify(err);
        expect(verdict.action).to.equal('fatal');
        expect((verdict as { reason: string }).reason).to.match(message);
      });
    }

    it('leaves codes that are no TLS problem to the connection rules', () => {
      for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPROTO', 'toString', '__proto__']) expect(tlsProblemOf(code), code).to.equal(undefined);
      expect(tlsProblemOf(undefined)).to.equal(undefined);
    });
  });

  describe('security refusals', () => {
    it('says which credentials to check on a 401, naming the alias', () => {
      const err = new ClusterResponseError(details({ alias: 'east', statusCode: 401, esType: 'security_exception', reason: 'unable to authenticate user [ccr]' }));
      expect(err.message).to.match(/^\[east\] search failed 401 security_exception: unable to authenticate user \[ccr\] \(POST \/logs\/_search\); check the credentials in clusters\.east\.auth/);
      expect((classify(err) as { reason: string }).reason).to.match(/^authentication refused: .*clusters\.east\.auth/);
    });

    it('says a privilege is missing on a 403 security_exception, but not on a 403 block', () => {
      const refused = new ClusterResponseError(details({ statusCode: 403, esType: 'security_exception', reason: 'action [indices:data/read/search] is unauthorized' }));
      expect(refused.message).to.match(/is unauthorized \(POST \/logs\/_search\); grant the user of clusters\.leader\.auth the missing privilege/);
      const blocked = new ClusterResponseError(details({ statusCode: 403, esType: 'cluster_block_exception', reason: 'index [logs] blocked' }));
      expect(blocked.message).to.not.include('grant');
      expect(classify(blocked).action).to.equal('retry');
    });
  });

  it('is a pure function: the same error classifies the same way twice', () => {
    const err = response(429);
    expect(classify(err)).to.deep.equal(classify(err));
  });
});
