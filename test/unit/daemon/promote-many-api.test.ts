/**
 * `POST /_ccr/promote`'s door checks: a malformed body is refused with a 400 naming the field and
 * never reaches the promotion; a well-formed one arrives parsed. The promotion itself is
 * test/unit/follow/promote-many.test.ts and test/integration/promote-all.test.ts.
 */
import { expect } from 'chai';
import { buildControlServer } from '../../../src/daemon/control-server.js';
import type { PromoteManyAnswer, PromoteManyRequest } from '../../../src/follow/promote-many.js';
import { silentLogger } from '../../../src/util/logger.js';

describe('POST /_ccr/promote', () => {
  const received: PromoteManyRequest[] = [];
  const answer: PromoteManyAnswer = {
    dryRun: true, startedAt: '2026-12-07T00:00:00.000Z', pausedAutoFollowPatterns: [], patternFailures: [], indices: [], dataStreams: [], succeeded: true,
  };
  // Only the promotion is reached by these requests; the manager and auto-follow are never called.
  const app = buildControlServer({
    manager: {} as never, autoFollow: {} as never, logger: silentLogger, version: '9.9.9',
    promoteMany: async (req) => {
      received.push(req);
      return answer;
    },
  });
  after(() => app.close());
  beforeEach(() => {
    received.length = 0;
  });

  for (const [body, reason] of [
    [{ all: 'yes' }, /\[all\] must be true or false/],
    [{ match: 7 }, /\[match\] must be a non-empty glob/],
    [{ match: '' }, /\[match\] must be a non-empty glob/],
    [{ all: true, leader: 'no such alias!' }, /invalid leader cluster alias/],
    [{ all: true, dry_run: 1 }, /\[dry_run\] must be true or false/],
    [{ all: true, concurrency: '8' }, /\[concurrency\] must be a number/],
    [{ all: true, force: true }, /unknown parameter \[force\]/],
    [[], /must be a JSON object/],
    [{ followers: [] }, /\[followers\] must be a non-empty list/],
    [{ followers: ['orders'] }, /as cluster\/index/],
    [{ followers: ['follower/a/b'] }, /as cluster\/index/],
    [{ followers: ['follower/UPPER'] }, /follower/],
  ] as const) {
    it(`refuses ${JSON.stringify(body)} with a 400 and does nothing`, async () => {
      const res = await app.inject({ method: 'POST', url: '/_ccr/promote', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
      expect(res.statusCode, res.body).to.equal(400);
      expect(res.json<{ error: { reason: string } }>().error.reason).to.match(reason);
      expect(received).to.deep.equal([]);
    });
  }

  it('passes a well-formed request on, parsed', async () => {
    const res = await app.inject({
      method: 'POST', url: '/_ccr/promote', headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ match: 'logs-*', leader: 'leader', dry_run: true, concurrency: 4 }),
    });
    expect(res.statusCode, res.body).to.equal(200);
    expect(res.json()).to.deep.equal(answer);
    expect(received).to.deep.equal([{ match: 'logs-*', leader: 'leader', dryRun: true, concurrency: 4 }]);
  });

  it('passes the followers a daemon of the fleet names on, parsed', async () => {
    const res = await app.inject({
      method: 'POST', url: '/_ccr/promote', headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ followers: ['follower/logs-a', 'follower/orders'] }),
    });
    expect(res.statusCode, res.body).to.equal(200);
    expect(received).to.deep.equal([{ followers: ['follower/logs-a', 'follower/orders'] }]);
  });
});
