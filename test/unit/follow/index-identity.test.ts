import { expect } from 'chai';
import type { ClusterClient } from '../../../src/cluster/cluster-client.js';
import { kindOf } from '../../../src/cluster/classify.js';
import { IndexReplacedError } from '../../../src/cluster/errors.js';
import type { IndexVersions } from '../../../src/cluster/types.js';
import { IndexIdentity } from '../../../src/follow/index-identity.js';

/** Answers uuid reads one at a time, when the test says so. */
class FakeCluster {
  readonly alias = 'leader';
  uuid = 'uuid-1';
  readonly open: (() => void)[] = [];
  reads = 0;

  metadataVersions(): Promise<IndexVersions> {
    this.reads += 1;
    return new Promise((resolve) => this.open.push(() => resolve({ uuid: this.uuid, mappingVersion: 1, settingsVersion: 1, aliasesVersion: 1 })));
  }

  answer(): void {
    const next = this.open.shift();
    if (!next) throw new Error('no uuid read is open');
    next();
  }
}

async function settled(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  return (await Promise.race([promise.then(() => true, () => true), new Promise((r) => setImmediate(() => r(marker)))])) !== marker;
}

describe('IndexIdentity', () => {
  let cluster: FakeCluster;
  let identity: IndexIdentity;
  const never = new AbortController().signal;

  beforeEach(() => {
    cluster = new FakeCluster();
    identity = new IndexIdentity(cluster as unknown as ClusterClient, 'orders', 'leader', 'uuid-1');
  });
  afterEach(() => identity.close());

  it('confirms the index while its uuid is the one the follow started with', async () => {
    const confirmed = identity.confirm(never);
    cluster.answer();
    await confirmed;
    expect(cluster.reads).to.equal(1);
  });

  it('refuses, naming both uuids, an index deleted and created again under the same name', async () => {
    cluster.uuid = 'uuid-2';
    const confirmed = identity.confirm(never).then(() => undefined, (e: unknown) => e);
    cluster.answer();
    const err = await confirmed;
    expect(err).to.be.instanceOf(IndexReplacedError);
    expect(err).to.include({ index: 'orders', expectedUuid: 'uuid-1', foundUuid: 'uuid-2', type: 'index_not_found_exception' });
    expect(kindOf(err)).to.equal('index_replaced');
    expect((err as Error).message).to.include('[orders] was deleted and created again').and.include('uuid-1 → uuid-2');
    expect(() => identity.check('uuid-2')).to.throw(/uuid-1 → uuid-2/);
    expect(() => identity.check('uuid-1')).to.not.throw();
  });

  it('makes callers that arrive during a read wait for the next one, which serves them all', async () => {
    const first = identity.confirm(never);
    const second = identity.confirm(never);
    const third = identity.confirm(never);
    expect(cluster.reads).to.equal(1);
    cluster.answer();
    await first;
    // The read in flight may have started before their own reads ended: it cannot vouch for them.
    expect(await settled(second)).to.equal(false);
    expect(cluster.reads).to.equal(2);
    cluster.answer();
    await Promise.all([second, third]);
    expect(cluster.reads).to.equal(2);
  });

  it('lets a caller leave on its own abort without failing the others', async () => {
    const leaving = new AbortController();
    const aborted = identity.confirm(leaving.signal).then(() => undefined, (e: Error) => e);
    const staying = identity.confirm(never);
    leaving.abort();
    expect((await aborted)?.name).to.equal('AbortError');
    cluster.answer();
    expect(await settled(staying), 'it waits for a read started after it came').to.equal(false);
    expect(cluster.reads).to.equal(2);
    cluster.answer();
    await staying;
  });
});
