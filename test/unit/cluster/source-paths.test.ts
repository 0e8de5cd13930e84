/**
 * No `_source` on the paths that move or compare documents goes through JSON.parse: the realtime
 * multi-get, the shard search and sample, the foreign-write repair and `verify`. JSON.parse is
 * watched for the whole test and fails it when it is handed a text holding one of the sources.
 * The cluster is a scripted transport answering as Elasticsearch does: raw bytes when the caller
 * asks for them, otherwise JSON.parse'd (as both clients do), which the watch then catches.
 */
import { expect } from 'chai';
import { ClusterClient } from '../../../src/cluster/cluster-client.js';
import type { RestRequest, RestResponse, RestTransport } from '../../../src/cluster/rest-transport.js';
import { IndexIdentity } from '../../../src/follow/index-identity.js';
import { ShardReconcilerImpl } from '../../../src/follow/shard-reconciler.js';
import { memoryLogger } from '../../../src/util/logger.js';
import { compareIndices } from '../../../src/verify/compare-indices.js';

/** Every digit a double would change, and an exponent it cannot hold: JSON.parse could not keep this source. */
const SOURCE = '{"n53":9007199254740993,"min":-9223372036854775808,"exp":1e400,"s":"\\u00e9"}';
const MARK = '9007199254740993';

type Answer = (req: RestRequest) => string | undefined;

class ScriptedTransport implements RestTransport {
  readonly sent: RestRequest[] = [];
  constructor(readonly alias: string, private readonly answer: Answer) {}

  async request<T>(_operation: string, req: RestRequest): Promise<RestResponse<T>> {
    this.sent.push(req);
    const text = this.answer(req);
    if (text === undefined) throw new Error(`unscripted request ${req.method} ${req.path}`);
    const body = req.rawResponse ? Buffer.from(text, 'utf8') : JSON.parse(text);
    return { status: 200, headers: {}, body: body as T };
  }

  async close(): Promise<void> {}
}

/** Answers of a one-shard index `idx` holding one document `d1` (routing r1) with `source`. */
function indexAnswers(source: string, version: number, uuid: string): Answer {
  const hit = `{"_index":"idx","_id":"d1","_version":${version},"_seq_no":4,"_primary_term":1,"_routing":"r1","_source":${source},"sort":[4]}`;
  return (req) => {
    const { path } = req;
    if (path.endsWith('/_stats/docs')) return '{"_shards":{"total":1,"successful":1},"indices":{"idx":{"shards":{"0":[{"routing":{"primary":true},"seq_no":{"global_checkpoint":4,"max_seq_no":4,"local_checkpoint":4}}]}}}}';
    if (path.endsWith('/_refresh')) return '{"_shards":{"total":1,"successful":1,"failed":0}}';
    if (path.endsWith('/_count')) return '{"count":1,"_shards":{"total":1,"successful":1,"failed":0}}';
    if (path.endsWith('/_settings/index.uuid')) return `{"idx":{"settings":{"index":{"uuid":"${uuid}"}}}}`;
    if (path === '/idx') return `{"idx":{"aliases":{},"mappings":{},"settings":{"index.uuid":"${uuid}","index.number_of_shards":"1"}}}`;
    if (path.startsWith('/_cluster/state/')) return `{"metadata":{"indices":{"idx":{"state":"open","settings":{"index":{"uuid":"${uuid}"}},"mapping_version":1,"settings_version":1,"aliases_version":1,"routing_num_shards":1}}}}`;
    if (path.endsWith('/_mget')) return `{"docs":[{"_index":"idx","_id":"d1","_version":${version},"_seq_no":4,"_primary_term":1,"_routing":"r1","found":true,"_source":${source}}]}`;
    if (path.endsWith('/_search')) {
      const after = (req.body as { search_after?: number[] }).search_after;
      return `{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"hits":[${after === undefined ? hit : ''}]}}`;
    }
    if (path.endsWith('/_bulk')) return '{"errors":false,"items":[{"index":{"_id":"d1","status":200,"_seq_no":5}}]}';
    return undefined;
  };
}

