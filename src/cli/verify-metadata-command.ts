/**
 * `ccr-follow verify --metadata <leader> <follower>`: the two clusters' templates, pipelines and
 * (when named) lifecycle policies compared item by item (cluster-metadata/compare-metadata.ts),
 * without the daemon. Exit 0 only when every selected item is identical or cannot be expressed on
 * the follower (those are listed with the reason).
 */
import { ClusterRegistry, UnknownClusterError } from '../cluster/cluster-registry.js';
import { compareMetadata, type MetadataComparison } from '../cluster-metadata/compare-metadata.js';
import { MetadataPatternError, parseMetadataPatternSpec } from '../cluster-metadata/metadata-pattern.js';
import { SecretRegistry } from '../util/secrets.js';
import { resolveConfig } from './cli-config.js';
import { ExitCodes } from './exit-codes.js';
import { renderTable } from './format.js';
import type { CliIo } from './main.js';
import { UsageError } from './target.js';

export interface VerifyMetadataOptions {
  readonly configFile: string | undefined;
  readonly leader: string;
  readonly follower: string;
  /** Body fields as the API takes them (`index_templates: [...]`); none: every template and pipeline. */
  readonly kinds: Readonly<Record<string, string[]>>;
  readonly json: boolean;
  readonly io: CliIo;
}

const EVERYTHING_BUT_POLICIES = { index_templates: ['*'], component_templates: ['*'], ingest_pipelines: ['*'] };

export async function runVerifyMetadata(opts: VerifyMetadataOptions): Promise<number> {
  const { io } = opts;
  for (const alias of [opts.leader, opts.follower]) {
    if (alias.includes('/')) throw new UsageError(`with --metadata, give cluster aliases (e.g. leader follower), not ${alias}`);
  }
  let spec;
  try {
    spec = parseMetadataPatternSpec({ remote_cluster: opts.leader, follower_cluster: opts.follower, ...(Object.keys(opts.kinds).length > 0 ? opts.kinds : EVERYTHING_BUT_POLICIES) }, opts.follower);
  } catch (err) {
    if (err instanceof MetadataPatternError) throw new UsageError(err.message);
    throw err;
  }
  const config = await resolveConfig(opts.configFile, io.env, io.cwd, new SecretRegistry());
  const clusters = new ClusterRegistry(config.clusters);
  try {
    const [leader, follower] = await Promise.all([clusters.client(opts.leader), clusters.client(opts.follower)]);
    const report = await compareMetadata(spec, leader, follower);
    io.out(opts.json ? JSON.stringify(report, null, 2) : renderMetadataReport(report, opts.leader, opts.follower));
    return report.identical ? ExitCodes.ok : ExitCodes.failed;
  } catch (err) {
    if (err instanceof UnknownClusterError) throw new UsageError(err.message);
    throw err;
  } finally {
    await clusters.close();
  }
}

function renderMetadataReport(r: MetadataComparison, leader: string, follower: string): string {
  if (r.items.length === 0) return `IDENTICAL: no selected template, pipeline or policy on ${leader} or ${follower}`;
  const rows = r.items.map((i) => [i.kind.replace('_', ' '), i.name, i.verdict.replaceAll('_', ' '), i.detail ?? '']);
  const different = r.items.filter((i) => i.verdict !== 'identical' && i.verdict !== 'not_expressible').length;
  return [
    renderTable(['KIND', 'NAME', 'RESULT', 'WHERE / WHY'], rows),
    `${r.identical ? 'IDENTICAL' : 'DIFFERENT'}: ${r.items.length} item(s) of ${leader} vs ${follower}, ${different} differ`,
  ].join('\n');
}
