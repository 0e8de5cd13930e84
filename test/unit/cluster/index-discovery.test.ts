// The requests behind auto-follow's index discovery (ClusterClient.resolveIndex / indexStates /
// updateAliases) against a transport that records them, and what index-discovery reads from the
// answers, without a cluster.
import { expect } from 'chai';
import { ClusterClient } from '../../../src/cluster/cluster-client.js';
import { ClusterProtocolError } from '../../../src/cluster/errors.js';
import { chunkNames, expressionPath, MAX_NAMES_IN_PATH } from '../../../src/cluster/index-expressions.js';
import { indexDetails, putAlias, resolveIndices } from '../../../src/cluster/index-discovery.js';
import type { RestRequest, RestResponse, RestTransport } from '../../../src/cluster/rest-transport.js';

interface Sent { readonly operation: string; readonly req: RestRequest }

/** A client whose transport records each request and answers with `answer(req)`. */
function fakeClient(answer: (req: RestRequest) => unknown): { client: ClusterClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const transport: RestTransport = {
    alias: 'leader',
    async request<T>(operation: string, req: RestRequest): Promise<RestResponse<T>> {
      sent.push({ operation, req });
      return { status: 200, body: answer(req) as T, headers: {} };
    },
    close: async () => undefined,
  };
  return { client: new ClusterClient({ alias: 'leader', flavor: 'elasticsearch', version: '8.19.21' }, transport), sent };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(() => { throw new Error('expected a rejection'); }, (err: Error) => err);
}

describe('index-expressions', () => {
  it('encodes each name but keeps wildcards, joined by commas', () => {
    expect(expressionPath(['logs-*', 'a b', 'x,y', 'ü'])).to.equal('logs-*,a%20b,x%2Cy,%C3%BC');
  });

  it('splits a long list in order, each run within the limit', () => {
    const names = Array.from({ length: 500 }, (_, i) => `.ds-logs-app-2024.05.${String(i).padStart(3, '0')}-000001`);
    const chunks = chunkNames(names);
    expect(chunks.length).to.be.greaterThan(1);
    expect(chunks.flat()).to.deep.equal(names);
    for (const chunk of chunks) expect(expressionPath(chunk).length).to.be.at.most(MAX_NAMES_IN_PATH);
    expect(chunkNames([])).to.deep.equal([]);
    expect(chunkNames(['a', 'b'])).to.deep.equal([['a', 'b']]);
  });

  it('sends a name longer than the limit on its own', () => {
    const long = 'x'.repeat(MAX_NAMES_IN_PATH + 10);
    expect(chunkNames(['a', long, 'b'])).to.deep.equal([['a'], [long], ['b']]);
  });
});

describe('resolveIndices', () => {
  it('asks _resolve/index for every expression, hidden and closed included, missing ones ignored', async () => {
    const { client, sent } = fakeClient(() => ({ indices: [] }));
    await resolveIndices(client, ['logs-*', 'metrics 1']);
    expect(sent).to.deep.equal([{
      operation: 'resolve indices',
      req: { method: 'GET', path: '/_resolve/index/logs-*,metrics%201', query: { expand_wildcards: 'all', ignore_unavailable: true } },
    }]);
  });

  it('reads open, hidden, system, the data stream and aliases of each index', async () => {
    const { client } = fakeClient(() => ({
      indices: [
        { name: 'logs-a', attributes: ['open'], aliases: ['logs'] },
        { name: 'logs-b', attributes: ['closed', 'hidden'] },
        { name: '.ds-s-000001', attributes: ['open', 'hidden', 'system'], data_stream: 's' },
        { name: 'bare' },
      ],
      aliases: [{ name: 'logs', indices: ['logs-a'] }, { name: 'empty' }],
      data_streams: [{ name: 's', backing_indices: ['.ds-s-000001'] }, { name: 't' }],
    }));
    expect(await resolveIndices(client, ['*'])).to.deep.equal({
      indices: [
        { name: 'logs-a', open: true, hidden: false, system: false, aliases: ['logs'] },
        { name: 'logs-b', open: false, hidden: true, system: false, aliases: [] },
        { name: '.ds-s-000001', open: true, hidden: true, system: true, dataStream: 's', aliases: [] },
        { name: 'bare', open: true, hidden: false, system: false, aliases: [] },
      ],
      aliases: [{ name: 'logs', indices: ['logs-a'] }, { name: 'empty', indices: [] }],
      dataStreams: [{ name: 's', backingIndices: ['.ds-s-000001'] }, { name: 't', backingIndices: [] }],
    });
  });

  it('asks nothing for no expressions', async () => {
    const { client, sent } = fakeClient(() => { throw new Error('no request expected'); });
    expect(await resolveIndices(client, [])).to.deep.equal({ indices: [], aliases: [], dataStreams: [] });
    expect(sent).to.deep.equal([]);
  });

  it('refuses an answer without an indices list as a protocol error of the cluster', async () => {
    const { client } = fakeClient(() => ({ aliases: [] }));
    const err = await rejection(resolveIndices(client, ['logs-*']));
    expect(err).to.be.instanceOf(ClusterProtocolError);
    expect(err.message).to.include('[leader] resolve indices failed').and.include('the answer has no "indices" list');
  });
});