describe('document sources never pass through JSON.parse', () => {
  const parse = JSON.parse;
  let parsedSources: string[];

  beforeEach(() => {
    parsedSources = [];
    JSON.parse = ((text: string, reviver?: Parameters<typeof parse>[1]) => {
      if (String(text).includes(MARK)) parsedSources.push(String(text));
      return parse(text, reviver);
    }) as typeof JSON.parse;
  });

  afterEach(() => {
    JSON.parse = parse;
  });

  const client = (alias: string, answer: Answer): { client: ClusterClient; transport: ScriptedTransport } => {
    const transport = new ScriptedTransport(alias, answer);
    return { client: new ClusterClient({ alias, flavor: 'elasticsearch', version: '8.19.21' }, transport), transport };
  };

  it('the watch itself catches a parse of a source (so the checks below can fail)', () => {
    JSON.parse(`{"x":${MARK}}`);
    expect(parsedSources).to.have.length(1);
  });

  it('realtime multi-get, shard search and shard sample keep the exact text', async () => {
    const { client: c } = client('leader', indexAnswers(SOURCE, 1, 'U'));
    const [got] = await c.multiGet('idx', [{ id: 'd1', routing: 'r1' }], true);
    expect(got!.sourceJson).to.equal(SOURCE);
    const [hit] = await c.searchShardBySeqNo('idx', { shard: 0, fromExclusive: -1, toInclusive: 4, size: 10 });
    expect(hit!.sourceJson).to.equal(SOURCE);
    const [sampled] = await c.sampleShard('idx', 0, 10);
    expect(sampled!.sourceJson).to.equal(SOURCE);
    expect(parsedSources).to.deep.equal([]);
  });

  it('a foreign-write repair sends the leader\'s exact text to the follower', async () => {
    const leader = client('leader', indexAnswers(SOURCE, 1, 'L'));
    // On the follower the document was overwritten by someone else: internal version 3, another value.
    const follower = client('follower', indexAnswers('{"n53":9007199254740992}', 3, 'F'));
    const reconciler = new ShardReconcilerImpl({
      leader: leader.client, leaderIndex: 'idx', follower: follower.client, followerIndex: 'idx', shard: 0,
      repairForeignWrites: true, logger: memoryLogger(), leaderIdentity: new IndexIdentity(leader.client, 'idx', 'leader', 'L'),
    });
    const outcome = await reconciler.reconcile(new AbortController().signal);
    expect(outcome.foreignWritesRepaired).to.equal(1);
    const bulk = follower.transport.sent.find((r) => r.path.endsWith('/_bulk'));
    expect(bulk?.ndjson?.toString().split('\n')[1]).to.equal(SOURCE);
    expect(parsedSources).to.deep.equal([]);
  });

  it('verify, full and sampled, compares without parsing and sees a change in the last digit', async () => {
    const leader = client('leader', indexAnswers(SOURCE, 1, 'L'));
    const equal = client('follower', indexAnswers(SOURCE.replace('{', '{ ').replace(',"s"', ' ,"s"'), 1, 'F'));
    const changed = client('follower', indexAnswers(SOURCE.replace(MARK, '9007199254740992'), 1, 'F'));
    for (const sample of [undefined, 10]) {
      const options = sample === undefined ? {} : { sample };
      const same = await compareIndices({ client: leader.client, index: 'idx' }, { client: equal.client, index: 'idx' }, options);
      expect(same.identical, `sample ${sample}`).to.equal(true);
      const differs = await compareIndices({ client: leader.client, index: 'idx' }, { client: changed.client, index: 'idx' }, options);
      expect(differs.identical, `sample ${sample}`).to.equal(false);
      expect(differs.shards[0]!.examples.different, `sample ${sample}`).to.deep.equal(['d1']);
    }
    expect(parsedSources).to.deep.equal([]);
  });
});
