import { expect } from 'chai';
import { classify, CLASSIFY_TABLE, type Classification, type ErrorKind, kindOf } from '../../../src/cluster/classify.js';
import {
  ClusterAbortedError,
  ClusterConnectionError,
  ClusterError,
  ClusterIndexNotFoundError,
  ClusterProtocolError,
  ClusterResponseError,
  ClusterShardUnavailableError,
  ClusterTimeoutError,
  ClusterTlsError,
  IllegalReplicationStateError,
  IndexReplacedError,
  tlsProblemOf,
  UnknownClusterError,
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

type Expected = Classification['action'] | `${'retry' | 'fatal'}:${ErrorKind}`;

const tlsError = (code: string, alias = 'leader'): ClusterTlsError =>
  new ClusterTlsError({ ...details({ alias, reason: 'node says why' }), problem: tlsProblemOf(code)!, code, url: 'https://es1:9200' });
const found = { alias: 'leader', operation: 'read shard sequence numbers', reason: 'primary of shard 0 of [logs] is not started' };

/**
 * [what, error, expected] — one case at least per row of classify's table (the last test checks
 * that none is missed), written by hand: the table is what is being tested.
 */
const table: Array<[string, unknown, Expected]> = [
  // ---- by class: what ccr-follow built the error as ----
  ['connection refused', new ClusterConnectionError(details({ reason: 'connect ECONNREFUSED 127.0.0.1:9200' })), 'retry:unreachable'],
  ['connection reset', new ClusterConnectionError(details({ reason: 'socket hang up' })), 'retry:unreachable'],
  ['request timeout', new ClusterTimeoutError(details({ reason: 'Request timed out' })), 'retry:timeout'],
  // TLS: the next handshake fails the same way until someone changes a certificate or the config.
  ['an unknown CA (SELF_SIGNED_CERT_IN_CHAIN)', tlsError('SELF_SIGNED_CERT_IN_CHAIN'), 'fatal:tls'],
  ['an unknown CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE)', tlsError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'fatal:tls'],
  ['an expired certificate', tlsError('CERT_HAS_EXPIRED'), 'fatal:tls'],
  ['a certificate for another host', tlsError('ERR_TLS_CERT_ALTNAME_INVALID'), 'fatal:tls'],
  ['a fingerprint mismatch', tlsError('CA_FINGERPRINT_MISMATCH'), 'fatal:tls'],
  ['a refused client certificate', tlsError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), 'fatal:tls'],
  ['https:// to a plain HTTP server', tlsError('ERR_SSL_WRONG_VERSION_NUMBER'), 'fatal:tls'],
  ['http:// to a TLS-only server', tlsError('TLS_REQUIRED'), 'fatal:tls'],
  // What ccr-follow found out itself: no status code, its class says it.
  ['a shard whose primary has not started', new ClusterShardUnavailableError(found), 'retry:shard_unavailable'],
  ['an index missing from an answer', new ClusterIndexNotFoundError({ ...found, operation: 'read index versions', reason: 'no such index [logs]' }), 'fatal:index_not_found'],
  ['an index deleted and created again', new IndexReplacedError({ alias: 'leader', role: 'leader', index: 'logs', expectedUuid: 'u1', foundUuid: 'u2' }), 'fatal:index_replaced'],
  ['a protocol error (unexpected answer shape)', new ClusterProtocolError(details({ reason: 'unreadable search answer' })), 'fatal:protocol'],
  ['a base ClusterError with nothing known', new ClusterError(details({})), 'fatal:protocol'],
  // A config without the alias: only a config change fixes it.
  ['an unknown cluster alias', new UnknownClusterError('east', ['leader', 'follower']), 'fatal:unknown_cluster'],
  // ---- by error.type, whatever the status ----
  ['429 es_rejected_execution_exception', response(429, 'es_rejected_execution_exception'), 'retry:overloaded'],
  ['es_rejected_execution_exception under another status', response(500, 'es_rejected_execution_exception'), 'retry:overloaded'],
  ['429 circuit_breaking_exception', response(429, 'circuit_breaking_exception'), 'retry:overloaded'],
  ['503 no_shard_available_action_exception', response(503, 'no_shard_available_action_exception'), 'retry:shard_unavailable'],
  ['503 unavailable_shards_exception', response(503, 'unavailable_shards_exception'), 'retry:shard_unavailable'],
  ['404 shard_not_found_exception (relocating)', response(404, 'shard_not_found_exception'), 'retry:shard_unavailable'],
  ['503 primary_missing_action_exception', response(503, 'primary_missing_action_exception'), 'retry:shard_unavailable'],
  // A shard copy starting, recovering, relocating or closing (CCR's shouldRetry list): Elasticsearch
  // answers IllegalIndexShardStateException and its subclasses with 404, which alone would be fatal.
  ['404 illegal_index_shard_state_exception', response(404, 'illegal_index_shard_state_exception'), 'retry:shard_unavailable'],
  ['404 index_shard_closed_exception (a relocation)', response(404, 'index_shard_closed_exception'), 'retry:shard_unavailable'],
  ['404 index_shard_not_started_exception', response(404, 'index_shard_not_started_exception'), 'retry:shard_unavailable'],
  ['404 index_shard_not_recovering_exception', response(404, 'index_shard_not_recovering_exception'), 'retry:shard_unavailable'],
  ['404 index_shard_recovering_exception', response(404, 'index_shard_recovering_exception'), 'retry:shard_unavailable'],
  ['404 index_shard_relocated_exception', response(404, 'index_shard_relocated_exception'), 'retry:shard_unavailable'],
  ['404 index_shard_started_exception', response(404, 'index_shard_started_exception'), 'retry:shard_unavailable'],
  ['500 already_closed_exception (an engine closed under the request)', response(500, 'already_closed_exception'), 'retry:shard_unavailable'],
  ['500 node_not_connected_exception', response(500, 'node_not_connected_exception'), 'retry:nodes_changing'],
  ['500 node_disconnected_exception', response(500, 'node_disconnected_exception'), 'retry:nodes_changing'],
  ['500 node_closed_exception', response(500, 'node_closed_exception'), 'retry:nodes_changing'],
  ['500 connect_transport_exception', response(500, 'connect_transport_exception'), 'retry:nodes_changing'],
  ['404 no_such_node_exception', response(404, 'no_such_node_exception'), 'retry:nodes_changing'],
  ['503 master_not_discovered_exception', response(503, 'master_not_discovered_exception'), 'retry:nodes_changing'],
  ['503 cluster_manager_not_discovered_exception', response(503, 'cluster_manager_not_discovered_exception'), 'retry:nodes_changing'],
  ['503 process_cluster_event_timeout_exception', response(503, 'process_cluster_event_timeout_exception'), 'retry:nodes_changing'],
  // A block lifts (disk watermark, operator write block): 403 here is not a security refusal.
  ['403 cluster_block_exception', response(403, 'cluster_block_exception'), 'retry:blocked'],
  ['400 index_closed_exception', response(400, 'index_closed_exception'), 'retry:blocked'],
  ['404 index_not_found_exception', response(404, 'index_not_found_exception'), 'fatal:index_not_found'],
  // ---- by status, when no type decided ----
  ['429 without a type', response(429), 'retry:overloaded'],
  ['502 bad gateway', response(502), 'retry:unavailable'],
  ['503 service unavailable', response(503), 'retry:unavailable'],
  ['504 gateway timeout', response(504), 'retry:unavailable'],
  ['401 security_exception', response(401, 'security_exception'), 'fatal:security'],
  ['403 security_exception', response(403, 'security_exception'), 'fatal:security'],
  ['403 without a type', response(403), 'fatal:security'],
  ['404 without a type', response(404), 'fatal:not_found'],
  // ---- any other answer: rejected documents, unknown types ----
  ['400 mapper_parsing_exception', response(400, 'mapper_parsing_exception'), 'fatal:refused'],
  ['400 illegal_argument_exception', response(400, 'illegal_argument_exception'), 'fatal:refused'],
  ['500 with an unknown type', response(500, 'some_new_exception'), 'fatal:refused'],
  ['a response without status or type', new ClusterResponseError(details({})), 'fatal:refused'],
  // ---- what ccr-follow checks about its own work ----
  ['a bulk answering another number of items than it was sent', new IllegalReplicationStateError('bulk answered 2 items for 3 operations'), 'fatal:illegal_state'],
  // ---- not from the cluster layer: unknown, hence fatal ----
  ['a plain Error', new Error('boom'), 'fatal:unexpected'],
  ['a TypeError', new TypeError('x is undefined'), 'fatal:unexpected'],
  ['a thrown string', 'boom', 'fatal:unexpected'],
  ['undefined', undefined, 'fatal:unexpected'],
  // ---- a stop, never a failure ----
  ['an AbortError from sleep', abortError(), 'aborted'],
  ["an AbortSignal's reason", AbortSignal.abort().reason, 'aborted'],
  ['ClusterAbortedError', new ClusterAbortedError(details({ reason: 'Request aborted' })), 'aborted'],
];

