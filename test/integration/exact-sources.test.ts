/**
 * Documents whose `_source` JSON.parse would change — integers past 2^53 up to ±2^63, a 30-digit
 * integer, exponents past a double's range, escaped strings — stay exact on every path that moves
 * or compares a source: the foreign-write repair puts back the leader's exact text, the delete
 * reconciliation leaves the rest untouched, and `verify` (full and `--sample`) reports a follower
 * document changed only in the last digit of a long.
 */
import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import { LosslessNumber } from '../../src/cluster/raw-json.js';
import { runCli } from '../helpers/cli-process.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import { createLeaderIndex, statsOf, sumOf, waitForCaughtUp } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

/** Sources as written to the leader, spelled the way JSON.parse + JSON.stringify would not keep them. */
const LONG_SOURCES: Readonly<Record<string, string>> = {
  'long-0': '{"tag":"x","n53":9007199254740993,"max":9223372036854775807,"min":-9223372036854775808}',
  'long-1': '{"tag":"y","n53":9007199254740995,"big":123456789012345678901234567890,"exp":1e400,"tiny":-2.50E-400}',
  'long-2': '{"tag":"z","n53":9007199254740993,"text":"quote \\" backslash \\\\ tab \\t \\u00e9 \\ud83d\\ude00 sep\\u2028end"}',
  'long-3': '{"tag":"w","max":9223372036854775807,"price":1.50,"exp":1E+3}',
};
const ROUTING = 'r1';
const PLAIN_DOCS = 20;

/**
 * Only the tag and the three longs are mapped: the rest is kept in `_source` as written, never
 * indexed. The `_meta` holds a number a double would change, as the alias filter added later does.
 */
const MAPPINGS = {
  dynamic: false,
  _meta: { owner_id: new LosslessNumber('9007199254740993') },
  properties: { tag: { type: 'keyword' }, n53: { type: 'long' }, max: { type: 'long' }, min: { type: 'long' } },
};

async function bulkRaw(client: ClusterClient, index: string, lines: readonly string[]): Promise<void> {
  const res = await client.raw<{ errors: boolean; items: unknown[] }>('test bulk', {
    method: 'POST', path: `/${index}/_bulk`, query: { refresh: 'true', filter_path: 'errors,items.*.error' }, ndjson: `${lines.join('\n')}\n`,
  });
  expect(res.body.errors, JSON.stringify(res.body)).to.equal(false);
}

/** The stored `_source` text of one document (the last member of a GET answer), or undefined when absent. */
async function storedSource(url: string, index: string, id: string, routing: string | undefined): Promise<string | undefined> {
  const res = await fetch(`${url}/${index}/_doc/${id}${routing === undefined ? '' : `?routing=${routing}`}`);
  const text = await res.text();
  if (res.status === 404) return undefined;
  expect(res.status, text).to.equal(200);
  return text.slice(text.indexOf('"_source":') + '"_source":'.length, -1);
}

