/** The control server's monitoring routes, on fake sources: content negotiation at `/` and `/metrics`. */
import { expect } from 'chai';
import type { AutoFollowCoordinator } from '../../../src/autofollow/auto-follow-coordinator.js';
import { buildControlServer } from '../../../src/daemon/control-server.js';
import type { FollowManager } from '../../../src/follow/follow-manager.js';
import { silentLogger } from '../../../src/util/logger.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';

describe('control server monitoring routes', () => {
  const manager = { stats: () => [] } as unknown as FollowManager;
  const autoFollow = {
    stats: () => ({ number_of_failed_follow_indices: 0, number_of_failed_remote_cluster_state_requests: 0, number_of_successful_follow_indices: 3, recent_auto_follow_errors: [], auto_followed_clusters: [] }),
  } as unknown as AutoFollowCoordinator;
  const app = buildControlServer({ manager, autoFollow, logger: silentLogger, version: '9.9.9' });
  after(() => app.close());

  it('answers JSON at / to API clients and the status page to browsers', async () => {
    for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html']) {
      const res = await app.inject({ method: 'GET', url: '/', headers: accept === undefined ? {} : { accept } });
      expect(res.json(), String(accept)).to.include({ name: 'ccr-follow', version: '9.9.9' });
    }
    const page = await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(page.headers['content-type']).to.match(/^text\/html/);
    expect(page.body).to.include('/_ccr/stats').and.to.include('/_ccr/auto_follow').and.to.include('<svg');
  });

  it('serves Prometheus text at /metrics', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).to.equal(200);
    expect(res.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
    expect(sampleValue(parsePrometheusText(res.body), 'ccr_follow_auto_follow_successful_follow_indices_total')).to.equal(3);
  });
});
