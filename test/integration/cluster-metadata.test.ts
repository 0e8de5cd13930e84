/**
 * Cluster metadata kept in step through the control API, on real nodes, for every flavor pair:
 * a component template, the index template composed of it and an ingest pipeline are created on
 * the follower; a change on the leader follows; a change on the follower is put back; a deletion
 * on the leader follows; the follower's own template outside the patterns is never touched. Across
 * flavors, a data stream option the other flavor lacks is reported, not guessed. Rounds are run at
 * once through the coordinator after the first, which the daemon's own polling runs. Then across
 * versions: an Elasticsearch 7.17 leader (a node this file starts) into the shared 8.19 follower.
 */
import { expect } from 'chai';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { ClusterConfig } from '../../src/cluster/cluster-config.js';
import { ClusterRegistry } from '../../src/cluster/cluster-registry.js';
import type { MetadataKind } from '../../src/cluster/metadata-items.js';
import { compareMetadata } from '../../src/cluster-metadata/compare-metadata.js';
import type { MetadataPatternView } from '../../src/cluster-metadata/metadata-coordinator.js';
import { parseMetadataPatternSpec } from '../../src/cluster-metadata/metadata-pattern.js';
import { defaultConfig } from '../../src/daemon/config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { ELASTICSEARCH_7, LocalNode } from '../../src/local-cluster/index.js';
import { silentLogger } from '../../src/util/logger.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import { waitFor } from '../helpers/wait-for.js';

