import { expect } from 'chai';
import { ClusterClient, externalBulkBody } from '../../../src/cluster/cluster-client.js';
import { ClusterProtocolError, ClusterResponseError } from '../../../src/cluster/errors.js';
import type { RestRequest, RestResponse, RestTransport } from '../../../src/cluster/rest-transport.js';
import type { ExternalOp } from '../../../src/cluster/types.js';

/** Answers every request with `answer`, as bytes when asked for them (as both clients do with a stream). */
class OneAnswer implements RestTransport {
  readonly sent: RestRequest[] = [];
  constructor(readonly alias: string, private readonly answer: string) {}

  async request<T>(_operation: string, req: RestRequest): Promise<RestResponse<T>> {
    this.sent.push(req);
    const body = req.rawResponse ? Buffer.from(this.answer, 'utf8') : JSON.parse(this.answer);
    return { status: 200, headers: {}, body: body as T };
  }

  async close(): Promise<void> {}
}

const clientOver = (transport: RestTransport): ClusterClient => new ClusterClient({ alias: 'follower', flavor: 'opensearch', version: '2.19.6' }, transport);

const OPS: readonly ExternalOp[] = [
  { op: 'index', id: 'a', routing: undefined, version: 7, sourceJson: '{"n":9007199254740993,"s":"é"}' },
  { op: 'index', id: 'ü"2', routing: 'r/ö', version: 8, sourceJson: Buffer.from('{ "kept" : 1.50 }', 'utf8') },
  { op: 'delete', id: 'c', routing: undefined, version: 9 },
];

describe('ClusterClient.bulkExternal', () => {
  it('writes action lines and every source exactly as given, string or bytes', () => {
    expect(externalBulkBody(OPS).toString('utf8')).to.equal([
      '{"index":{"_id":"a","version":7,"version_type":"external"}}',
      '{"n":9007199254740993,"s":"é"}',
      '{"index":{"_id":"ü\\"2","version":8,"version_type":"external","routing":"r/ö"}}',
      '{ "kept" : 1.50 }',
      '{"delete":{"_id":"c","version":9,"version_type":"external"}}',
      '',
    ].join('\n'));
  });

  it('takes an answer that says no item failed as every operation applied, reading no item', async () => {
    // Its items are not read: this answer lists none.
    const transport = new OneAnswer('follower', '{"errors":false,"items":[]}');
    const results = await clientOver(transport).bulkExternal('idx', OPS);
    expect(results).to.deep.equal([{ outcome: 'applied', id: 'a' }, { outcome: 'applied', id: 'ü"2' }, { outcome: 'applied', id: 'c' }]);
    expect(transport.sent[0]?.query?.['filter_path']).to.equal('errors,items.*.status,items.*.error,items.*._seq_no');
  });

  it('takes each applied item\'s seq_no from an answer without failures, in order', async () => {
    const answer = '{"errors":false,"items":[{"index":{"_seq_no":41,"status":201}},{"index":{"_seq_no":7,"status":200}},{"delete":{"_seq_no":42,"status":200}}]}';
    const results = await clientOver(new OneAnswer('follower', answer)).bulkExternal('idx', OPS);
    expect(results).to.deep.equal([{ outcome: 'applied', id: 'a', seqNo: 41 }, { outcome: 'applied', id: 'ü"2', seqNo: 7 }, { outcome: 'applied', id: 'c', seqNo: 42 }]);
  });

  it('reads each item when some failed: applied, already there (409) and failed with its error', async () => {
    const answer = '{"errors":true,"items":[{"index":{"_seq_no":3,"status":201}},{"index":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"newer"}}},'
      + '{"delete":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}}]}';
    const results = await clientOver(new OneAnswer('follower', answer)).bulkExternal('idx', OPS);
    expect(results.map((r) => r.outcome)).to.deep.equal(['applied', 'already_applied', 'failed']);
    expect(results[0]).to.deep.equal({ outcome: 'applied', id: 'a', seqNo: 3 });
    const failed = results[2];
    expect(failed?.outcome === 'failed' && failed.error).to.be.instanceOf(ClusterResponseError);
    expect(failed?.outcome === 'failed' && failed.error.statusCode).to.equal(429);
    expect(failed?.outcome === 'failed' && failed.error.message).to.contain('write document [c]');
  });

  it('refuses an answer with another number of items than operations sent', async () => {
    const client = clientOver(new OneAnswer('follower', '{"errors":true,"items":[{"index":{"status":201}}]}'));
    let error: unknown;
    await client.bulkExternal('idx', OPS).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(ClusterProtocolError);
    expect((error as Error).message).to.contain('sent 3 operations, got 1 results');
  });
});