describe('classify', () => {
  for (const [what, err, expected] of table) {
    const action = expected.split(':')[0];
    it(`${action === 'retry' ? 'retries' : action === 'fatal' ? 'fails on' : 'treats as aborted'} ${what}${expected.includes(':') ? ` (${expected.split(':')[1]})` : ''}`, () => {
      const verdict = classify(err);
      expect(verdict.action === 'aborted' ? 'aborted' : `${verdict.action}:${verdict.kind}`).to.equal(expected);
      if (verdict.action !== 'aborted') expect(verdict.reason).to.be.a('string').with.length.above(0);
    });
  }

  it('has a case above for every row of its table', () => {
    const classes = new Set(table.map(([, err]) => err).filter((e): e is ClusterError => e instanceof ClusterError).map((e) => e.kind));
    for (const [kind, row] of Object.entries(CLASSIFY_TABLE.byClass)) if (row !== undefined) expect(classes, `class ${kind}`).to.include(kind);
    const responses = table.map(([, err]) => err).filter((e): e is ClusterResponseError => e instanceof ClusterResponseError);
    for (const type of Object.keys(CLASSIFY_TABLE.byType)) expect(responses.some((e) => e.esType === type), `error.type ${type}`).to.equal(true);
    for (const status of Object.keys(CLASSIFY_TABLE.byStatus)) {
      const byStatusAlone = responses.some((e) => String(e.statusCode) === status && (e.esType === undefined || !Object.hasOwn(CLASSIFY_TABLE.byType, e.esType)));
      expect(byStatusAlone, `status ${status}`).to.equal(true);
    }
  });

  it('lets auto-follow retry only the fatal errors whose cause lies outside the leader index', () => {
    const retried = table.filter(([, err]) => {
      const verdict = classify(err);
      return verdict.action === 'fatal' && verdict.autoFollowRetries;
    }).map(([, err]) => kindOf(err));
    expect([...new Set(retried)].sort()).to.deep.equal(['security', 'tls', 'unknown_cluster']);
  });

  it('reports what it found out itself under the type Elasticsearch gives the same condition', () => {
    expect(new ClusterShardUnavailableError(found).toJSON().type).to.equal('no_shard_available_action_exception');
    expect(new IndexReplacedError({ alias: 'leader', role: 'follower', index: 'logs', expectedUuid: 'u1', foundUuid: 'u2' }).toJSON())
      .to.include({ type: 'index_not_found_exception', cluster: 'leader' }).and.not.have.property('status');
    expect(response(400, 'mapper_parsing_exception').toJSON().type).to.equal('mapper_parsing_exception');
    expect(new ClusterProtocolError(details({})).toJSON().type).to.equal('ClusterProtocolError');
    expect(new IllegalReplicationStateError('x').type).to.equal('illegal_state_exception');
  });

  it('gives a reason naming the cause of a fatal cluster error', () => {
    const verdict = classify(new ClusterResponseError(details({ statusCode: 404, esType: 'index_not_found_exception', reason: 'no such index [logs]' })));
    expect(verdict).to.have.property('action', 'fatal');
    expect((verdict as { reason: string }).reason).to.include('no such index [logs]');
  });

  it('gives the message of an unknown error as the reason', () => {
    expect(classify(new Error('kaboom'))).to.deep.equal({ action: 'fatal', kind: 'unexpected', reason: 'unexpected error: kaboom', autoFollowRetries: false });
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

  it('says that a cluster does not serve an API, rather than only echoing "no handler found"', () => {
    const err = new ClusterResponseError(details({ alias: 'east', statusCode: 400, reason: 'no handler found for uri [/_ilm/policy] and method [GET]' }));
    expect(err.message).to.match(/no handler found .*; cluster \[east\] does not serve this API: the module or plugin that provides it is not installed/);
    expect(classify(err).action).to.equal('fatal');
    const other = new ClusterResponseError(details({ statusCode: 400, esType: 'illegal_argument_exception', reason: 'unknown setting [x]' }));
    expect(other.message).to.not.include('does not serve');
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
});
