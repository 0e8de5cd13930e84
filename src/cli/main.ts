/**
 * The `ccr-follow` command line. Every command but `daemon` and `quickstart` is a thin client of
 * the daemon's control API. Errors are printed as one line, without a stack, with an exit status
 * from exit-codes.ts.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../daemon/config-error.js';
import { VERSION } from '../daemon/version.js';
import { FOLLOW_PARAMS, FollowParamsError, parseFollowParams, type FollowParamName } from '../shard/follow-params.js';
import { controlToken, controlUrl, resolveConfig } from './cli-config.js';
import { ControlApiError, ControlClient, DaemonUnreachableError } from './control-client.js';
import { ExitCodes } from './exit-codes.js';
import { cliInfo, renderDaemons, renderInfo, renderPromotion, renderStats } from './format.js';
import type { DaemonRow } from '../daemon/fleet.js';
import type { PromotionRecord } from '../state/state-store.js';
import { parseTarget, targetPath, UsageError } from './target.js';
import { runDaemon } from './run-daemon.js';
import { runQuickstart } from './quickstart.js';
import { runVerify } from './verify-command.js';
import { parseBackend, runStateMigrate, type StateBackend } from './state-command.js';
import { registerAutoFollowCommands } from './auto-follow-command.js';
import { collectValues, METADATA_KIND_OPTIONS, metadataKindsFrom, registerClusterMetadataCommands } from './cluster-metadata-command.js';
import { runVerifyMetadata } from './verify-metadata-command.js';
import type { FollowerIndexStats } from '../follow/index-follower.js';
import type { CcrFollowerInfo } from '../daemon/api/ccr.js';
import { sleep } from '../util/sleep.js';
import { parseDuration } from '../util/units.js';
import { applyToFleet, fleetSucceeded, renderFleetResults, selectFollowers, type FleetVerb } from './fleet.js';
import { waitUntilCaughtUp } from './progress.js';
import { runWatch } from './watch.js';
import { renderPromoteMany, requestPromoteMany, type PromoteManyOptions } from './promote-command.js';
import { renderFailback, renderSwitchover, requestFailback, requestSwitchover, type FailbackOptions } from './failback-command.js';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Set when stdout is a terminal: raw writes, for output redrawn in place (progress, --watch). */
  readonly tty?: { write(text: string): void };
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
    if (opts.url) return new ControlClient(opts.url, { token: controlToken(io.env) });
    const config = await resolveConfig(opts.config, io.env, io.cwd, undefined, { lenientEnv: true });
    return new ControlClient(controlUrl(config), { token: controlToken(io.env, config) });
  };
  const print = (json: boolean, value: unknown, human: () => string): void => io.out(json ? JSON.stringify(value, null, 2) : human());

  program.command('daemon')
    .description('run the replication service until SIGTERM / SIGINT')
    .addOption(new Option('--log-format <format>', 'log lines as text, or one JSON object per line for log shippers (default: from the config)').choices(['text', 'json']))
    .addOption(new Option('--log-level <level>', 'least severe level logged (default: from the config)').choices(['error', 'warn', 'info', 'debug']))
    .action(async (opts: { logFormat?: 'text' | 'json'; logLevel?: 'error' | 'warn' | 'info' | 'debug' }) => {
      exitCode = await runDaemon(program.opts<GlobalOptions>().config, io, { format: opts.logFormat, level: opts.logLevel });
    });

  withFollowParams(program.command('start')
    .description('start following: create <follower> from <leader> (both written <cluster-alias>/<index>), copy what the leader holds, then follow it')
    .argument('<leader>', 'leader index, e.g. leader/orders')
    .argument('<follower>', 'follower index to create, e.g. follower/orders'))
    .option('--wait', 'show progress and return once the follower has caught up (exit 1 if it pauses first)')
    .option('--interval <duration>', 'how often --wait polls the stats', '1s')
    .action(async (leaderArg: string, followerArg: string, opts: Record<string, unknown>) => {
      const leader = parseTarget(leaderArg, 'the leader');
      const follower = parseTarget(followerArg, 'the follower');
      const { wait, interval, ...params } = opts;
      const intervalMs = durationOption(interval, '--interval');
      const body = { remote_cluster: leader.cluster, leader_index: leader.index, ...followParamsFrom(params) };
      const c = await client();
      await c.request('PUT', `${targetPath(follower)}/_ccr/follow`, body);
      io.out(`following ${leaderArg} into ${followerArg}`);
      if (wait !== true) return;
      const path = `${targetPath(follower)}/_ccr/stats`;
      const result = await waitUntilCaughtUp({
        fetch: async () => {
          const stats = (await c.request<{ indices: FollowerIndexStats[] }>('GET', path)).indices[0];
          if (!stats) throw new ControlApiError('resource_not_found_exception', `${followerArg} is no longer followed`, 404);
          return stats;
        },
        io, intervalMs, sleep: (ms) => sleep(ms),
      });
      if (result.outcome === 'caught-up') {
        io.out(`${followerArg} has caught up with ${leaderArg}`);
      } else {
        const fatal = result.stats.fatal_exception;
        io.err(`error: ${followerArg} was paused before catching up${fatal ? `: ${fatal.type}: ${fatal.reason}` : ''}`);
        exitCode = ExitCodes.failed;
      }
    });

  /**
   * One follower, with CCR's errors (pausing a paused one is refused); or many with --all / --match
   * (fleet.ts): one line per index, those already in the state asked for say so, exit 1 only if
   * one may not be in it.
   */
  const pauseOrResume = async (verb: FleetVerb, followerArg: string | undefined, opts: FleetOptions, body?: Record<string, unknown>): Promise<void> => {
    const endpoint = verb === 'paused' ? 'pause_follow' : 'resume_follow';
    const chosen = [followerArg !== undefined, opts.all === true, opts.match !== undefined].filter(Boolean).length;
    if (chosen !== 1) throw new UsageError('name one follower (<cluster>/<index>), or give --all or --match <pattern>');
    const c = await client();
    if (followerArg !== undefined) {
      await c.request('POST', `${targetPath(parseTarget(followerArg, 'the follower'))}/_ccr/${endpoint}`, body);
      io.out(`${verb} ${followerArg}`);
      return;
    }
    const infos = (await c.request<{ follower_indices: CcrFollowerInfo[] }>('GET', '/_ccr/info')).follower_indices.map(cliInfo);
    const results = await applyToFleet(selectFollowers(infos, opts.match), async (path) => {
      await c.request('POST', `${path}/_ccr/${endpoint}`, body);
    }, verb, body);
    io.out(renderFleetResults(results, opts.match === undefined ? 'all' : `"${opts.match}"`, verb));
    if (!fleetSucceeded(results)) exitCode = ExitCodes.failed;
  };

  program.command('pause')
    .description('pause a follower: no operations are applied until it is resumed')
    .argument('[follower]', 'follower index, e.g. follower/orders')
    .option('--all', 'pause every follower index')
    .option('--match <pattern>', 'pause the followers whose cluster/index or index matches this glob (* and ?)')
    .action(async (followerArg: string | undefined, opts: FleetOptions) => pauseOrResume('paused', followerArg, opts));

  withFollowParams(program.command('resume')
    .description('resume a paused follower from its checkpoints; given parameters replace the stored ones')
    .argument('[follower]', 'follower index, e.g. follower/orders')
    .option('--all', 'resume every follower index')
    .option('--match <pattern>', 'resume the followers whose cluster/index or index matches this glob (* and ?)'))
    .action(async (followerArg: string | undefined, opts: FleetOptions & Record<string, unknown>) => {
      const { all, match, ...params } = opts;
      await pauseOrResume('resumed', followerArg, { all, match } as FleetOptions, followParamsFrom(params));
    });

  program.command('unfollow')
    .description('stop following for good and leave an ordinary index (pause it first, as in CCR)')
    .argument('<follower>', 'follower index, e.g. follower/orders')
    .action(async (followerArg: string) => {
      await (await client()).request('POST', `${targetPath(parseTarget(followerArg, 'the follower'))}/_ccr/unfollow`);
      io.out(`unfollowed ${followerArg}: it is now an ordinary index`);
    });

  program.command('promote')
    .description('the leader is lost: make a follower index (or many, with --all / --match) an ordinary writable index, keeping per shard where it stood (the leader _seq_no it had applied, its own max_seq_no) for a later fail-back, and what may be missing (RPO); works with the leader unreachable')
    .argument('[follower]', 'e.g. follower/orders')
    .option('--all', 'promote every follower index (of --leader), pausing that leader\'s auto-follow patterns first')
    .option('--match <pattern>', 'promote the followers whose cluster/index or index matches this glob (* and ?)')
    .option('--leader <cluster>', 'with --all / --match: only the followers of this leader cluster alias')
    .option('--dry-run', 'with --all / --match: list what would be promoted, change nothing')
    .option('--concurrency <n>', 'with --all / --match: followers promoted at a time (default 8)')
    .option('--json', 'print the promotion record (or the answer) as JSON')
    .action(async (followerArg: string | undefined, opts: PromoteManyOptions & { json?: boolean }) => {
      const many = opts.all === true || opts.match !== undefined;
      if ([followerArg !== undefined, opts.all === true, opts.match !== undefined].filter(Boolean).length !== 1) {
        throw new UsageError('name one follower (<cluster>/<index>), or give --all or --match <pattern>');
      }
      if (!many && (opts.leader !== undefined || opts.dryRun === true || opts.concurrency !== undefined)) {
        throw new UsageError('--leader, --dry-run and --concurrency go with --all or --match');
      }
      if (many) {
        const result = await requestPromoteMany(await client(), opts);
        // performance.timeOrigin: this process's start, so the wait printed includes starting the command.
        const commandMillis = Date.now() - performance.timeOrigin;
        print(opts.json === true, result, () => renderPromoteMany(result, commandMillis));
        if (!result.succeeded) exitCode = ExitCodes.failed;
        return;
      }
      const answer = await (await client()).request<{ promotion: PromotionRecord }>('POST', `${targetPath(parseTarget(followerArg!, 'the follower'))}/_ccr/promote`);
      print(opts.json === true, answer.promotion, () => renderPromotion(answer.promotion));
    });

  program.command('failback')
    .description('make the old leader index a follower of the promoted one, writing only the difference (needs its promotion record); puts a write block on the old leader first: stop its writers')
    .argument('<promoted>', 'the promoted index, e.g. follower/orders')
    .argument('<old-leader>', 'the old leader index, e.g. leader/orders')
    .option('--lost-writes <file>', 'save the old leader\'s writes that never reached the promoted index (NDJSON), before anything is overwritten; needed when there are any')
    .option('--dry-run', 'count per shard what would be copied, put back and deleted, and save the lost writes; change nothing')
    .option('--json', 'print the answer as JSON')
    .action(async (promotedArg: string, oldLeaderArg: string, opts: FailbackOptions & { json?: boolean }) => {
      const answer = await requestFailback(await client(), promotedArg, oldLeaderArg, opts);
      print(opts.json === true, answer, () => renderFailback(answer, promotedArg, oldLeaderArg));
    });

  program.command('switchover')
    .description('a planned move: write block on the leader, wait until the follower has everything, promote it, fail the old leader back to follow it; prints the write downtime. The other way round is the switch back')
    .argument('<leader>', 'the leader index, e.g. leader/orders')
    .argument('<follower>', 'its follower index, e.g. follower/orders')
    .option('--lost-writes <file>', 'passed to the fail-back (needed only if the old leader had writes the follower lacks)')
    .option('--json', 'print the answer as JSON')
    .action(async (leaderArg: string, followerArg: string, opts: { lostWrites?: string; json?: boolean }) => {
      const answer = await requestSwitchover(await client(), leaderArg, followerArg, opts);
      print(opts.json === true, answer, () => renderSwitchover(answer, leaderArg, followerArg));
    });

  program.command('stats')
    .description('replication stats, per follower index (and per shard with --json)')
    .argument('[follower]', 'one follower index, e.g. follower/orders (default: all)')
    .option('--json', 'print the API answer as JSON')
    .option('--watch', 'refresh until interrupted (in place on a terminal, appended otherwise)')
    .option('--interval <duration>', 'refresh interval of --watch', '2s')
    .option('--count <n>', 'with --watch: stop after n refreshes', (v) => Number(v))
    .action(async (followerArg: string | undefined, opts: { json?: boolean; watch?: boolean; interval?: string; count?: number }) => {
      const c = await client();
      const fetchStats = async (): Promise<FollowerIndexStats[]> => followerArg === undefined
        ? (await c.request<{ follow_stats: { indices: FollowerIndexStats[] } }>('GET', '/_ccr/stats')).follow_stats.indices
        : (await c.request<{ indices: FollowerIndexStats[] }>('GET', `${targetPath(parseTarget(followerArg, 'the follower'))}/_ccr/stats`)).indices;
      if (opts.watch !== true) {
        const indices = await fetchStats();
        print(opts.json === true, { indices }, () => renderStats(indices));
        return;
      }
      if (opts.count !== undefined && !(Number.isInteger(opts.count) && opts.count > 0)) throw new UsageError('--count must be a positive integer');
      const intervalMs = durationOption(opts.interval, '--interval');
      await runWatch({
        render: async () => {
          const indices = await fetchStats();
          return opts.json === true ? JSON.stringify({ indices }) : renderStats(indices);
        },
        out: io.out, tty: opts.json === true ? undefined : io.tty, intervalMs, count: opts.count, sleep: (ms) => sleep(ms),
      });
    });

  program.command('info')
    .description('follower indices with their leader, status and parameters')
    .argument('[follower]', 'one follower index, e.g. follower/orders (default: all)')
    .option('--json', 'print the API answer as JSON')
    .action(async (followerArg: string | undefined, opts: { json?: boolean }) => {
      const path = followerArg === undefined ? '/_ccr/info' : `${targetPath(parseTarget(followerArg, 'the follower'))}/_ccr/info`;
      const infos = (await (await client()).request<{ follower_indices: CcrFollowerInfo[] }>('GET', path)).follower_indices.map(cliInfo);
      print(opts.json === true, { follower_indices: infos }, () => renderInfo(infos));
    });

  program.command('daemons')
    .description('the live daemons sharing the state: id, host, pid, control address, version, uptime, leases held, last heartbeat')
    .option('--json', 'print the API answer as JSON')
    .action(async (opts: { json?: boolean }) => {
      const answer = await (await client()).request<{ daemons: DaemonRow[] }>('GET', '/_fleet/daemons');
      print(opts.json === true, answer, () => renderDaemons(answer.daemons));
    });

  registerAutoFollowCommands(program, { io, client, print, withFollowParams, followParamsFrom });
  registerClusterMetadataCommands(program, { io, client, print });

  const verify = program.command('verify')
    .description('compare two indices shard by shard (counts, missing or extra ids, different _source or routing); works without the daemon, on any two indices; exit 0 only when identical. '
      + 'With --metadata, compare two clusters\' templates, pipelines and policies instead')
    .argument('<leader>', 'e.g. leader/orders (with --metadata: the leader cluster alias)')
    .argument('<follower>', 'e.g. follower/orders (with --metadata: the follower cluster alias)')
    .option('--json', 'print the report as JSON')
    .option('--sample <n>', 'compare only n random documents per shard (counts are always compared)', (v) => Number(v))
    .option('--metadata', 'compare index and component templates and ingest pipelines (all, or those the options below name), as a cluster-metadata pattern keeps them');
  for (const [, , flags, what] of METADATA_KIND_OPTIONS) verify.option(flags, `with --metadata: ${what} to compare (repeatable, a leading - excludes)`, collectValues);
  verify.action(async (leaderArg: string, followerArg: string, opts: { json?: boolean; sample?: number; metadata?: boolean } & Record<string, unknown>) => {
      if (opts.metadata === true) {
        exitCode = await runVerifyMetadata({ configFile: program.opts<GlobalOptions>().config, leader: leaderArg, follower: followerArg, kinds: metadataKindsFrom(opts), json: opts.json === true, io });
        return;
      }
      exitCode = await runVerify({
        configFile: program.opts<GlobalOptions>().config, leader: parseTarget(leaderArg, 'the leader'), follower: parseTarget(followerArg, 'the follower'),
        json: opts.json === true, sample: opts.sample, io,
      });
    });

  const state = program.command('state').description('the daemon\'s persistent state (follows, checkpoints, auto-follow patterns)');
  state.command('migrate')
    .description('with the daemon stopped, copy the state between the local state directory (daemon.state_dir) and the state index of daemon.state.cluster; the source is left unchanged and the destination must be empty')
    .requiredOption('--to <backend>', 'cluster: from the directory into the state index; local: from the state index into the directory', parseBackend)
    .action(async (opts: { to: StateBackend }) => {
      exitCode = await runStateMigrate({ configFile: program.opts<GlobalOptions>().config, to: opts.to, io });
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

interface FleetOptions { all?: boolean; match?: string }

function durationOption(value: unknown, name: string): number {
  try {
    const ms = parseDuration(String(value));
    if (ms > 0) return ms;
  } catch {
    // Reported below as a usage error, with the option's name.
  }
  throw new UsageError(`${name} must be a positive duration such as 500ms or 2s; got "${String(value)}"`);
}

function withFollowParams(cmd: Command): Command {
  for (const [name, [kind, def, help]] of Object.entries(FOLLOW_PARAMS)) {
    const flag = `--${name.replaceAll('_', '-')}`;
    if (kind === 'boolean') {
      cmd.addOption(new Option(`${flag} <true|false>`, `${help} (default ${def === 1 ? 'true' : 'false'})`).argParser((value) => {
        if (value === 'true' || value === 'false') return value === 'true';
        throw new UsageError(`${flag} must be true or false; got "${value}"`);
      }));
      continue;
    }
    const unit = kind === 'bytes' ? 'size' : kind === 'duration' ? 'duration' : 'n';
    cmd.addOption(new Option(`${flag} <${unit}>`, `${help} (default ${def}${kind === 'duration' ? 'ms' : kind === 'bytes' ? ' bytes' : ''})`));
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