describe('sources that JSON.parse would change stay exact', function () {
  this.timeout(240_000);

  for (const flavors of [['elasticsearch', 'elasticsearch'], ['elasticsearch', 'opensearch']] as const) {
    describe(pairTitle(flavors), () => {
      const pair = useFollowPair(flavors);
      let urls: { leader: string; follower: string };
      let configFile: string;

      before(async () => {
        const clusters = (await testClusters()).pair(flavors[0], flavors[1]);
        urls = { leader: clusters.leader.url, follower: clusters.follower.url };
        const dir = await mkdtemp(join(tmpdir(), 'ccr-follow-exact-'));
        configFile = join(dir, 'ccr-follow.yml');
        await writeFile(configFile, `clusters:\n  leader:\n    url: ${urls.leader}\n  follower:\n    url: ${urls.follower}\n`);
      });

      it('repairs a foreign write to the leader\'s exact text, reconciles deletes, and verify sees a last-digit change', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(pair.leader, leaderIndex, { mappings: MAPPINGS });
        pair.track('leader', leaderIndex);
        pair.track('follower', followerIndex);
        await bulkRaw(pair.leader, leaderIndex, [
          ...Object.entries(LONG_SOURCES).flatMap(([id, source]) => [`{"index":{"_id":"${id}","routing":"${ROUTING}"}}`, source]),
          ...Array.from({ length: PLAIN_DOCS }, (_, n) => [`{"index":{"_id":"plain-${n}"}}`, `{"tag":"p","n53":${9007199254740993n + BigInt(n)}}`]).flat(),
        ]);
        for (const [id, source] of Object.entries(LONG_SOURCES)) {
          expect(await storedSource(urls.leader, leaderIndex, id, ROUTING), `the leader stores ${id} as written`).to.equal(source);
        }

        await pair.daemon.manager.follow({
          leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex,
          params: { reconcile_interval: '300ms', repair_foreign_writes: true },
        });
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        await expectFollowerTextEqualsLeader(leaderIndex, followerIndex, []);

        // Metadata with 64-bit numbers: the mapping's _meta (copied at creation) and an alias filter (synced later).
        const followerMapping = await (await fetch(`${urls.follower}/${followerIndex}/_mapping`)).text();
        expect(followerMapping).to.contain('"_meta":{"owner_id":9007199254740993}');
        const alias = `${leaderIndex}-owner`;
        await pair.leader.updateAliases([{ add: { index: leaderIndex, alias, filter: { term: { n53: new LosslessNumber('9007199254740993') } } } }]);
        let aliasText = '';
        await waitFor(async () => {
          aliasText = await (await fetch(`${urls.follower}/${followerIndex}/_alias`)).text();
          return aliasText.includes(alias) || undefined;
        }, { timeoutMs: 30_000, intervalMs: 200, message: () => `the alias to reach the follower (${aliasText})` });
        expect(aliasText).to.contain('9007199254740993');
        // The alias selects the same documents on both sides: long-0, long-2 and plain-0.
        const countThrough = async (url: string): Promise<number> => ((await (await fetch(`${url}/${alias}/_count`)).json()) as { count: number }).count;
        expect(await countThrough(urls.leader)).to.equal(3);
        expect(await countThrough(urls.follower)).to.equal(3);

        // (a) Someone overwrites long-0 on the follower, changing only what a double cannot tell apart.
        await bulkRaw(pair.follower, followerIndex, [
          `{"index":{"_id":"long-0","routing":"${ROUTING}"}}`, '{"tag":"x","n53":9007199254740992,"max":9223372036854775807,"min":-9223372036854775808}',
        ]);
        await waitFor(() => sumOf(statsOf(pair.daemon, followerIndex).shards, (s) => s.foreign_writes_repaired) >= 1 || undefined, {
          timeoutMs: 60_000, intervalMs: 200, message: 'the foreign write to be repaired',
        });
        let repairedText: string | undefined;
        await waitFor(async () => {
          repairedText = await storedSource(urls.follower, followerIndex, 'long-0', ROUTING);
          return repairedText === LONG_SOURCES['long-0'] || undefined;
        }, { timeoutMs: 30_000, intervalMs: 200, message: () => `long-0 on the follower to hold the leader's text again (it holds ${repairedText})` });

        // (c) Deletes on the leader reach the follower through reconciliation; the other sources stay exact.
        await bulkRaw(pair.leader, leaderIndex, [`{"delete":{"_id":"long-1","routing":"${ROUTING}"}}`, '{"delete":{"_id":"plain-3"}}']);
        await waitFor(async () => (await storedSource(urls.follower, followerIndex, 'long-1', ROUTING)) === undefined
          && (await storedSource(urls.follower, followerIndex, 'plain-3', undefined)) === undefined || undefined, {
          timeoutMs: 60_000, intervalMs: 300, message: 'the deletes to reach the follower',
        });
        await expectFollowerTextEqualsLeader(leaderIndex, followerIndex, ['long-1', 'plain-3']);

        const verify = (...extra: string[]) => runCli(['--config', configFile, 'verify', `leader/${leaderIndex}`, `follower/${followerIndex}`, ...extra]);
        await pair.daemon.manager.pause(`follower/${followerIndex}`);
        const same = await verify();
        expect(same.code, `${same.stdout}\n${same.stderr}`).to.equal(0);
        expect(same.stdout).to.contain('IDENTICAL');

        // (b) With the follow paused (nothing repairs it), long-2 loses one in its last digit on the follower.
        await bulkRaw(pair.follower, followerIndex, [
          `{"index":{"_id":"long-2","routing":"${ROUTING}"}}`, LONG_SOURCES['long-2']!.replace('9007199254740993', '9007199254740992'),
        ]);
        const full = await verify();
        expect(full.code, `${full.stdout}\n${full.stderr}`).to.equal(1);
        expect(full.stdout).to.contain('DIFFERENT');
        expect(full.stdout).to.match(/different _source or routing: long-2\b/);
        const sampled = await verify('--sample', '1000');
        expect(sampled.code, `${sampled.stdout}\n${sampled.stderr}`).to.equal(1);
        expect(sampled.stdout).to.match(/different _source or routing: long-2\b/);
      });

      /** Compares the stored text of every document not in `deleted` byte for byte, not through any parse. */
      async function expectFollowerTextEqualsLeader(leaderIndex: string, followerIndex: string, deleted: readonly string[]): Promise<void> {
        const docs: [string, string | undefined][] = [
          ...Object.keys(LONG_SOURCES).map((id): [string, string] => [id, ROUTING]),
          ...Array.from({ length: PLAIN_DOCS }, (_, n): [string, undefined] => [`plain-${n}`, undefined]),
        ];
        for (const [id, routing] of docs.filter(([id]) => !deleted.includes(id))) {
          const onLeader = await storedSource(urls.leader, leaderIndex, id, routing);
          expect(onLeader, `${id} on the leader`).to.be.a('string');
          expect(await storedSource(urls.follower, followerIndex, id, routing), `${id} on the follower`).to.equal(onLeader);
        }
      }
    });
  }
});
