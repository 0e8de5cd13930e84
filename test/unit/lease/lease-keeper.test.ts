// Two lease keepers over one in-memory state index (the document port only: the conditional
// writes as the cluster makes them), with a short timeout: sharing, hand-over on stop, a member
// cut off from the state losing its leases before the other takes them.
import { expect } from 'chai';
import type { DocVersion, StateDocument, StateDocuments, WriteCondition } from '../../../src/state/cluster-state-store.js';
import { LeaseKeeper, type LeaseWork } from '../../../src/lease/lease-keeper.js';
import type { Logger } from '../../../src/util/logger.js';
import { waitFor } from '../../helpers/wait-for.js';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent } as unknown as Logger;

class MemoryDocuments {
  readonly docs = new Map<string, StateDocument>();
  #seqNo = 0;
  /** Ids of callers cut off from the state: their calls fail as an unreachable cluster's would. */
  readonly cut = new Set<string>();

  port(who: string): StateDocuments {
    const check = (): void => {
      if (this.cut.has(who)) throw new Error('connect ECONNREFUSED');
    };
    return {
      location: 'memory/state',
      get: async (id) => (check(), this.docs.get(id)),
      list: async (kind) => (check(), [...this.docs.values()].filter((d) => (d.source as { kind?: string }).kind === kind)),
      put: async (id, source, condition: WriteCondition): Promise<DocVersion | 'conflict'> => {
        check();
        const current = this.docs.get(id);
        if ('absent' in condition ? current !== undefined : current?.seqNo !== condition.version.seqNo) return 'conflict';
        this.#seqNo += 1;
        this.docs.set(id, { id, source, seqNo: this.#seqNo, primaryTerm: 1 });
        return { seqNo: this.#seqNo, primaryTerm: 1 };
      },
      delete: async (id) => {
        check();
        this.docs.delete(id);
      },
    };
  }

  addResource(id: string): void {
    this.#seqNo += 1;
    this.docs.set(id, { id, source: { kind: id.split(':')[0], key: id }, seqNo: this.#seqNo, primaryTerm: 1 });
  }
}

/** What runs where, and whether two members ever ran one resource at once. */
class Running {
  readonly where = new Map<string, string>();
  overlaps = 0;

  work(member: string): LeaseWork {
    return {
      start: async (r) => {
        if (this.where.has(r)) this.overlaps += 1;
        this.where.set(r, member);
      },
      stop: async (r) => {
        if (this.where.get(r) === member) this.where.delete(r);
      },
    };
  }

  count(member: string): number {
    return [...this.where.values()].filter((m) => m === member).length;
  }
}

const TIMEOUT = 600;

function keeper(store: MemoryDocuments, running: Running, id: string): LeaseKeeper {
  return new LeaseKeeper({
    docs: store.port(id), member: { id, host: 'test', pid: 1, version: 'test', started: new Date().toISOString() },
    timeoutMs: TIMEOUT, work: running.work(id), logger: silent,
  });
}

describe('LeaseKeeper', () => {
  const keepers: LeaseKeeper[] = [];
  afterEach(async () => {
    await Promise.allSettled(keepers.splice(0).map((k) => k.stop()));
  });

  it('runs everything alone, shares with a member that joins, and hands all over when stopped', async () => {
    const store = new MemoryDocuments();
    for (const i of [1, 2, 3, 4]) store.addResource(`follower:f/${i}`);
    const running = new Running();
    const a = keeper(store, running, 'a');
    keepers.push(a);
    await a.start('http://a');
    await waitFor(() => running.count('a') === 4, { timeoutMs: 3_000, message: 'a to run all four' });
    const b = keeper(store, running, 'b');
    keepers.push(b);
    await b.start('http://b');
    await waitFor(() => running.count('a') === 2 && running.count('b') === 2, { timeoutMs: 5_000, message: () => `a share each: ${JSON.stringify([...running.where])}` });
    expect(b.ownerOf(a.held()[0]!)?.control).to.equal('http://a');
    await b.stop();
    expect(running.count('b')).to.equal(0);
    // Released, not expired: taken at a's next scan, well within one timeout.
    const since = Date.now();
    await waitFor(() => running.count('a') === 4, { timeoutMs: 3_000, message: 'a to take b\'s leases back' });
    expect(Date.now() - since).to.be.below(TIMEOUT);
    expect(running.overlaps).to.equal(0);
  });

  it('stops the work of a member cut off from the state before the other takes it, and does not take back what it lost', async () => {
    const store = new MemoryDocuments();
    for (const i of [1, 2]) store.addResource(`follower:f/${i}`);
    const running = new Running();
    const a = keeper(store, running, 'a');
    const b = keeper(store, running, 'b');
    keepers.push(a, b);
    await a.start('http://a');
    await waitFor(() => running.count('a') === 2, { timeoutMs: 3_000, message: 'a to run both' });
    await b.start('http://b');
    await waitFor(() => running.count('a') === 1 && running.count('b') === 1, { timeoutMs: 5_000, message: 'one each' });
    store.cut.add('a');
    const cutAt = Date.now();
    await waitFor(() => running.count('a') === 0, { timeoutMs: 3_000, message: 'a to stop what it cannot renew' });
    const stoppedAfter = Date.now() - cutAt;
    expect(stoppedAfter).to.be.below(TIMEOUT);
    await waitFor(() => running.count('b') === 2, { timeoutMs: 5_000, message: 'b to take a\'s expired lease' });
    expect(running.overlaps, 'b started it while a still ran it').to.equal(0);
    store.cut.delete('a');
    // a comes back: it sees b holding both (live) and takes its share over time only by hand-over.
    await waitFor(() => running.count('a') === 1 && running.count('b') === 1, { timeoutMs: 6_000, message: 'the two to share again' });
    expect(running.overlaps).to.equal(0);
  });
});