describe('indexDetails', () => {
  const state = (name: string, creation: string | undefined, extra: Record<string, unknown> = {}) => ({
    [name]: { state: 'open', settings: { index: creation === undefined ? {} : { creation_date: creation } }, ...extra },
  });
  const copies = (...primaryStates: string[]) => Object.fromEntries(primaryStates.map((s, i) => [String(i), [
    { state: s, primary: true }, { state: 'UNASSIGNED', primary: false },
  ]]));

  it('reads state, creation date, hidden, system and whether every primary is active', async () => {
    const { client, sent } = fakeClient(() => ({
      metadata: {
        indices: {
          ...state('ready', '1714557600000', { system: true }),
          ...state('starting', '1714557600001'),
          ...state('closed', '1714557600002', { state: 'close', settings: { index: { creation_date: '1714557600002', hidden: 'true' } } }),
          ...state('relocating', '1714557600003'),
        },
      },
      routing_table: {
        indices: {
          ready: { shards: copies('STARTED', 'STARTED') },
          starting: { shards: copies('STARTED', 'INITIALIZING') },
          relocating: { shards: copies('RELOCATING') },
        },
      },
    }));
    const details = await indexDetails(client, ['ready', 'starting', 'closed', 'relocating', 'gone']);
    expect([...details.values()]).to.deep.equal([
      { name: 'ready', state: 'open', creationDate: 1714557600000, hidden: false, system: true, primariesActive: true },
      { name: 'starting', state: 'open', creationDate: 1714557600001, hidden: false, system: false, primariesActive: false },
      { name: 'closed', state: 'close', creationDate: 1714557600002, hidden: true, system: false, primariesActive: false },
      { name: 'relocating', state: 'open', creationDate: 1714557600003, hidden: false, system: false, primariesActive: true },
    ]);
    expect(sent).to.have.length(1);
    expect(sent[0]!.operation).to.equal('read index creation dates');
    expect(sent[0]!.req.path).to.equal('/_cluster/state/metadata,routing_table/ready,starting,closed,relocating,gone');
    expect(sent[0]!.req.query).to.include({ expand_wildcards: 'all', ignore_unavailable: true });
    expect(String(sent[0]!.req.query?.filter_path).split(',')).to.include.members([
      'metadata.indices.*.settings.index.creation_date', 'routing_table.indices.*.shards.*.primary',
    ]);
  });

  it('reads a long list in several requests and joins the answers', async () => {
    const names = Array.from({ length: 400 }, (_, i) => `index-with-a-long-name-${String(i).padStart(4, '0')}`);
    const { client, sent } = fakeClient((req) => {
      const asked = decodeURIComponent(req.path.slice('/_cluster/state/metadata,routing_table/'.length)).split(',');
      return {
        metadata: { indices: Object.assign({}, ...asked.map((n) => state(n, '1'))) },
        routing_table: { indices: Object.fromEntries(asked.map((n) => [n, { shards: copies('STARTED') }])) },
      };
    });
    const details = await indexDetails(client, names);
    expect(sent.length).to.be.greaterThan(1);
    expect([...details.keys()]).to.deep.equal(names);
    expect([...details.values()].every((d) => d.primariesActive)).to.equal(true);
  });

  it('refuses an index without a creation date as a protocol error naming it', async () => {
    const { client } = fakeClient(() => ({ metadata: { indices: state('odd', undefined) } }));
    const err = await rejection(indexDetails(client, ['odd']));
    expect(err).to.be.instanceOf(ClusterProtocolError);
    expect(err.message).to.include('index [odd] has no index.creation_date');
  });
});

describe('putAlias', () => {
  it('adds the alias to every index in one atomic request, and sends nothing for no indices', async () => {
    const { client, sent } = fakeClient(() => ({ acknowledged: true }));
    await putAlias(client, 'logs-s', []);
    expect(sent).to.deep.equal([]);
    await putAlias(client, 'logs-s', ['.ds-logs-s-000001', '.ds-logs-s-000002']);
    expect(sent).to.have.length(1);
    expect(sent[0]!.req).to.include({ method: 'POST', path: '/_aliases' });
    expect(JSON.parse(sent[0]!.req.json ?? '')).to.deep.equal({ actions: [{ add: { indices: ['.ds-logs-s-000001', '.ds-logs-s-000002'], alias: 'logs-s' } }] });
  });
});
