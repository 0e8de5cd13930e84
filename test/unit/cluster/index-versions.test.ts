import { expect } from 'chai';
import { ClusterClient } from '../../../src/cluster/cluster-client.js';
import { ClusterIndexNotFoundError } from '../../../src/cluster/errors.js';
import type { RestRequest, RestResponse, RestTransport } from '../../../src/cluster/rest-transport.js';

class OneAnswer implements RestTransport {
  constructor(readonly alias: string, private readonly answer: unknown) {}

  async request<T>(_operation: string, _req: RestRequest): Promise<RestResponse<T>> {
    return { status: 200, headers: {}, body: this.answer as T };
  }

  async close(): Promise<void> {}
}

const entry = (uuid: string, mappingVersion: number): unknown => ({
  state: 'open', mapping_version: mappingVersion, settings_version: 1, aliases_version: 1, settings: { index: { uuid } },
});
const client = (answer: unknown): ClusterClient => new ClusterClient({ alias: 'leader', flavor: 'elasticsearch', version: '8.19.21' }, new OneAnswer('leader', answer));

describe('ClusterClient.metadataVersions', () => {
  it('reads the index asked for, though the cluster state answers every backing index of its data stream', async () => {
    // Elasticsearch answers a backing index's cluster state with all of its stream's backing indices, newest last or first.
    const answer = { metadata: { indices: { '.ds-logs-000002': entry('second', 5), '.ds-logs-000001': entry('first', 3) } } };
    expect(await client(answer).metadataVersions('.ds-logs-000001')).to.deep.equal({ mappingVersion: 3, settingsVersion: 1, aliasesVersion: 1, uuid: 'first' });
  });

  it('reads an alias\'s one concrete index, and refuses an answer that names neither', async () => {
    expect((await client({ metadata: { indices: { 'orders-v2': entry('v2', 1) } } }).metadataVersions('orders')).uuid).to.equal('v2');
    const err = await client({ metadata: { indices: { a: entry('a', 1), b: entry('b', 1) } } }).metadataVersions('orders').then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ClusterIndexNotFoundError);
  });
});
