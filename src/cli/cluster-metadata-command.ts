/**
 * `ccr-follow cluster-metadata put | get | pause | resume | delete`: a thin client of the daemon's
 * `/_ccr/cluster_metadata` API, registered by main.ts.
 */
import type { Command } from 'commander';
import type { MetadataPatternView } from '../cluster-metadata/metadata-coordinator.js';
import type { ControlClient } from './control-client.js';
import { renderTable } from './format.js';
import type { CliIo } from './main.js';

export interface ClusterMetadataCommandContext {
  readonly io: CliIo;
  readonly client: () => Promise<ControlClient>;
  readonly print: (json: boolean, value: unknown, human: () => string) => void;
}

export const collectValues = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
/** CLI option → body field. */
export const METADATA_KIND_OPTIONS = [
  ['indexTemplate', 'index_templates', '--index-template <pattern>', 'composable index template names'],
  ['componentTemplate', 'component_templates', '--component-template <pattern>', 'component template names'],
  ['ingestPipeline', 'ingest_pipelines', '--ingest-pipeline <pattern>', 'ingest pipeline names'],
  ['lifecyclePolicy', 'lifecycle_policies', '--lifecycle-policy <pattern>', 'lifecycle policy names (ILM on Elasticsearch, ISM on OpenSearch)'],
] as const;

export function registerClusterMetadataCommands(program: Command, ctx: ClusterMetadataCommandContext): void {
  const group = program.command('cluster-metadata')
    .description('keep the follower cluster\'s index and component templates, ingest pipelines and lifecycle policies in step with the leader\'s, by name pattern');
  const path = (name: string): string => `/_ccr/cluster_metadata/${encodeURIComponent(name)}`;

  const put = group.command('put')
    .description('create or replace a cluster-metadata pattern. Items the patterns select are created, changed and deleted on the follower as on the leader, '
      + 'and put back when changed on the follower; the follower\'s other items are never touched. What the follower cannot hold is reported in `get`')
    .argument('<name>', 'pattern name, e.g. dr-templates')
    .requiredOption('--remote <cluster>', 'alias of the leader cluster')
    .option('--follower-cluster <cluster>', 'alias of the cluster kept in step', 'follower');
  for (const [, , flags, what] of METADATA_KIND_OPTIONS) put.option(flags, `${what} to follow, * for any characters, a leading - to exclude (repeatable)`, collectValues);
  put.action(async (name: string, opts: Record<string, unknown>) => {
    const body: Record<string, unknown> = { remote_cluster: opts['remote'], follower_cluster: opts['followerCluster'], ...metadataKindsFrom(opts) };
    const client = await ctx.client();
    await client.request('PUT', path(name), body);
    ctx.io.out(`cluster-metadata pattern ${name}: ${String(opts['remote'])} → ${String(opts['followerCluster'])}, compared every few seconds; see \`ccr-follow cluster-metadata get ${name}\``);
  });

  group.command('get')
    .description('cluster-metadata patterns with what they followed, put back, and could not express on the follower')
    .argument('[name]', 'one pattern (default: all)')
    .option('--json', 'print the API answer as JSON')
    .action(async (name: string | undefined, opts: { json?: boolean }) => {
      const patterns = (await (await ctx.client()).request<{ patterns: MetadataPatternView[] }>('GET', name === undefined ? '/_ccr/cluster_metadata' : path(name))).patterns;
      ctx.print(opts.json === true, { patterns }, () => renderMetadataPatterns(patterns));
    });

  for (const [action, description, done] of [
    ['pause', 'stop keeping the items in step; what was put stays', 'paused'],
    ['resume', 'keep the items in step again (the next round puts what changed meanwhile)', 'resumed'],
  ] as const) {
    group.command(action).description(description).argument('<name>', 'pattern name').action(async (name: string) => {
      await (await ctx.client()).request('POST', `${path(name)}/${action}`);
      ctx.io.out(`${done} cluster-metadata pattern ${name}`);
    });
  }

  group.command('promote')
    .description('the follower cluster takes over: pause the pattern, and give every item it put back what following held back '
      + '(the data stream flag, rollover aliases), so the next rollover and the next stream write work there. `promote --all` does this for every pattern')
    .argument('<name>', 'pattern name')
    .action(async (name: string) => {
      const { restored } = await (await ctx.client()).request<{ restored: { kind: string; name: string; fields: string[]; result: string; reason?: string }[] }>('POST', `${path(name)}/promote`);
      for (const r of restored) {
        ctx.io.out(`${r.kind.replace('_', ' ')} ${r.name}: ${r.result === 'restored' ? `${r.fields.join(', ')} put back` : `could not put back ${r.fields.join(', ')}: ${r.reason ?? 'unknown reason'}`}`);
      }
      ctx.io.out(`promoted cluster-metadata pattern ${name}: paused, ${restored.filter((r) => r.result === 'restored').length} item(s) given back what following held back`);
      if (restored.some((r) => r.result !== 'restored')) process.exitCode = 1;
    });

  group.command('delete')
    .description('delete a cluster-metadata pattern; the items it put on the follower stay')
    .argument('<name>', 'pattern name')
    .action(async (name: string) => {
      await (await ctx.client()).request('DELETE', path(name));
      ctx.io.out(`deleted cluster-metadata pattern ${name}: the items it put on the follower stay`);
    });
}

/** The kind options given, as the API's body fields (`index_templates: [...]`, …). */
export function metadataKindsFrom(opts: Readonly<Record<string, unknown>>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [option, field] of METADATA_KIND_OPTIONS) if (Array.isArray(opts[option])) out[field] = opts[option] as string[];
  return out;
}

export function renderMetadataPatterns(patterns: readonly MetadataPatternView[]): string {
  if (patterns.length === 0) return 'no cluster-metadata patterns';
  const rows = patterns.map((p) => [
    p.name,
    p.pattern.active ? 'active' : 'paused',
    `${String(p.pattern['remote_cluster'])} → ${String(p.pattern['follower_cluster'])}`,
    String(p.stats.items_followed),
    String(p.stats.items_put_back),
    String(p.stats.not_expressible.length),
    p.stats.last_round_at ?? '-',
  ]);
  const table = renderTable(['NAME', 'STATE', 'CLUSTERS', 'FOLLOWED', 'PUT BACK', 'NOT EXPRESSIBLE', 'LAST ROUND'], rows);
  const notes = patterns.flatMap((p) => [
    ...p.stats.not_expressible.map((u) => `${p.name}: ${u.kind.replace('_', ' ')} ${u.name} not followed: ${u.reason}`),
    ...(p.stats.last_error ? [`${p.name}: last round failed at ${p.stats.last_error.at}: ${p.stats.last_error.type}: ${p.stats.last_error.reason}`] : []),
  ]);
  return [table, ...notes].join('\n');
}
