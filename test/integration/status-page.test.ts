/**
 * The status page at `/` of the control address, opened in headless Chromium (Debian's `chromium`,
 * driven by playwright-core) against real nodes: each follower with its lag, a new follower without
 * a reload, the daemon's history drawn at once (a non-zero rate and a lag chart on a page just
 * opened), a pause from the page drawn as a band, the shard drill-down, and actions refused without
 * the control token. Saves a screenshot under test-output/ (and, with CCR_UPDATE_DOCS=1,
 * docs/status-page.png for the README).
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ClusterRegistry } from '../../src/cluster/cluster-registry.js';
import { defaultConfig } from '../../src/daemon/config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/util/logger.js';
import { REPO_ROOT } from '../helpers/cli-process.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import { createLeaderIndex, RandomWorkload, statsOf, waitForCaughtUp } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN_KEY = 'ccr-follow-control-token';

describe('the status page', function () {
  this.timeout(300_000);
  const flavors = FLAVOR_PAIRS[0]!;
  describe(pairTitle(flavors), () => {
    const pair = useFollowPair(flavors);
    let browser: Browser | undefined;

    before(async () => {
      if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    });

    after(async () => {
      await browser?.close();
    });

    /** A new 2-shard leader with documents, followed by `daemon` and caught up, with more written while it follows. */
    async function follow(seed: number, daemon: Daemon = pair.daemon): Promise<string> {
      const leaderIndex = uniqueName('leader');
      const followerIndex = uniqueName('follower');
      pair.track('leader', leaderIndex);
      pair.track('follower', followerIndex);
      await createLeaderIndex(pair.leader, leaderIndex, { shards: 2 });
      const workload = new RandomWorkload(pair.leader, leaderIndex, { seed, ids: 500 });
      await workload.run(3);
      await daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
      await workload.run(3);
      await waitForCaughtUp(daemon, pair.leader, leaderIndex, followerIndex);
      return followerIndex;
    }

    const row = (page: Page, name: string): ReturnType<Page['locator']> => page.locator(`tr[data-follower="follower/${name}"]`);
    /** Accepts the confirmation the page asks for before an action. */
    const confirmNextAction = (page: Page): void => {
      page.once('dialog', (dialog) => void dialog.accept());
    };

    it('shows each follower with its lag, and a new follower without a reload', async () => {
      const first = await follow(301);
      const page = await browser!.newPage({ viewport: { width: 1280, height: 600 } });
      await page.goto(`${pair.daemon.url}/`);
      await row(page, first).waitFor({ timeout: 30_000 });
      expect(await row(page, first).locator('td.lag-ops').textContent()).to.equal('0');
      expect(await row(page, first).locator('td.lag-time').textContent()).to.equal('0 ms');
      expect(await row(page, first).locator('td').nth(1).textContent()).to.equal('active');

      const second = await follow(302);
      // The page polls every 2 s: the new follower appears without a reload.
      await row(page, second).waitFor({ timeout: 30_000 });
      await page.close();
    });

    it('opened after writes, shows at once a non-zero rate and a lag chart from the daemon\'s history', async () => {
      const name = await follow(303);
      // The daemon (sampling every second in tests) has seen the writes before the page opens, and
      // holds two samples at least: a chart of one sample is a point, not a line.
      await waitFor(async () => {
        const res = await fetch(`${pair.daemon.url}/_status/history`);
        const body = await res.json() as { followers: { index: string; samples: { operations_written_per_second: number }[] }[] };
        const samples = body.followers.find((f) => f.index === name)?.samples ?? [];
        return samples.length >= 2 && samples.some((s) => s.operations_written_per_second > 0);
      }, { timeoutMs: 30_000, message: 'two history samples, one with writes' });
      const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${pair.daemon.url}/`);
      await row(page, name).waitFor({ timeout: 10_000 });
      // The first drawing, not a later poll: the rate comes from the daemon, not from the page's polls.
      expect(Number(await row(page, name).locator('td.rate').textContent())).to.be.greaterThan(0);
      const chart = page.locator(`figure[data-chart="follower/${name}"]`);
      expect(await chart.locator('svg.lag-chart path.line').getAttribute('d')).to.match(/^M[\d.]+,[\d.]+L/);
      expect(await chart.locator('svg.lag-chart').getAttribute('aria-label')).to.match(/^lag in seconds, .* to .*: now [\d.]+ s/);
      expect(await page.locator('#daemon-charts svg.rate-chart path.line').count()).to.equal(1);
      await page.close();
    });

    it('pauses a follower from the page, which the stats agree with, and draws the pause as a band', async () => {
      const name = await follow(304);
      const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${pair.daemon.url}/`);
      await row(page, name).waitFor({ timeout: 10_000 });
      confirmNextAction(page);
      await row(page, name).locator('button[data-action="pause_follow"]').click();
      // The page shows the API's answer once it has it; by then the follower is paused.
      await page.waitForFunction(() => (document.querySelector('#answer')?.textContent ?? '') !== '', undefined, { timeout: 30_000 });
      expect(statsOf(pair.daemon, name).status).to.equal('paused');
      expect(await page.locator('#answer').textContent()).to.match(/^done: POST \/follower\/.*\/_ccr\/pause_follow → HTTP 200 \{"acknowledged":true\}/);
      await page.waitForFunction((n) => document.querySelector(`tr[data-follower="follower/${n}"] td:nth-child(3)`)?.textContent === 'paused', name, { timeout: 30_000 });
      const band = page.locator(`figure[data-chart="follower/${name}"] svg.lag-chart rect.band[data-status="paused"]`);
      await band.waitFor({ timeout: 30_000 });
      expect(await band.locator('title').textContent()).to.match(/^paused from .* to .*: paused by a user$/);
      await mkdir(join(REPO_ROOT, 'test-output'), { recursive: true });
      await page.screenshot({ path: join(REPO_ROOT, 'test-output', 'status-page.png'), fullPage: true });
      // The README's picture is refreshed only on request, so a test run leaves the tree clean.
      if (process.env['CCR_UPDATE_DOCS'] === '1') await page.screenshot({ path: join(REPO_ROOT, 'docs', 'status-page.png'), fullPage: true });
      await page.close();
    });

    it('opens a follower, by keyboard, into every shard with its checkpoint, on a narrow screen', async () => {
      const name = await follow(305);
      const page = await browser!.newPage({ viewport: { width: 375, height: 800 } });
      await page.goto(`${pair.daemon.url}/`);
      const toggle = row(page, name).locator('button[data-toggle]');
      await toggle.waitFor({ timeout: 10_000 });
      await toggle.focus();
      await page.keyboard.press('Enter');
      const shardRows = page.locator(`tr.detail[id="detail-follower/${name}"] table.shards tbody tr`);
      await shardRows.first().waitFor({ timeout: 10_000 });
      expect(await row(page, name).locator('button[data-toggle]').getAttribute('aria-expanded')).to.equal('true');
      const expected = statsOf(pair.daemon, name).shards.map((s) => [String(s.shard_id), String(s.follower_global_checkpoint)]);
      expect(expected).to.have.length(2);
      const shown = await shardRows.evaluateAll((rows) => rows.map((r) => [r.querySelector('th')!.textContent, r.querySelector('td.checkpoint')!.textContent]));
      expect(shown).to.deep.equal(expected);
      expect(await page.locator(`tr.detail[id="detail-follower/${name}"] dl.params`).textContent()).to.include('max_read_request_operation_count');
      // Wide tables scroll inside their own box: the page itself does not get wider than the screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(375);
      await page.close();
    });

    it('shows each cluster-metadata pattern, with what the follower refused and why', async () => {
      const p = uniqueName('sp');
      // The follower's own template claims the same index names at the same priority: it refuses the leader's.
      await pair.follower.putMetadataItem({ kind: 'index_template', name: `${p}-own`, body: { index_patterns: [`${p}-x*`], priority: 100 } });
      await pair.leader.putMetadataItem({ kind: 'index_template', name: `${p}-logs`, body: { index_patterns: [`${p}-x*`], priority: 100 } });
      await pair.daemon.metadata.put(`${p}-dr`, { remote_cluster: 'leader', index_templates: [`${p}-logs`] });
      await pair.daemon.metadata.runRounds();
      const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${pair.daemon.url}/`);
      const patternRow = page.locator(`tr[data-metadata-pattern="${p}-dr"]`);
      await patternRow.waitFor({ timeout: 10_000 });
      expect(await patternRow.locator('td').nth(1).textContent()).to.equal('leader → follower');
      expect(await patternRow.locator('td.err').textContent()).to.match(new RegExp(`^index template ${p}-logs: the follower cluster refused it: illegal_argument_exception: .*same priority`));
      await page.close();
      await pair.daemon.metadata.delete(`${p}-dr`);
      await pair.leader.deleteMetadataItem('index_template', `${p}-logs`);
      await pair.follower.deleteMetadataItem('index_template', `${p}-own`);
    });

    it('refuses actions without the control token and says why', async () => {
      const token = 'status-page-token-0123456789abcdef';
      const stateDir = await mkdtemp(join(tmpdir(), 'ccr-follow-state-'));
      const nodes = (await testClusters()).pair(flavors[0], flavors[1]);
      const clusters = new Map([['leader', nodes.leader.clusterConfig('leader')], ['follower', nodes.follower.clusterConfig('follower')]]);
      const config = { ...defaultConfig(stateDir), clusters, stateDir, control: { host: '127.0.0.1', port: 0, token } };
      const daemon = await Daemon.start({ config, logger: silentLogger, clusters: new ClusterRegistry(clusters), checkpointIntervalMs: 200, historyIntervalMs: 1000 });
      try {
        const name = await follow(306, daemon);
        const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
        await page.goto(`${daemon.url}/#token=${token}`);
        await row(page, name).waitFor({ timeout: 10_000 });
        expect(page.url()).to.not.include(token);
        // The tab forgets the token: the next action goes without one.
        await page.evaluate((key) => sessionStorage.removeItem(key), TOKEN_KEY);
        confirmNextAction(page);
        await row(page, name).locator('button[data-action="pause_follow"]').click();
        await page.waitForFunction(() => document.querySelector('#answer')?.classList.contains('refused'), undefined, { timeout: 10_000 });
        expect(await page.locator('#answer').textContent()).to.match(/^refused: pause_follow of follower\/.* needs the control token, and this tab holds none\. Enter it above\. \(HTTP 401: /);
        expect(await page.locator('#login').isVisible()).to.equal(true);
        expect(statsOf(daemon, name).status).to.equal('active');
        expect(await page.content()).to.not.include(token);

        // Given once in the form, the token serves the next action.
        await page.locator('#token').fill(token);
        await page.locator('#login button[type="submit"]').click();
        await page.locator('#login').waitFor({ state: 'hidden', timeout: 10_000 });
        confirmNextAction(page);
        await row(page, name).locator('button[data-action="pause_follow"]').click();
        await waitFor(() => statsOf(daemon, name).status === 'paused', { timeoutMs: 30_000, message: 'the follower to be paused with the token' });
        await page.close();
      } finally {
        await daemon.stop();
      }
    });
  });
});
