/** `GET /_status/history` answers the follower history as JSON, behind the control token like the rest of the API. */
import { expect } from 'chai';
import type { AutoFollowCoordinator } from '../../../src/autofollow/auto-follow-coordinator.js';
import { buildControlServer } from '../../../src/daemon/control-server.js';
import { FollowerHistory } from '../../../src/daemon/follower-history.js';
import type { FollowManager } from '../../../src/follow/follow-manager.js';
import { silentLogger } from '../../../src/util/logger.js';

describe('history route', () => {
  const history = new FollowerHistory({ stats: () => [], intervalMs: 5000, capacity: 720 });
  history.sample();
  const app = buildControlServer({
    manager: { stats: () => [] } as unknown as FollowManager, autoFollow: {} as AutoFollowCoordinator,
    logger: silentLogger, version: '9.9.9', token: 'secret-token', history,
  });
  after(() => app.close());

  it('answers the history with the token and refuses it without', async () => {
    const ok = await app.inject({ method: 'GET', url: '/_status/history', headers: { authorization: 'Bearer secret-token' } });
    expect(ok.statusCode).to.equal(200);
    expect(ok.json()).to.deep.equal({ interval_millis: 5000, capacity: 720, followers: [] });
    const refused = await app.inject({ method: 'GET', url: '/_status/history' });
    expect(refused.statusCode).to.equal(401);
  });
});
