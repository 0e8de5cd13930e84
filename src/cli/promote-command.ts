/**
 * `ccr-follow promote --all | --match <pattern>`: one `POST /_ccr/promote` (the daemon does the
 * work, src/follow/promote-many.ts), printed as one line per index, the data streams, the auto-follow
 * patterns paused, the recovery point (RPO) and the recovery time (RTO). README, "Disaster day".
 */
import type { IndexOutcome, PromoteManyAnswer } from '../follow/promote-many.js';
import type { ControlClient } from './control-client.js';
import { renderRecoveryPoint } from './format.js';
import { UsageError } from './target.js';

export interface PromoteManyOptions {
  readonly all?: boolean;
  readonly match?: string;
  readonly leader?: string;
  readonly dryRun?: boolean;
  readonly concurrency?: string;
}

export async function requestPromoteMany(client: ControlClient, opts: PromoteManyOptions): Promise<PromoteManyAnswer> {
  let concurrency: number | undefined;
  if (opts.concurrency !== undefined) {
    concurrency = Number(opts.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError('--concurrency must be a positive integer');
  }
  return client.request<PromoteManyAnswer>('POST', '/_ccr/promote', {
    ...(opts.all === true ? { all: true } : {}),
    ...(opts.match === undefined ? {} : { match: opts.match }),
    ...(opts.leader === undefined ? {} : { leader: opts.leader }),
    ...(opts.dryRun === true ? { dry_run: true } : {}),
    ...(concurrency === undefined ? {} : { concurrency }),
  });
}

const RESULT_TEXT: Readonly<Record<IndexOutcome['result'], string>> = {
  promoted: 'promoted',
  would_promote: 'would be promoted',
  already_promoted: 'already an ordinary index',
  failed: 'failed',
};

/** `commandMillis`: from this process's start to the answer, what the operator waited (the daemon's RTO starts at the request). */
export function renderPromoteMany(a: PromoteManyAnswer, commandMillis?: number): string {
  const lines: string[] = [];
  if (a.pausedAutoFollowPatterns.length > 0) {
    lines.push(`${a.dryRun ? 'would pause' : 'paused'} auto-follow pattern(s) ${a.pausedAutoFollowPatterns.join(', ')}: `
      + 'nothing new is followed from that leader (resume them by hand once the direction is settled)');
  }
  for (const f of a.patternFailures) lines.push(`could not pause auto-follow pattern ${f.pattern}: ${f.reason} (pause it by hand)`);
  const width = Math.max(0, ...a.indices.map((i) => i.follower.length));
  for (const i of a.indices) {
    const what = i.result === 'failed' ? `failed: ${i.reason ?? 'unknown reason'}`
      : i.result === 'already_promoted' ? `${RESULT_TEXT[i.result]} (${i.reason})` : RESULT_TEXT[i.result];
    const rpo = i.recoveryPoint && i.result !== 'already_promoted' ? `; ${renderRecoveryPoint(i.recoveryPoint)}` : '';
    const aliases = i.writableAliases ? `; alias(es) ${i.writableAliases.join(', ')} take writes again` : '';
    const daemon = i.daemon === undefined ? '' : `; by daemon ${i.daemon}`;
    lines.push(`${i.follower.padEnd(width)}  ${what}${rpo}${aliases}${daemon}`);
  }
  for (const d of a.dataStreams) {
    const text = d.result === 'failed' ? `failed: ${d.reason ?? 'unknown reason'}`
      : `${d.result === 'writable' ? 'writable' : 'would be writable'} under its name, write index ${d.writeIndex}`;
    lines.push(`data stream ${d.stream}: ${text}`);
  }
  for (const r of a.clusterMetadata ?? []) {
    lines.push(`${r.kind.replace('_', ' ')} ${r.name} (cluster-metadata pattern ${r.pattern}, now paused): `
      + (r.result === 'restored' ? `${r.fields.join(', ')} put back as the leader had it` : `could not put back ${r.fields.join(', ')}: ${r.reason ?? 'unknown reason'}`));
  }
  if (a.total) {
    const seconds = a.total.secondsPossiblyMissing === undefined ? 'an unknown number of seconds'
      : `up to ${a.total.secondsPossiblyMissing} s`;
    const unknown = a.total.unknownFollowers > 0 ? ` (${a.total.unknownFollowers} follower(s) had not seen the leader since the daemon started: their seconds are unknown)` : '';
    lines.push(`RPO: at least ${a.total.operationsMissingAtLeast} operation(s) and ${seconds} of the leader's writes may be missing, over ${a.total.followers} follower(s)${unknown}`);
  }
  if (a.rtoMillis !== undefined) {
    const command = commandMillis === undefined ? '' : ` (${(commandMillis / 1000).toFixed(1)} s since the command started)`;
    lines.push(`RTO: ${(a.rtoMillis / 1000).toFixed(1)} s from the request to the last index writable${command}`);
  }
  const count = (r: IndexOutcome['result']): number => a.indices.filter((i) => i.result === r).length;
  lines.push(a.dryRun
    ? `dry run: ${count('would_promote')} would be promoted, ${count('already_promoted')} already ordinary; nothing was changed`
    : `${count('promoted')} promoted, ${count('already_promoted')} already ordinary, ${count('failed')} failed`);
  return lines.join('\n');
}
