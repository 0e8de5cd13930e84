/**
 * `ccr-follow verify leader/index follower/index`: an offline comparison that needs no daemon,
 * only the config's cluster aliases. Exit 0 only when the two indices are identical.
 */
import { kindOf } from '../cluster/classify.js';
import { ClusterRegistry, UnknownClusterError } from '../cluster/cluster-registry.js';
import { ClusterError } from '../cluster/errors.js';
import { SecretRegistry } from '../util/secrets.js';
import { compareIndices, type ComparisonReport } from '../verify/compare-indices.js';
import { resolveConfig } from './cli-config.js';
import { ExitCodes } from './exit-codes.js';
import { renderTable } from './format.js';
import type { CliIo } from './main.js';
import { UsageError, type Target } from './target.js';

export interface VerifyOptions {
  readonly configFile: string | undefined;
  readonly leader: Target;
  readonly follower: Target;
  readonly json: boolean;
  readonly sample?: number;
  readonly io: CliIo;
}

export async function runVerify(opts: VerifyOptions): Promise<number> {
  const { io } = opts;
  if (opts.sample !== undefined && !(Number.isInteger(opts.sample) && opts.sample > 0)) {
    throw new UsageError(`--sample must be a whole number above 0, got ${opts.sample}`);
  }
  const config = await resolveConfig(opts.configFile, io.env, io.cwd, new SecretRegistry());
  const clusters = new ClusterRegistry(config.clusters);
  try {
    const [leader, follower] = await Promise.all([clusters.client(opts.leader.cluster), clusters.client(opts.follower.cluster)]);
    const report = await compareIndices({ client: leader, index: opts.leader.index }, { client: follower, index: opts.follower.index }, { sample: opts.sample });
    io.out(opts.json ? JSON.stringify(report, null, 2) : renderReport(report));
    return report.identical ? ExitCodes.ok : ExitCodes.failed;
  } catch (err) {
    if (err instanceof UnknownClusterError) throw new UsageError(err.message);
    if (err instanceof ClusterError && kindOf(err) === 'index_not_found') throw new Error(`index not found: ${err.message}`);
    throw err;
  } finally {
    await clusters.close();
  }
}

function renderReport(r: ComparisonReport): string {
  const rows = r.shards.map((s) => [String(s.shard), String(s.leader_count), String(s.follower_count), String(s.compared),
    String(s.missing_on_follower), String(s.extra_on_follower), String(s.different)]);
  const lines = [renderTable(['SHARD', 'LEADER', 'FOLLOWER', 'COMPARED', 'MISSING', 'EXTRA', 'DIFFERENT'], rows)];
  for (const s of r.shards) {
    const ex = s.examples;
    if (ex.missing_on_follower.length > 0) lines.push(`shard ${s.shard} missing on the follower: ${ex.missing_on_follower.join(', ')}`);
    if (ex.extra_on_follower.length > 0) lines.push(`shard ${s.shard} only on the follower: ${ex.extra_on_follower.join(', ')}`);
    if (ex.different.length > 0) lines.push(`shard ${s.shard} different _source or routing: ${ex.different.join(', ')}`);
  }
  const sample = r.sample === undefined ? '' : ` (a sample of ${r.sample} documents per shard)`;
  lines.push(`${r.identical ? 'IDENTICAL' : 'DIFFERENT'}: ${r.leader} vs ${r.follower}${sample}, in ${(r.took_millis / 1000).toFixed(1)} s`);
  return lines.join('\n');
}