describe('cluster metadata follows (templates, pipelines)', function () {
  this.timeout(300_000);

  for (const flavors of FLAVOR_PAIRS) {
    describe(pairTitle(flavors), () => {
      const pair = useFollowPair(flavors);
      const crossFlavor = flavors[0] !== flavors[1];

      async function call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
        const res = await fetch(`${pair.daemon.url}${path}`, {
          method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
          signal: AbortSignal.timeout(60_000),
        });
        return { status: res.status, body: await res.json() as T };
      }
      const items = async (client: ClusterClient, kind: MetadataKind, prefix: string): Promise<Record<string, unknown>> =>
        Object.fromEntries((await client.listMetadataItems(kind)).filter((i) => i.name.startsWith(prefix)).map((i) => [i.name, i.body]));
      const stats = async (name: string): Promise<MetadataPatternView['stats']> =>
        (await call<{ patterns: MetadataPatternView[] }>('GET', `/_ccr/cluster_metadata/${name}`)).body.patterns[0]!.stats;
      const put = (client: ClusterClient, kind: MetadataKind, name: string, body: Record<string, unknown>): Promise<void> => client.putMetadataItem({ kind, name, body });

      it('creates, changes, puts back and deletes what the patterns select, and nothing else', async () => {
        const p = uniqueName('cm');
        const name = `${p}-dr`;
        await put(pair.leader, 'component_template', `${p}-base`, { template: { settings: { index: { number_of_replicas: 0 } }, mappings: { properties: { msg: { type: 'text' } } } } });
        await put(pair.leader, 'index_template', `${p}-logs`, { index_patterns: [`${p}-logs-*`], composed_of: [`${p}-base`], priority: 100, template: { mappings: { properties: { level: { type: 'keyword' } } } } });
        await put(pair.leader, 'ingest_pipeline', `${p}-enrich`, { description: 'leader\'s', processors: [] });
        await put(pair.leader, 'index_template', `${p}-skip`, { index_patterns: [`${p}-skip-*`], priority: 100 });
        await put(pair.follower, 'index_template', `${p}-own`, { index_patterns: [`${p}-own-*`], priority: 100 });
        const own = await items(pair.follower, 'index_template', `${p}-own`);

        expect((await call('PUT', `/_ccr/cluster_metadata/${name}`, {
          remote_cluster: 'leader', index_templates: [`${p}-*`, `-${p}-skip`], component_templates: [`${p}-*`], ingest_pipelines: [`${p}-*`],
        })).body).to.deep.equal({ acknowledged: true });

        // The daemon's polling runs the first round.
        await waitFor(async () => (await stats(name)).rounds > 0, { timeoutMs: 60_000, message: 'a first cluster-metadata round' });
        expect(await stats(name)).to.deep.include({ items_followed: 3, items_created: 3, failed_rounds: 0 });
        const leaderTemplates = await items(pair.leader, 'index_template', `${p}-logs`);
        const followerTemplates = await items(pair.follower, 'index_template', `${p}-logs`);
        expect(followerTemplates[`${p}-logs`]).to.deep.include({ index_patterns: [`${p}-logs-*`], composed_of: [`${p}-base`], priority: 100 });
        if (!crossFlavor) expect(followerTemplates).to.deep.equal(leaderTemplates);
        expect(Object.keys(await items(pair.follower, 'component_template', p))).to.deep.equal([`${p}-base`]);
        expect(await items(pair.follower, 'ingest_pipeline', p)).to.deep.equal({ [`${p}-enrich`]: { description: 'leader\'s', processors: [] } });
        expect(await items(pair.follower, 'index_template', `${p}-skip`), 'an excluded name').to.deep.equal({});

        // A change on the leader follows.
        await put(pair.leader, 'index_template', `${p}-logs`, { index_patterns: [`${p}-logs-*`], composed_of: [`${p}-base`], priority: 150 });
        await pair.daemon.metadata.runRounds();
        expect((await items(pair.follower, 'index_template', `${p}-logs`))[`${p}-logs`]).to.deep.include({ priority: 150 });
        expect((await stats(name)).items_changed).to.equal(1);

        // A change on the follower is put back.
        await put(pair.follower, 'ingest_pipeline', `${p}-enrich`, { description: 'changed on the follower', processors: [] });
        await pair.daemon.metadata.runRounds();
        expect(await items(pair.follower, 'ingest_pipeline', p)).to.deep.equal({ [`${p}-enrich`]: { description: 'leader\'s', processors: [] } });
        expect((await stats(name)).items_put_back).to.equal(1);

        // A deletion on the leader follows, index template before its component template.
        await pair.leader.deleteMetadataItem('index_template', `${p}-logs`);
        await pair.leader.deleteMetadataItem('component_template', `${p}-base`);
        await pair.daemon.metadata.runRounds();
        expect(await items(pair.follower, 'index_template', `${p}-logs`)).to.deep.equal({});
        expect(await items(pair.follower, 'component_template', p)).to.deep.equal({});
        expect((await stats(name)).items_deleted).to.equal(2);
        expect(await items(pair.follower, 'index_template', `${p}-own`), 'the follower\'s own template').to.deep.equal(own);

        expect((await call('DELETE', `/_ccr/cluster_metadata/${name}`)).body).to.deep.equal({ acknowledged: true });
        expect((await call('GET', `/_ccr/cluster_metadata/${name}`)).status).to.equal(404);
        // What it put stays.
        expect(Object.keys(await items(pair.follower, 'ingest_pipeline', p))).to.deep.equal([`${p}-enrich`]);
        for (const [client, kind, item] of [
          [pair.leader, 'ingest_pipeline', `${p}-enrich`], [pair.follower, 'ingest_pipeline', `${p}-enrich`],
          [pair.leader, 'index_template', `${p}-skip`], [pair.follower, 'index_template', `${p}-own`],
        ] as const) await client.deleteMetadataItem(kind, item);
      });

      it('holds back the data stream flag while following, and reports what the follower cannot express', async () => {
        const p = uniqueName('cmds');
        const name = `${p}-dr`;
        await put(pair.leader, 'index_template', `${p}-stream`, { index_patterns: [`${p}-stream*`], data_stream: {}, priority: 100 });
        const hidden = flavors[0] === 'elasticsearch' ? { hidden: true } : { timestamp_field: { name: 'ts' } };
        await put(pair.leader, 'index_template', `${p}-odd`, { index_patterns: [`${p}-odd*`], data_stream: hidden, priority: 100 });
        await call('PUT', `/_ccr/cluster_metadata/${name}`, { remote_cluster: 'leader', index_templates: [`${p}-*`] });
        await pair.daemon.metadata.runRounds();

        const followed = await items(pair.follower, 'index_template', p);
        expect(followed[`${p}-stream`], 'the stream template').to.deep.include({ index_patterns: [`${p}-stream*`], priority: 100 });
        expect(followed[`${p}-stream`], 'without its data stream flag').to.not.have.property('data_stream');
        const view = await stats(name);
        const heldBack = crossFlavor ? [`${p}-stream`] : [`${p}-odd`, `${p}-stream`];
        expect(view.held_back.map((h) => [h.name, h.fields]).sort()).to.deep.equal(heldBack.map((n) => [n, ['data_stream']]));
        if (crossFlavor) {
          expect(view.not_expressible.map((u) => u.name)).to.deep.equal([`${p}-odd`]);
          expect(view.not_expressible[0]!.reason).to.match(/has no (OpenSearch|Elasticsearch) equivalent/);
          expect(followed).to.not.have.property(`${p}-odd`);
        } else {
          expect(view.not_expressible).to.deep.equal([]);
          expect(Object.keys(followed).sort()).to.deep.equal([`${p}-odd`, `${p}-stream`]);
        }

        // Promote: the pattern pauses, and the stream template gets its data stream flag back.
        const promoted = await call<{ restored: { name: string; result: string }[] }>('POST', `/_ccr/cluster_metadata/${name}/promote`);
        expect(promoted.body.restored.filter((r) => r.name === `${p}-stream`)).to.deep.equal([{ pattern: name, kind: 'index_template', name: `${p}-stream`, fields: ['data_stream'], result: 'restored' }]);
        expect((await items(pair.follower, 'index_template', `${p}-stream`))[`${p}-stream`]).to.have.property('data_stream');
        expect((await call<{ patterns: MetadataPatternView[] }>('GET', `/_ccr/cluster_metadata/${name}`)).body.patterns[0]!.pattern.active).to.equal(false);
        await call('DELETE', `/_ccr/cluster_metadata/${name}`);
        for (const item of [`${p}-stream`, `${p}-odd`]) {
          await pair.leader.deleteMetadataItem('index_template', item);
          await pair.follower.deleteMetadataItem('index_template', item);
        }
      });

      it('after promote, tomorrow\'s index on the promoted side gets the leader\'s mappings and pipeline', async () => {
        const p = uniqueName('cmp');
        const name = `${p}-dr`;
        await put(pair.leader, 'ingest_pipeline', `${p}-enrich`, { description: 'daily', processors: [] });
        await put(pair.leader, 'index_template', `${p}-daily`, {
          index_patterns: [`${p}-daily-*`], priority: 100,
          template: {
            settings: { index: { default_pipeline: `${p}-enrich`, number_of_shards: 2 } },
            mappings: { properties: { level: { type: 'keyword' } } },
          },
        });
        await call('PUT', `/_ccr/cluster_metadata/${name}`, { remote_cluster: 'leader', index_templates: [`${p}-*`], ingest_pipelines: [`${p}-*`] });
        await pair.daemon.metadata.runRounds();
        expect((await stats(name)).items_followed).to.equal(2);

        // Tomorrow's index, after the follower cluster took over.
        await call('POST', `/_ccr/cluster_metadata/${name}/promote`);
        const tomorrow = `${p}-daily-2026.12.08`;
        await pair.follower.raw('create tomorrow\'s index', { method: 'PUT', path: `/${tomorrow}` });
        const created = await pair.follower.raw<Record<string, { settings: { index: Record<string, unknown> }; mappings: { properties: Record<string, unknown> } }>>('read it', { method: 'GET', path: `/${tomorrow}` });
        const index = created.body[tomorrow]!;
        expect(index.settings.index).to.deep.include({ default_pipeline: `${p}-enrich`, number_of_shards: '2' });
        expect(index.mappings.properties).to.have.property('level');
        await pair.follower.deleteIndex(tomorrow);
        await call('DELETE', `/_ccr/cluster_metadata/${name}`);
        for (const client of [pair.leader, pair.follower]) {
          await client.deleteMetadataItem('index_template', `${p}-daily`);
          await client.deleteMetadataItem('ingest_pipeline', `${p}-enrich`);
        }
      });

      it('refuses a pattern with an unknown cluster, no kind, or a bad name, and changes nothing', async () => {
        const before = (await call('GET', '/_ccr/cluster_metadata')).body;
        for (const [path, body, reason] of [
          ['/_ccr/cluster_metadata/x1', { remote_cluster: 'nowhere', index_templates: ['a*'] }, /unknown cluster alias \[nowhere\]/],
          ['/_ccr/cluster_metadata/x2', { remote_cluster: 'leader' }, /needs at least one of/],
          ['/_ccr/cluster_metadata/_x', { remote_cluster: 'leader', index_templates: ['a*'] }, /invalid cluster-metadata pattern name/],
        ] as const) {
          const answer = await call<{ error: { type: string; reason: string }; status: number }>('PUT', path, body);
          expect(answer.status, JSON.stringify(answer.body)).to.equal(400);
          expect(answer.body.error.type).to.equal('illegal_argument_exception');
          expect(answer.body.error.reason).to.match(reason);
        }
        expect((await call('POST', '/_ccr/cluster_metadata/nope/pause')).status).to.equal(404);
        expect((await call('GET', '/_ccr/cluster_metadata')).body).to.deep.equal(before);
      });
    });
  }

  describe('ES 7.17 → ES 8.19', () => {
    let baseDir: string | undefined;
    let node: LocalNode | undefined;
    let daemon: Daemon | undefined;
    let leader: ClusterClient | undefined;
    let follower: ClusterClient | undefined;

    before(async function () {
      this.timeout(600_000);
      // Not mkdtemp's mode 700: the node runs as an unprivileged user when the tests run as root.
      baseDir = await mkdtemp(join(tmpdir(), 'ccr-follow-es7-'));
      await chmod(baseDir, 0o755);
      node = new LocalNode({ name: 'es7Leader', distribution: ELASTICSEARCH_7, baseDir, heap: '512m', startTimeoutMs: 240_000 });
      await node.start();
      console.log(`      leader elasticsearch ${node.version} at ${node.url}`);
      const clusters = new Map<string, ClusterConfig>([
        ['leader', { alias: 'leader', urls: [node.url], auth: { type: 'none' }, requestTimeoutMs: 30_000 }],
        ['follower', (await testClusters()).esFollower.clusterConfig('follower')],
      ]);
      const stateDir = join(baseDir, 'state');
      daemon = await Daemon.start({ config: { ...defaultConfig(stateDir), clusters, stateDir, control: { host: '127.0.0.1', port: 0 } }, logger: silentLogger, clusters: new ClusterRegistry(clusters) });
      [leader, follower] = await Promise.all([ClusterClient.connect(clusters.get('leader')!), ClusterClient.connect(clusters.get('follower')!)]);
    });

    after(async () => {
      await daemon?.stop();
      await Promise.all([leader?.close(), follower?.close()]);
      await node?.stop();
      if (baseDir) await rm(baseDir, { recursive: true, force: true });
    });

    it('keeps a composable template, its component template and a pipeline in step, and verify --metadata agrees', async () => {
      const p = uniqueName('cm7');
      await leader!.putMetadataItem({ kind: 'component_template', name: `${p}-base`, body: { template: { settings: { index: { number_of_shards: 2 } }, mappings: { properties: { msg: { type: 'text' } } } } } });
      await leader!.putMetadataItem({ kind: 'index_template', name: `${p}-logs`, body: { index_patterns: [`${p}-logs-*`], composed_of: [`${p}-base`], priority: 100, template: { aliases: { [`${p}-all`]: {} } } } });
      await leader!.putMetadataItem({ kind: 'ingest_pipeline', name: `${p}-enrich`, body: { description: 'from 7.17', processors: [] } });
      const body = { remote_cluster: 'leader', index_templates: [`${p}-*`], component_templates: [`${p}-*`], ingest_pipelines: [`${p}-*`] };
      await daemon!.metadata.put(`${p}-dr`, body);
      await daemon!.metadata.runRounds();
      const spec = parseMetadataPatternSpec(body, 'follower');
      const report = await compareMetadata(spec, leader!, follower!);
      expect(report.items.map((i) => [i.name, i.verdict])).to.deep.equal([[`${p}-base`, 'identical'], [`${p}-logs`, 'identical'], [`${p}-enrich`, 'identical']]);

      // An index created on the follower by the template gets the leader's shards, mappings and alias.
      await follower!.raw('create an index the template matches', { method: 'PUT', path: `/${p}-logs-1` });
      const created = await follower!.raw<Record<string, { settings: { index: { number_of_shards: string } }; mappings: { properties: Record<string, unknown> }; aliases: Record<string, unknown> }>>(
        'read it', { method: 'GET', path: `/${p}-logs-1` });
      const index = created.body[`${p}-logs-1`]!;
      expect(index.settings.index.number_of_shards).to.equal('2');
      expect(index.mappings.properties).to.have.property('msg');
      expect(index.aliases).to.have.property(`${p}-all`);
      await follower!.deleteIndex(`${p}-logs-1`);

      await daemon!.metadata.delete(`${p}-dr`);
      for (const client of [leader!, follower!]) {
        await client.deleteMetadataItem('index_template', `${p}-logs`);
        await client.deleteMetadataItem('component_template', `${p}-base`);
        await client.deleteMetadataItem('ingest_pipeline', `${p}-enrich`);
      }
    });
  });
});
