import { expect } from 'chai';
import { ClusterResponseError } from '../../../src/cluster/errors.js';
import type { BulkItemResult } from '../../../src/cluster/types.js';
import { WriteBudget, WriteBudgets } from '../../../src/follow/write-budget.js';

interface Pending { readonly resolve: (r: BulkItemResult[]) => void; readonly reject: (e: unknown) => void }

/** Bulk requests that end when the test says so. */
class HeldBulks {
  readonly pending: Pending[] = [];
  inFlight = 0;
  maxInFlight = 0;

  bulk = (): Promise<BulkItemResult[]> => {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<BulkItemResult[]>((resolve, reject) => this.pending.push({ resolve, reject })).finally(() => {
      this.inFlight -= 1;
    });
  };
}

const applied = (n: number): BulkItemResult[] => Array.from({ length: n }, (_, i) => ({ outcome: 'applied', id: `d${i}` }));
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const tooMany = (): ClusterResponseError => new ClusterResponseError({
  alias: 'follower', operation: 'write document [d0]', statusCode: 429, esType: 'es_rejected_execution_exception', reason: 'rejected execution',
});

describe('WriteBudget', () => {
  const signal = new AbortController().signal;

  it('sends no more bulk requests at once than its limit; the rest wait their turn', async () => {
    const budget = new WriteBudget({ initial: 2 });
    const held = new HeldBulks();
    const runs = Array.from({ length: 5 }, () => budget.run(1000, held.bulk, signal));
    await tick();
    expect(held.inFlight).to.equal(2);
    expect(budget.stats()).to.include({ limit: 2, in_flight: 2, waiting: 3 });
    while (held.pending.length > 0 || held.inFlight > 0) {
      held.pending.shift()?.resolve(applied(1000));
      await tick();
    }
    await Promise.all(runs);
    expect(held.maxInFlight).to.be.at.most(3);
  });

  it('halves its limit when the follower answers an item with 429, and says why in its stats', async () => {
    let now = 0;
    const budget = new WriteBudget({ initial: 4, now: () => now });
    const held = new HeldBulks();
    const run = budget.run(1000, held.bulk, signal);
    await tick();
    now = 50;
    held.pending.shift()!.resolve([{ outcome: 'failed', id: 'd0', error: tooMany() }]);
    await run;
    expect(budget.limit).to.equal(2);
    expect(budget.stats().last_change).to.deep.include({ from: 4, to: 2, reason: 'the follower answered 429 (too many requests)' });
  });

  it('learns from a whole request refused with 429, and passes the error on', async () => {
    const budget = new WriteBudget({ initial: 4 });
    const held = new HeldBulks();
    const run = budget.run(1000, held.bulk, signal);
    await tick();
    held.pending.shift()!.reject(tooMany());
    let error: unknown;
    await run.catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(ClusterResponseError);
    expect(budget.limit).to.equal(2);
  });

  it('lets a waiting request leave on its own abort', async () => {
    const budget = new WriteBudget({ initial: 1, min: 1 });
    const held = new HeldBulks();
    const first = budget.run(1000, held.bulk, signal);
    const abort = new AbortController();
    const second = budget.run(1000, held.bulk, abort.signal);
    await tick();
    abort.abort();
    let aborted = false;
    await second.catch(() => (aborted = true));
    expect(aborted).to.equal(true);
    held.pending.shift()!.resolve(applied(1000));
    await first;
    expect(held.pending).to.have.length(0);
  });
});

describe('WriteBudgets', () => {
  it('keeps one budget per follower cluster', () => {
    const budgets = new WriteBudgets();
    expect(budgets.of('a')).to.equal(budgets.of('a'));
    expect(budgets.of('a')).to.not.equal(budgets.of('b'));
    expect(budgets.stats('c')).to.equal(undefined);
  });
});
