/**
 * The `ccr-follow` command line. Every command but `daemon` and `quickstart` is a thin client of
 * the daemon's control API. Errors are printed as one line, without a stack, with an exit status
 * from exit-codes.ts.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../daemon/config-error.js';
import { VERSION } from '../daemon/version.js';
import { FOLLOW_PARAMS, FollowParamsError, parseFollowParams, type FollowParamName } from '../shard/follow-params.js';
import { controlUrl, resolveConfig } from './cli-config.js';
import { ControlApiError, ControlClient, DaemonUnreachableError } from './control-client.js';
import { ExitCodes } from './exit-codes.js';
import { renderInfo, renderStats } from './format.js';
import { parseTarget, targetPath, UsageError } from './target.js';
import { runDaemon } from './run-daemon.js';
import { runQuickstart } from './quickstart.js';
import { runVerify } from './verify-command.js';
import { registerAutoFollowCommands } from './auto-follow-command.js';
import type { FollowerIndexStats } from '../follow/index-follower.js';
import type { FollowerInfo } from '../follow/follow-manager.js';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

interface GlobalOptions { config?: string; url?: string }

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = ExitCodes.ok;
  const program = new Command('ccr-follow')
    .description('Cross-cluster replication for Elasticsearch and OpenSearch over the public REST API.')
    .version(VERSION)
    .option('-c, --config <file>', 'config file (default: $CCR_FOLLOW_CONFIG, then ./ccr-follow.yml)')
    .option('--url <url>', 'control API of the daemon (default: from the config, http://127.0.0.1:9809)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError();

  const client = async (): Promise<ControlClient> => {
    const opts = program.opts<GlobalOptions>();
    if (opts.url) return new ControlClient(opts.url);
    return new ControlClient(controlUrl(await resolveConfig(opts.config, io.env, io.cwd, undefined, { lenientEnv: true })));
  };
  const print = (json: boolean, value: unknown, human: () => string): void => io.out(json ? JSON.stringify(value, null, 2) : human());

  program.command('daemon')
    .description('run the replication service until SIGTERM / SIGINT')
    .action(async () => {
      exitCode = await runDaemon(program.opts<GlobalOptions>().config, io);
    });

  withFollowParams(program.command('start')
    .description('start following: create <follower> from <leader> (both written <cluster-alias>/<index>), copy what the leader holds, then follow it')
    .argument('<leader>', 'leader index, e.g. leader/orders')
    .argument('<follower>', 'follower index to create, e.g. follower/orders'))
    .action(async (leaderArg: string, followerArg: string, opts: Record<string, unknown>) => {
      const leader = parseTarget(leaderArg, 'the leader');
      const follower = parseTarget(followerArg, 'the follower');
      const body = { remote_cluster: leader.cluster, leader_index: leader.index, ...followParamsFrom(opts) };
      await (await client()).request('PUT', `${targetPath(follower)}/_ccr/follow`, body);
      io.out(`following ${leaderArg} into ${followerArg}`);
    });

  program.command('pause')
    .description('pause a follower: no operations are applied until it is resumed')
    .argument('<follower>', 'follower index, e.g. follower/orders')
    .action(async (followerArg: string) => {
      await (await client()).request('POST', `${targetPath(parseTarget(followerArg, 'the follower'))}/_ccr/pause_follow`);
      io.out(`paused ${followerArg}`);
    });

  withFollowParams(program.command('resume')
    .description('resume a paused follower from its checkpoints; given parameters replace the stored ones')
    .argument('<follower>', 'follower index, e.g. follower/orders'))
    .action(async (followerArg: string, opts: Record<string, unknown>) => {
      await (await client()).request('POST', `${targetPath(parseTarget(followerArg, 'the follower'))}/_ccr/resume_follow`, followParamsFrom(opts));
      io.out(`resumed ${followerArg}`);
    });

  program.command('unfollow')
    .description('stop following for good and leave an ordinary index (pause it first, as in CCR)')
    .argument('<follower>', 'follower index, e.g. follower/orders')
    .action(async (followerArg: string) => {
      await (await client()).request('POST', `${targetPath(parseTarget(followerArg, 'the follower'))}/_ccr/unfollow`);
      io.out(`unfollowed ${followerArg}: it is now an ordinary index`);
    });

  program.command('stats')
    .description('replication stats, per follower index (and per shard with --json)')
    .argument('[follower]', 'one follower index, e.g. follower/orders (default: all)')
    .option('--json', 'print the API answer as JSON')
    .action(async (followerArg: string | undefined, opts: { json?: boolean }) => {
      const c = await client();
      const indices = followerArg === undefined
        ? (await c.request<{ follow_stats: { indices: FollowerIndexStats[] } }>('GET', '/_ccr/stats')).follow_stats.indices
        : (await c.request<{ indices: FollowerIndexStats[] }>('GET', `${targetPath(parseTarget(followerArg, 'the follower'))}/_ccr/stats`)).indices;
      print(opts.json === true, { indices }, () => renderStats(indices));
    });

  program.command('info')
    .description('follower indices with their leader, status and parameters')
    .argument('[follower]', 'one follower index, e.g. follower/orders (default: all)')
    .option('--json', 'print the API answer as JSON')
    .action(async (followerArg: string | undefined, opts: { json?: boolean }) => {
      const path = followerArg === undefined ? '/_ccr/info' : `${targetPath(parseTarget(followerArg, 'the follower'))}/_ccr/info`;
      const answer = await (await client()).request<{ follower_indices: FollowerInfo[] }>('GET', path);
      print(opts.json === true, answer, () => renderInfo(answer.follower_indices));
    });

  registerAutoFollowCommands(program, { io, client, print, withFollowParams, followParamsFrom });

  program.command('verify')
    .description('compare two indices shard by shard (counts, missing or extra ids, different _source or routing); works without the daemon, on any two indices; exit 0 only when identical')
    .argument('<leader>', 'e.g. leader/orders')
    .argument('<follower>', 'e.g. follower/orders')
    .option('--json', 'print the report as JSON')
    .option('--sample <n>', 'compare only n random documents per shard (counts are always compared)', (v) => Number(v))
    .action(async (leaderArg: string, followerArg: string, opts: { json?: boolean; sample?: number }) => {
      exitCode = await runVerify({
        configFile: program.opts<GlobalOptions>().config, leader: parseTarget(leaderArg, 'the leader'), follower: parseTarget(followerArg, 'the follower'),
        json: opts.json === true, sample: opts.sample, io,
      });
    });

  program.command('quickstart')
    .description('the embedded demo: start a local leader and follower (unless the config defines clusters "leader" and "follower"), write sample time-series documents to the leader, follow them and show live stats until Ctrl-C')
    .option('--duration <seconds>', 'stop by itself after this many seconds', (v) => Number(v))
    .action(async (opts: { duration?: number }) => {
      exitCode = await runQuickstart({ configFile: program.opts<GlobalOptions>().config, durationSeconds: opts.duration, io });
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(err, io);
  }
}

function withFollowParams(cmd: Command): Command {
  for (const [name, [kind, def, help]] of Object.entries(FOLLOW_PARAMS)) {
    const unit = kind === 'bytes' ? 'size' : kind === 'duration' ? 'duration' : 'n';
    cmd.addOption(new Option(`--${name.replaceAll('_', '-')} <${unit}>`, `${help} (default ${def}${kind === 'duration' ? 'ms' : kind === 'bytes' ? ' bytes' : ''})`));
  }
  return cmd;
}

/**
 * commander's camelCase option values back to CCR's snake_case parameter names, checked here so a
 * bad value is a usage error before anything is sent.
 */
function followParamsFrom(opts: Record<string, unknown>): Partial<Record<FollowParamName, unknown>> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(FOLLOW_PARAMS)) {
    const camel = name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (opts[camel] !== undefined) out[name] = opts[camel];
  }
  try {
    parseFollowParams(out);
  } catch (err) {
    if (err instanceof FollowParamsError) throw new UsageError(err.message);
    throw err;
  }
  return out;
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    return err.exitCode === 0 ? ExitCodes.ok : ExitCodes.usage;
  }
  if (err instanceof UsageError || err instanceof ConfigError) {
    io.err(`error: ${err.message}`);
    return ExitCodes.usage;
  }
  if (err instanceof DaemonUnreachableError) {
    io.err(`error: ${err.message}`);
    return ExitCodes.daemonUnreachable;
  }
  if (err instanceof ControlApiError) {
    io.err(`error: ${err.type}: ${err.message}`);
    return ExitCodes.failed;
  }
  io.err(`error: ${err instanceof Error ? err.message : String(err)}`);
  return ExitCodes.failed;
}
