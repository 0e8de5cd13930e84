import { expect } from 'chai';
import { ClusterClient } from '../../../src/cluster/cluster-client.js';
import { MAX_NAMES_IN_PATH } from '../../../src/cluster/index-expressions.js';
import type { RestRequest, RestResponse, RestTransport } from '../../../src/cluster/rest-transport.js';

/** Answers each request from the names in its path, as a leader holding `started` would. */
class NamesTransport implements RestTransport {
  readonly alias = 'leader';
  readonly sent: RestRequest[] = [];
  constructor(private readonly answer: (names: string[], req: RestRequest) => unknown) {}

  async request<T>(_operation: string, req: RestRequest): Promise<RestResponse<T>> {
    this.sent.push(req);
    const list = req.path.startsWith('/_cluster/state/metadata/') ? req.path.slice('/_cluster/state/metadata/'.length) : req.path.split('/')[1]!;
    const answer = this.answer(list.split(',').map(decodeURIComponent), req);
    return { status: 200, headers: {}, body: (req.rawResponse === true ? Buffer.from(JSON.stringify(answer)) : answer) as T };
  }

  async close(): Promise<void> {}
}

const client = (t: RestTransport): ClusterClient => new ClusterClient({ alias: 'leader', flavor: 'elasticsearch', version: '8.19.0' }, t);
const primary = (gcp: number): unknown => ({ routing: { primary: true }, seq_no: { global_checkpoint: gcp, max_seq_no: gcp + 1, local_checkpoint: gcp } });

describe('ClusterClient batched reads of many indices', () => {
  const names = Array.from({ length: 400 }, (_, i) => `tenant-${String(i).padStart(4, '0')}-logs-2026.12.07`);

  it('reads the checkpoints of many indices in as few _stats requests as the request line allows', async () => {
    const t = new NamesTransport((asked) => ({ indices: Object.fromEntries(asked.map((n, i) => [n, { shards: { 0: [{ routing: { primary: false } }, primary(i)] } }])) }));
    const answer = await client(t).shardSeqNosOfMany(names);
    expect(t.sent.length).to.be.greaterThan(1);
    expect(t.sent.length).to.equal(Math.ceil(names.reduce((n, x) => n + x.length + 1, 0) / MAX_NAMES_IN_PATH));
    for (const req of t.sent) {
      expect(req.path.length).to.be.at.most(MAX_NAMES_IN_PATH + '/_stats/docs'.length + 1);
      expect(req.query).to.include({ level: 'shards', ignore_unavailable: true });
    }
    expect([...answer.keys()]).to.deep.equal(names);
    expect(answer.get(names[0]!)).to.deep.equal([{ shard: 0, globalCheckpoint: 0, maxSeqNo: 1, localCheckpoint: 0 }]);
  });

  it('leaves out what it cannot answer: a missing index, one with a primary not started, one answered under another name', async () => {
    const t = new NamesTransport(() => ({
      indices: {
        ok: { shards: { 0: [primary(5)], 1: [primary(7)] } },
        starting: { shards: { 0: [primary(5)], 1: [{ routing: { primary: false } }] } },
        'other-name': { shards: { 0: [primary(1)] } },
      },
    }));
    const answer = await client(t).shardSeqNosOfMany(['ok', 'starting', 'gone', 'alias']);
    expect([...answer.keys()]).to.deep.equal(['ok']);
    expect(answer.get('ok')!.map((s) => s.globalCheckpoint)).to.deep.equal([5, 7]);
  });

  it('reads metadata versions and uuids of many indices from the cluster state, each by its own name', async () => {
    const t = new NamesTransport((asked) => ({
      metadata: {
        indices: Object.fromEntries([...asked.filter((n) => n !== 'gone'), 'sibling-backing-index'].map((n, i) => [n, {
          mapping_version: i + 1, settings_version: 2, aliases_version: 3, settings: { index: { uuid: `uuid-${n}` } },
        }])),
      },
    }));
    const answer = await client(t).metadataVersionsOfMany(['a', 'gone', 'b']);
    expect(Object.fromEntries(answer)).to.deep.equal({
      a: { mappingVersion: 1, settingsVersion: 2, aliasesVersion: 3, uuid: 'uuid-a' },
      b: { mappingVersion: 2, settingsVersion: 2, aliasesVersion: 3, uuid: 'uuid-b' },
    });
    expect(t.sent).to.have.length(1);
    expect(String(t.sent[0]!.query!.filter_path)).to.include('settings.index.uuid');
  });

  it('asks by the shorter expressions it is given and answers only the indices asked for', async () => {
    const existing = [...names, 'tenant-extra', 'other'];
    const matching = (asked: string[]): string[] => existing.filter((n) => asked.some((e) => e.endsWith('*') ? n.startsWith(e.slice(0, -1)) : e === n));
    const stats = new NamesTransport((asked) => ({ indices: Object.fromEntries(matching(asked).map((n) => [n, { shards: { 0: [primary(1)] } }])) }));
    const checkpoints = await client(stats).shardSeqNosOfMany(names, undefined, ['tenant-0*']);
    expect(stats.sent).to.have.length(1);
    expect(stats.sent[0]!.query).to.include({ expand_wildcards: 'open,hidden' });
    expect([...checkpoints.keys()]).to.deep.equal(names);
    const state = new NamesTransport((asked) => ({ metadata: { indices: Object.fromEntries(matching(asked).map((n) => [n, { settings: { index: { uuid: `u-${n}` } } }])) } }));
    const versions = await client(state).metadataVersionsOfMany(['other', names[3]!], undefined, ['other', 'tenant-*']);
    expect(state.sent).to.have.length(1);
    expect([...versions.keys()]).to.deep.equal(['other', names[3]]);
    expect(versions.get('other')!.uuid).to.equal('u-other');
  });

  it('counts every request under the purpose of the view that sent it', async () => {
    const t = new NamesTransport(() => ({ indices: {} }));
    const base = client(t);
    await base.forPurpose('checkpoints').shardSeqNosOfMany(['a']);
    await base.forPurpose('checkpoints').shardSeqNosOfMany(['b']);
    await base.forPurpose('reads').shardSeqNosOfMany(['c']);
    await base.shardSeqNosOfMany(['d']);
    expect(base.requestStats().total).to.deep.equal({ checkpoints: 2, metadata: 0, reads: 1, reconciliation: 0, writes: 0, other: 1 });
  });
});
