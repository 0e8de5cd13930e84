/**
 * `ccr-follow auto-follow put | list | pause | resume | delete`: a thin client of the daemon's
 * `/_ccr/auto_follow` API, registered by main.ts.
 */
import type { Command } from 'commander';
import type { AutoFollowPatternView } from '../autofollow/auto-follow-coordinator.js';
import type { ControlClient } from './control-client.js';
import { cliPattern, renderTable } from './format.js';
import type { CliIo } from './main.js';

export interface AutoFollowCommandContext {
  readonly io: CliIo;
  readonly client: () => Promise<ControlClient>;
  readonly print: (json: boolean, value: unknown, human: () => string) => void;
  /** Adds the `--<follow parameter>` options, as `start` has them. */
  readonly withFollowParams: (cmd: Command) => Command;
  /** Those options back to CCR's parameter names, checked. */
  readonly followParamsFrom: (opts: Record<string, unknown>) => Record<string, unknown>;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerAutoFollowCommands(program: Command, ctx: AutoFollowCommandContext): void {
  const group = program.command('auto-follow')
    .description('auto-follow patterns: follow new leader indices (daily indices, rollovers, data stream backing indices) as they are created');
  const path = (name: string): string => `/_ccr/auto_follow/${encodeURIComponent(name)}`;
  /**
   * Pauses / resumes a pattern and says whether it was active before. As in CCR, the daemon accepts
   * a pause of a paused pattern (and a resume of an active one) without a word, so the state is
   * read first, for the message only: the request is sent either way, so the pattern ends in the
   * state asked for even if someone changes it in between.
   */
  const setActive = async (name: string, action: 'pause' | 'resume'): Promise<boolean | undefined> => {
    const client = await ctx.client();
    const [view] = (await client.request<{ patterns: AutoFollowPatternView[] }>('GET', path(name))).patterns;
    await client.request('POST', `${path(name)}/${action}`);
    return view?.pattern.active;
  };

  ctx.withFollowParams(group.command('put')
    .description('create or replace an auto-follow pattern. Only leader indices created from now on are followed: '
      + 'indices that already exist are left alone (follow those with `start`). Closed, hidden and system indices are skipped; '
      + 'a data stream matched by name has its backing indices followed, and is readable on the follower under its name (an alias)')
    .argument('<name>', 'pattern name, e.g. daily-logs')
    .requiredOption('--remote <cluster>', 'alias of the leader cluster to watch')
    .requiredOption('--pattern <pattern>', 'leader index or data stream pattern, e.g. \'logs-*\' (repeat for several)', collect)
    .option('--exclude <pattern>', 'leader index pattern to leave out, e.g. \'logs-debug-*\' (repeatable)', collect)
    .option('--follow-index-pattern <template>', 'follower index name, with {{leader_index}} (default {{leader_index}})')
    .option('--follower-cluster <cluster>', 'alias of the cluster the followers are created in', 'follower'))
    .action(async (name: string, opts: Record<string, unknown>) => {
      const body = {
        remote_cluster: opts.remote,
        follower_cluster: opts.followerCluster,
        leader_index_patterns: opts.pattern,
        leader_index_exclusion_patterns: opts.exclude ?? [],
        ...(opts.followIndexPattern === undefined ? {} : { follow_index_pattern: opts.followIndexPattern }),
        ...ctx.followParamsFrom(opts),
      };
      await (await ctx.client()).request('PUT', path(name), body);
      const [view] = (await (await ctx.client()).request<{ patterns: AutoFollowPatternView[] }>('GET', path(name))).patterns;
      const existing = view?.stats.number_of_existing_indices ?? 0;
      ctx.io.out(`auto-follow pattern ${name}: new indices on ${String(opts.remote)} matching ${describeMatch(view)} `
        + `will be followed into ${String(opts.followerCluster)}/${String(view?.pattern['follow_index_pattern'])}; `
        + (existing === 1 ? 'the 1 matching index that exists now is left alone' : `the ${existing} matching indices that exist now are left alone`));
    });

  group.command('list')
    .description('auto-follow patterns with what they followed, skipped and failed to follow')
    .option('--json', 'print the API answer as JSON')
    .action(async (opts: { json?: boolean }) => {
      const patterns = (await (await ctx.client()).request<{ patterns: AutoFollowPatternView[] }>('GET', '/_ccr/auto_follow')).patterns.map(cliPattern);
      ctx.print(opts.json === true, { patterns }, () => renderPatterns(patterns));
    });

  group.command('pause')
    .description('stop starting followers for new indices; the followers it started keep following. Indices created while paused are not followed after resume')
    .argument('<name>', 'pattern name')
    .action(async (name: string) => {
      const wasActive = await setActive(name, 'pause');
      ctx.io.out(wasActive === false ? `auto-follow pattern ${name} is already paused`
        : `paused auto-follow pattern ${name}: its followers keep following, new indices are not followed`);
    });

  group.command('resume')
    .description('follow new indices again (those created while it was paused are left alone)')
    .argument('<name>', 'pattern name')
    .action(async (name: string) => {
      const wasActive = await setActive(name, 'resume');
      ctx.io.out(wasActive === true ? `auto-follow pattern ${name} is already active` : `resumed auto-follow pattern ${name}`);
    });

  group.command('delete')
    .description('delete an auto-follow pattern; the followers it started keep following (unfollow them one by one)')
    .argument('<name>', 'pattern name')
    .action(async (name: string) => {
      await (await ctx.client()).request('DELETE', path(name));
      ctx.io.out(`deleted auto-follow pattern ${name}: the followers it started keep following`);
    });
}

function describeMatch(view: AutoFollowPatternView | undefined): string {
  if (!view) return '?';
  const include = (view.pattern['leader_index_patterns'] as string[]).join(', ');
  const exclude = view.pattern['leader_index_exclusion_patterns'] as string[];
  return exclude.length === 0 ? include : `${include} (except ${exclude.join(', ')})`;
}

export function renderPatterns(patterns: readonly AutoFollowPatternView[]): string {
  if (patterns.length === 0) return 'no auto-follow patterns';
  const rows = patterns.map((p) => [
    p.name,
    p.pattern.active ? 'active' : 'paused',
    String(p.pattern['remote_cluster']),
    describeMatch(p),
    `${String(p.pattern['follower_cluster'])}/${String(p.pattern['follow_index_pattern'])}`,
    String(p.stats.followed_indices.length),
    String(p.stats.skipped_indices.length),
    String(p.stats.failed_indices.length),
  ]);
  const table = renderTable(['NAME', 'STATE', 'REMOTE', 'PATTERNS', 'FOLLOWERS', 'FOLLOWED', 'SKIPPED', 'FAILED'], rows);
  const notes = patterns.flatMap((p) => [
    ...p.stats.skipped_indices.map((s) => `${p.name}: skipped ${s.leader_index}: ${s.reason}`),
    ...p.stats.failed_indices.map((f) => `${p.name}: failed ${f.leader_index}: ${f.reason}`),
    ...p.stats.recent_auto_follow_errors.map((e) => `${p.name}: error at ${new Date(e.timestamp).toISOString()} (${e.leader_index}): ${e.auto_follow_exception.type}: ${e.auto_follow_exception.reason}`),
  ]);
  return [table, ...notes].join('\n');
}
