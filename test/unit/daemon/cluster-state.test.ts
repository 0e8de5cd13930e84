/**
 * The cluster state backend's writes through classify, with the state index's answers faked: a
 * real node cannot be made to answer exactly two 429s, or a 403, on demand (the integration tests
 * run the same store against real nodes, and block a real state index in
 * state-unwritable-resume.test.ts). What classify retries is retried by the one retry loop; what
 * stays refused, or is fatal, is a StateWriteError naming the state index and what to change.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../../src/cluster/cluster-client.js';
import { ClusterResponseError } from '../../../src/cluster/errors.js';
import { openClusterState } from '../../../src/daemon/cluster-state.js';
import { type FollowerRecord, StateWriteError } from '../../../src/state/state-store.js';
import { FakeSleep } from '../shard/fakes.js';

const RECORD: FollowerRecord = {
  leaderCluster: 'leader', leaderIndex: 'orders', followerCluster: 'follower', followerIndex: 'orders-copy',
  params: {}, status: 'active', createdAt: '2025-01-01T00:00:00.000Z',
};

const answer = (statusCode: number, esType: string, reason: string) => (): Error =>
  new ClusterResponseError({ alias: 'follower', operation: 'put state document', statusCode, esType, reason });

/** The few calls the state backend makes, answering each put with the next failure until there is none. */
function stateIndex(failures: Array<() => Error>): { client: ClusterClient; puts: string[] } {
  const puts: string[] = [];
  let seqNo = 0;
  const client = {
    alias: 'follower',
    createIndexIfAbsent: async () => undefined,
    getVersionedDocument: async () => undefined,
    searchVersionedDocuments: async () => [],
    putDocumentIf: async (_index: string, id: string) => {
      puts.push(id);
      const failure = failures.shift();
      if (failure) throw failure();
      return { seqNo: (seqNo += 1), primaryTerm: 1 };
    },
    deleteDocument: async () => undefined,
  };
  return { client: client as unknown as ClusterClient, puts };
}

describe('the cluster state backend\'s writes', () => {
  let sleep: FakeSleep;
  beforeEach(() => {
    sleep = new FakeSleep();
  });
  const open = (client: ClusterClient) => openClusterState(client, '.ccr-follow-state', undefined, { attempts: 4, maxDelayMs: 100, sleep: sleep.sleep });
  const failureOf = async (p: Promise<unknown>): Promise<StateWriteError> => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err, 'a StateWriteError').to.be.instanceOf(StateWriteError);
    return err as StateWriteError;
  };

  it('retries what classify retries (a 429, a relocating shard) with backoff, and lands the write', async () => {
    const { client, puts } = stateIndex([
      answer(429, 'es_rejected_execution_exception', 'rejected execution'),
      answer(404, 'index_shard_relocated_exception', 'CurrentState[RELOCATED]'),
    ]);
    const store = await open(client);
    await store.putFollower(RECORD);
    expect(puts).to.deep.equal(['follower:follower/orders-copy', 'follower:follower/orders-copy', 'follower:follower/orders-copy']);
    expect(sleep.calls).to.have.length(2);
  });

  it('fails at once on a missing privilege, naming the state index and the privileges to grant', async () => {
    const { client, puts } = stateIndex([answer(403, 'security_exception', 'action [indices:data/write/index] is unauthorized for user [ccr]')]);
    const store = await open(client);
    const err = await failureOf(store.putFollower(RECORD));
    expect(err.code).to.equal('security');
    expect(err.type).to.equal('state_write_exception');
    expect(err.message).to.match(/^cannot write to the state index follower\/\.ccr-follow-state: security \(.*is unauthorized/);
    expect(err.message).to.match(/grant the user of clusters\.follower\.auth the privileges create_index, read, write, view_index_metadata and maintenance on \[\.ccr-follow-state\]/);
    expect(puts, 'not retried').to.have.length(1);
  });

  it('fails at once on a mapping conflict, naming the mapping the state index must keep', async () => {
    const { client } = stateIndex([answer(400, 'mapper_parsing_exception', 'failed to parse field [kind]')]);
    const store = await open(client);
    const err = await failureOf(store.putFollower(RECORD));
    expect(err.code).to.equal('refused');
    expect(err.message).to.match(/\[\.ccr-follow-state\] refused the document: its mapping must stay as ccr-follow creates it/);
  });

  it('gives up on a block after its attempts, naming the setting to remove', async () => {
    const blocked = answer(403, 'cluster_block_exception', 'index [.ccr-follow-state] blocked by: [FORBIDDEN/8/index write (api)]');
    const { client, puts } = stateIndex([blocked, blocked, blocked, blocked, blocked]);
    const store = await open(client);
    const err = await failureOf(store.putFollower(RECORD));
    expect(puts).to.have.length(4);
    expect(err.code).to.equal('blocked');
    expect(err.message).to.match(/a block refuses writes to \[\.ccr-follow-state\] \(index\.blocks\.write/);
  });
});
