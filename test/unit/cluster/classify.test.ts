import { expect } from 'chai';
import { classify, type Classification } from '../../../src/cluster/classify.js';
import {
  ClusterAbortedError,
  ClusterConnectionError,
  ClusterError,
  ClusterProtocolError,
  ClusterResponseError,
  ClusterTimeoutError,
  type ClusterErrorDetails,
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

  it('is a pure function: the same error classifies the same way twice', () => {
    const err = response(429);
    expect(classify(err)).to.deep.equal(classify(err));
  });
});
