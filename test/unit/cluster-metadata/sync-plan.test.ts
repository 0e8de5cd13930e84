/** Planning a round: created, changed, put back, deleted, adopted, forgotten, in dependency order. */
import { expect } from 'chai';
import type { MetadataItem, MetadataKind } from '../../../src/cluster/metadata-items.js';
import { fingerprint, itemKey, planSync, type SyncedItem } from '../../../src/cluster-metadata/sync-plan.js';

const item = (kind: MetadataKind, name: string, body: Record<string, unknown>): MetadataItem => ({ kind, name, body });
const same = (i: MetadataItem): { body: Record<string, unknown>; heldBack: Record<string, unknown> } => ({ body: i.body as Record<string, unknown>, heldBack: {} });
const all = (): boolean => true;
const synced = (leader: MetadataItem, follower: MetadataItem = leader): [string, SyncedItem] => [itemKey(leader.kind, leader.name), { leaderFingerprint: fingerprint(leader.body), followerFingerprint: fingerprint(follower.body) }];
const summary = (actions: ReturnType<typeof planSync>['actions']): string[] => actions.map((a) => (a.action === 'put' ? `put ${a.item.kind}/${a.item.name} ${a.reason}` : `delete ${a.kind}/${a.name}`));

describe('planSync', () => {
  it('creates what the follower lacks, policies and pipelines first, component before index templates', () => {
    const plan = planSync({
      leader: [item('index_template', 'logs', { index_patterns: ['logs-*'], composed_of: ['base'] }), item('component_template', 'base', {}), item('ingest_pipeline', 'p', { processors: [] }), item('lifecycle_policy', 'hot', { policy: {} })],
      follower: [], synced: new Map(), selected: all, translate: same,
    });
    expect(summary(plan.actions)).to.deep.equal(['put lifecycle_policy/hot created', 'put ingest_pipeline/p created', 'put component_template/base created', 'put index_template/logs created']);
  });

  it('puts a changed leader item again, and puts back one changed or deleted on the follower, counted apart', () => {
    const a1 = item('index_template', 'a', { priority: 1 });
    const a2 = item('index_template', 'a', { priority: 2 });
    const b = item('index_template', 'b', { priority: 1 });
    const c = item('index_template', 'c', { priority: 1 });
    const plan = planSync({
      leader: [a2, b, c], follower: [a1, item('index_template', 'b', { priority: 9 })],
      synced: new Map([synced(a1), synced(b), synced(c)]), selected: all, translate: same,
    });
    expect(summary(plan.actions)).to.deep.equal(['put index_template/a changed', 'put index_template/b put_back', 'put index_template/c put_back']);
    expect(plan.unchanged).to.equal(0);
  });

  it('leaves alone an item unchanged on both sides, even when the follower prints it differently', () => {
    const leader = item('component_template', 'base', { template: { settings: { index: { number_of_shards: 1 } } } });
    const printed = item('component_template', 'base', { template: { settings: { index: { number_of_shards: '1' } } } });
    const plan = planSync({ leader: [leader], follower: [printed], synced: new Map([synced(leader, printed)]), selected: all, translate: same });
    expect(plan.actions).to.deep.equal([]);
    expect(plan.unchanged).to.equal(1);
  });

  it('deletes on the follower only what a round put and the leader deleted; forgets what the pattern no longer selects', () => {
    const gone = item('ingest_pipeline', 'gone', { processors: [] });
    const narrowed = item('ingest_pipeline', 'narrowed', { processors: [] });
    const own = item('ingest_pipeline', 'own', { processors: [] });
    const plan = planSync({
      leader: [narrowed], follower: [gone, narrowed, own], synced: new Map([synced(gone), synced(narrowed)]),
      selected: (_kind, name) => name !== 'narrowed', translate: same,
    });
    expect(summary(plan.actions)).to.deep.equal(['delete ingest_pipeline/gone']);
    expect([...plan.forget].sort()).to.deep.equal(['ingest_pipeline/gone', 'ingest_pipeline/narrowed']);
  });

  it('adopts an item already equal on the follower, and replaces one that differs', () => {
    const a = item('index_template', 'a', { priority: 1 });
    const b = item('index_template', 'b', { priority: 1 });
    const plan = planSync({ leader: [a, b], follower: [a, item('index_template', 'b', { priority: 5 })], synced: new Map(), selected: all, translate: same });
    expect([...plan.adopted.keys()]).to.deep.equal(['index_template/a']);
    expect(summary(plan.actions)).to.deep.equal(['put index_template/b changed']);
  });

  it('reports what cannot be expressed and goes on with the rest; deletes last, index templates before component templates', () => {
    const a = item('component_template', 'old', {});
    const t = item('index_template', 'old', {});
    const policy = item('lifecycle_policy', 'hot', { policy: {} });
    const plan = planSync({
      leader: [policy, item('ingest_pipeline', 'p', { processors: [] })], follower: [a, t], synced: new Map([synced(a), synced(t)]), selected: all,
      translate: (i) => (i.kind === 'lifecycle_policy' ? { unexpressible: 'no mapping' } : same(i)),
    });
    expect(plan.unexpressible).to.deep.equal([{ kind: 'lifecycle_policy', name: 'hot', reason: 'no mapping' }]);
    expect(summary(plan.actions)).to.deep.equal(['put ingest_pipeline/p created', 'delete index_template/old', 'delete component_template/old']);
  });

  it('puts an ISM policy with the seq_no the follower\'s was read at', () => {
    const leader = item('lifecycle_policy', 'hot', { policy: { states: [1] } });
    const follower: MetadataItem = { kind: 'lifecycle_policy', name: 'hot', body: { policy: { states: [] } }, writeCondition: { seqNo: 4, primaryTerm: 1 } };
    const [put] = planSync({ leader: [leader], follower: [follower], synced: new Map([synced(item('lifecycle_policy', 'hot', { policy: {} }), follower)]), selected: all, translate: same }).actions;
    expect(put).to.deep.include({ action: 'put', reason: 'changed' });
    expect((put as { item: MetadataItem }).item.writeCondition).to.deep.equal({ seqNo: 4, primaryTerm: 1 });
  });
});
