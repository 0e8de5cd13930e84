/**
 * The status page at `/` of the control address, opened in headless Chromium (Debian's `chromium`,
 * driven by playwright-core), shows each follower with its lag and picks up a new follower without
 * a reload. Saves a screenshot under test-output/ (and, with CCR_UPDATE_DOCS=1,
 * docs/status-page.png for the README).
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from '../helpers/cli-process.js';
import { uniqueName } from '../helpers/clusters.js';
import { FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import { createLeaderIndex, RandomWorkload, waitForCaughtUp } from '../helpers/replication.js';

const CHROMIUM = '/usr/bin/chromium';

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

    async function follow(seed: number): Promise<string> {
      const leaderIndex = uniqueName('leader');
      const followerIndex = uniqueName('follower');
      pair.track('leader', leaderIndex);
      pair.track('follower', followerIndex);
      await createLeaderIndex(pair.leader, leaderIndex, { shards: 2 });
      await new RandomWorkload(pair.leader, leaderIndex, { seed, ids: 500 }).run(3);
      await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
      await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
      return followerIndex;
    }

    it('shows each follower with its lag, and a new follower without a reload', async () => {
      const first = await follow(301);
      const page = await browser!.newPage({ viewport: { width: 1280, height: 600 } });
      await page.goto(`${pair.daemon.url}/`);
      const row = (name: string): ReturnType<typeof page.locator> => page.locator(`tr[data-follower="follower/${name}"]`);
      await row(first).waitFor({ timeout: 30_000 });
      expect(await row(first).locator('td.lag-ops').textContent()).to.equal('0');
      expect(await row(first).locator('td.lag-time').textContent()).to.equal('0 ms');
      expect(await row(first).locator('td').nth(2).textContent()).to.equal('active');

      const second = await follow(302);
      // The page polls every 2 s: the new follower appears without a reload.
      await row(second).waitFor({ timeout: 30_000 });
      await pair.daemon.manager.pause(`follower/${second}`);
      await page.waitForFunction((name) => document.querySelector(`tr[data-follower="follower/${name}"] td:nth-child(3)`)?.textContent === 'paused', second, { timeout: 30_000 });
      await mkdir(join(REPO_ROOT, 'test-output'), { recursive: true });
      await page.screenshot({ path: join(REPO_ROOT, 'test-output', 'status-page.png'), fullPage: true });
      // The README's picture is refreshed only on request, so a test run leaves the tree clean.
      if (process.env['CCR_UPDATE_DOCS'] === '1') await page.screenshot({ path: join(REPO_ROOT, 'docs', 'status-page.png'), fullPage: true });
      await page.close();
    });
  });
});
