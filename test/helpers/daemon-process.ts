/**
 * The real `ccr-follow daemon` as a child process, for tests that need what an in-process daemon
 * cannot give: a crash (SIGKILL) with no cleanup at all, a restart on the same state directory,
 * and the daemon's own memory use (RSS).
 *
 * `DaemonProcess.start()` writes a YAML config (clusters `leader` and `follower`, a state dir, a
 * free control port, a log file, and `daemon.control.token` when `controlToken` is given) into a
 * fresh temp dir, spawns `node bin/ccr-follow.js daemon
 * --config <file>` from the repository root and waits until the control API answers `GET /`.
 *
 * Every child started here is remembered until it exits: `stopAllDaemonProcesses()` (call it from
 * an `after` hook) ends the survivors, and a process `exit` handler SIGKILLs any left by pid, so a
 * failing or interrupted run never leaves a daemon replicating in the background.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { ClusterConfig } from '../../src/cluster/cluster-config.js';
import { findFreePorts } from '../../src/local-cluster/index.js';
import type { FollowerIndexStats } from '../../src/follow/index-follower.js';
import type { LogLevel } from '../../src/util/logger.js';
import type { TestCluster } from './clusters.js';
import { waitFor } from './wait-for.js';

/** dist/test/helpers/ → the repository root, where bin/ccr-follow.js and dist/ live. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(REPO_ROOT, 'bin', 'ccr-follow.js');
const DEFAULT_START_TIMEOUT_MS = 30_000;
const DEFAULT_EXIT_TIMEOUT_MS = 70_000;
/** Attempts when the free port we picked was taken by someone else before the daemon bound it. */
const PORT_ATTEMPTS = 3;

export interface DaemonProcessOptions {
  readonly leader: TestCluster;
  readonly follower: TestCluster;
  /** Reuse a state directory (a restart); default: a new one inside this daemon's temp dir. */
  readonly stateDir?: string;
  readonly logLevel?: LogLevel;
  readonly startTimeoutMs?: number;
  /** Extra `node` flags for the daemon, e.g. `--max-old-space-size=256`. */
  readonly nodeArgs?: readonly string[];
  /**
   * `daemon.control.token`: the control API then wants `Authorization: Bearer <token>`, which
   * the readiness probe and `api()` send. It is written to the config through `${VAR}` and passed
   * in the daemon's environment, as an operator would.
   */
  readonly controlToken?: string;
  /**
   * `daemon.state.cluster: follower` with this index: the state in the follower cluster, shared
   * with every other daemon given the same index (leases).
   */
  readonly stateIndex?: string;
  /** `daemon.lease_timeout`, e.g. `6s` (with `stateIndex`). */
  readonly leaseTimeout?: string;
}

/** The variable the test config reads the control token from. */
const CONTROL_TOKEN_VAR = 'CCR_TEST_CONTROL_TOKEN';

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A control API answer outside 2xx. */
export class DaemonApiError extends Error {
  override readonly name = 'DaemonApiError';
  constructor(readonly method: string, readonly path: string, readonly status: number, readonly body: unknown) {
    super(`${method} ${path} answered ${status}: ${JSON.stringify(body)}`);
  }
}

/** Children not yet seen to exit. */
const live = new Set<DaemonProcess>();
/** Temp dirs made here, removed by stopAllDaemonProcesses() (kept with CCR_TEST_KEEP_DIRS=1). */
const tempDirs = new Set<string>();

process.on('exit', () => {
  // Last resort (mocha --exit, an uncaught error): nothing async runs here, so kill by pid.
  for (const daemon of live) {
    try {
      process.kill(daemon.pid, 'SIGKILL');
    } catch {
      // Already gone: nothing to kill.
    }
  }
});

export class DaemonProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<ExitStatus>;
  #exitStatus: ExitStatus | undefined;

  private constructor(
    child: ChildProcess,
    readonly pid: number,
    readonly url: string,
    /** This daemon's temp dir: config, log file, captured stdout/stderr. */
    readonly dir: string,
    readonly stateDir: string,
    readonly configFile: string,
    readonly logFile: string,
    readonly outputFile: string,
    /** The control token the daemon wants, if any. */
    readonly controlToken: string | undefined,
  ) {
    this.#child = child;
    this.#exited = new Promise<ExitStatus>((resolve) => {
      const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.#exitStatus = { code, signal };
        live.delete(this);
        resolve(this.#exitStatus);
      };
      if (child.exitCode !== null || child.signalCode !== null) settle(child.exitCode, child.signalCode);
      else child.once('exit', settle);
    });
    live.add(this);
  }

  /** Spawns a daemon and waits until its control API answers; the daemon's output is in the error if it does not. */
  static async start(opts: DaemonProcessOptions): Promise<DaemonProcess> {
    if (!existsSync(join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'))) {
      throw new Error(`${REPO_ROOT}dist/src/cli/main.js is missing: build first (npx tsc -p tsconfig.json)`);
    }
    const dir = await mkdtemp(join(tmpdir(), 'ccr-follow-daemon-'));
    tempDirs.add(dir);
    const stateDir = opts.stateDir ?? join(dir, 'state');
    for (let attempt = 1; ; attempt += 1) {
      const [port] = await findFreePorts(1);
      const daemon = await DaemonProcess.#spawn(opts, dir, stateDir, port!, attempt);
      try {
        await daemon.#waitReady(opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
        return daemon;
      } catch (err) {
        daemon.kill('SIGKILL');
        await daemon.waitForExit(10_000).catch(() => undefined);
        const output = await daemon.outputText();
        if (attempt < PORT_ATTEMPTS && /EADDRINUSE/.test(output)) continue;
        throw new Error(`${(err as Error).message}\n--- daemon output (${daemon.outputFile}) ---\n${tail(output)}`);
      }
    }
  }

  static async #spawn(opts: DaemonProcessOptions, dir: string, stateDir: string, port: number, attempt: number): Promise<DaemonProcess> {
    const configFile = join(dir, `ccr-follow-${attempt}.yml`);
    const logFile = join(dir, `daemon-${attempt}.log`);
    const outputFile = join(dir, `output-${attempt}.txt`);
    const config = {
      clusters: {
        leader: clusterYaml(opts.leader.clusterConfig('leader')),
        follower: clusterYaml(opts.follower.clusterConfig('follower')),
      },
      daemon: {
        state_dir: stateDir,
        ...(opts.stateIndex !== undefined ? { state: { cluster: 'follower', index: opts.stateIndex } } : {}),
        ...(opts.leaseTimeout !== undefined ? { lease_timeout: opts.leaseTimeout } : {}),
        control: { host: '127.0.0.1', port, ...(opts.controlToken !== undefined ? { token: `\${${CONTROL_TOKEN_VAR}}` } : {}) },
        log: { level: opts.logLevel ?? 'info', file: logFile, format: 'json' },
      },
    };
    await writeFile(configFile, stringify(config), { mode: 0o600 });
    const fd = openSync(outputFile, 'a');
    try {
      const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, 'daemon', '--config', configFile], {
        cwd: REPO_ROOT,
        stdio: ['ignore', fd, fd],
        env: { ...process.env, ...(opts.controlToken !== undefined ? { [CONTROL_TOKEN_VAR]: opts.controlToken } : {}) },
      });
      if (child.pid === undefined) {
        const error = await new Promise<Error>((resolve) => child.once('error', resolve));
        throw new Error(`could not spawn ${BIN}: ${error.message}`);
      }
      return new DaemonProcess(child, child.pid, `http://127.0.0.1:${port}`, dir, stateDir, configFile, logFile, outputFile, opts.controlToken);
    } finally {
      // The child has its own copy of the descriptor.
      closeSync(fd);
    }
  }

  async #waitReady(timeoutMs: number): Promise<void> {
    const outcome = await waitFor(async () => {
      // A daemon that died will never answer: stop waiting at once and say how it ended.
      if (this.#exitStatus) return 'exited';
      const res = await fetch(`${this.url}/`, { headers: this.authHeaders(), signal: AbortSignal.timeout(2_000) });
      const body = (await res.json()) as { name?: string };
      return res.ok && body.name === 'ccr-follow' ? 'ready' : false;
    }, { timeoutMs, intervalMs: 100, message: `the daemon (pid ${this.pid}) to answer GET ${this.url}/` });
    if (outcome === 'exited') {
      throw new Error(`the daemon (pid ${this.pid}) exited before it was ready (${describeExit(this.#exitStatus!)})`);
    }
  }

  /** `Authorization: Bearer <controlToken>` when the daemon has a token, else nothing. */
  authHeaders(): Record<string, string> {
    return this.controlToken === undefined ? {} : { authorization: `Bearer ${this.controlToken}` };
  }

  get exitStatus(): ExitStatus | undefined {
    return this.#exitStatus;
  }

  get running(): boolean {
    return this.#exitStatus === undefined;
  }

  /** Sends `signal` (SIGKILL for a crash, SIGTERM for a graceful stop); no-op once it has exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.#exitStatus) return;
    this.#child.kill(signal);
  }

  /** Resolves with the exit status; rejects if the daemon is still running after `timeoutMs`. */
  async waitForExit(timeoutMs = DEFAULT_EXIT_TIMEOUT_MS): Promise<ExitStatus> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`daemon pid ${this.pid} still running after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.#exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM (graceful: writes land, checkpoints saved), then SIGKILL if it is not gone by the deadline. */
  async stop(timeoutMs = DEFAULT_EXIT_TIMEOUT_MS): Promise<ExitStatus> {
    this.kill('SIGTERM');
    try {
      return await this.waitForExit(timeoutMs);
    } catch {
      this.kill('SIGKILL');
      return this.waitForExit(10_000);
    }
  }

  /** Resident set size of the daemon process, from /proc/<pid>/status (Linux). */
  async rssBytes(): Promise<number> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    if (!match) throw new Error(`no VmRSS line in /proc/${this.pid}/status`);
    return Number(match[1]) * 1024;
  }

  /** The daemon's log file (JSON lines); may lag the console by a moment, and lose a tail on SIGKILL. */
  async logText(): Promise<string> {
    return readFile(this.logFile, 'utf8').catch(() => '');
  }

  /** Everything the process wrote to stdout and stderr (its console log, and any crash). */
  async outputText(): Promise<string> {
    return readFile(this.outputFile, 'utf8').catch(() => '');
  }

  /** One control API call with a JSON body and answer; a status outside 2xx throws `DaemonApiError`. */
  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { ...this.authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (!res.ok) throw new DaemonApiError(method, path, res.status, parsed);
    return parsed as T;
  }

  /**
   * The shard checkpoints of `followerKey` as the daemon last persisted them, read straight from
   * its state directory (`checkpoints/<key>.json`, see src/state/file-state-store.ts). Read-only,
   * so it works while a daemon holds the directory and leaves a crashed daemon's lock in place.
   * `{}` before the first save.
   */
  async persistedCheckpoints(followerKey: string): Promise<Record<number, number>> {
    return readPersistedCheckpoints(this.stateDir, followerKey);
  }
}

export async function readPersistedCheckpoints(stateDir: string, followerKey: string): Promise<Record<number, number>> {
  let text: string;
  try {
    text = await readFile(join(stateDir, 'checkpoints', `${encodeURIComponent(followerKey)}.json`), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const stored = JSON.parse(text) as { shards?: Record<string, number> };
  return Object.fromEntries(Object.entries(stored.shards ?? {}).map(([shard, cp]) => [Number(shard), cp]));
}

/** Ends every daemon started here that still runs (SIGKILL: tests that want a graceful stop call stop()), then removes temp dirs. */
export async function stopAllDaemonProcesses(): Promise<void> {
  const survivors = [...live];
  for (const daemon of survivors) daemon.kill('SIGKILL');
  await Promise.allSettled(survivors.map((d) => d.waitForExit(10_000)));
  if (process.env['CCR_TEST_KEEP_DIRS'] !== '1') {
    const dirs = [...tempDirs];
    tempDirs.clear();
    await Promise.allSettled(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

function clusterYaml(config: ClusterConfig): Record<string, unknown> {
  const auth = config.auth.type === 'basic' ? { username: config.auth.username, password: config.auth.password }
    : config.auth.type === 'api_key' ? { api_key: config.auth.apiKey }
      : config.auth.type === 'bearer' ? { bearer: config.auth.token }
        : undefined;
  return {
    urls: [...config.urls],
    request_timeout: `${config.requestTimeoutMs}ms`,
    ...(auth ? { auth } : {}),
    ...(config.tls ? { tls: { verify: config.tls.rejectUnauthorized, ...(config.tls.ca ? { ca: config.tls.ca } : {}) } } : {}),
  };
}

function describeExit(status: ExitStatus): string {
  return status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The follower index's stats as the daemon's control API reports them. */
export async function followerStats(daemon: DaemonProcess, followerIndex: string): Promise<FollowerIndexStats> {
  const answer = await daemon.api<{ indices: FollowerIndexStats[] }>('GET', `/follower/${followerIndex}/_ccr/stats`);
  const stats = answer.indices[0];
  if (!stats) throw new Error(`no stats for follower/${followerIndex}`);
  return stats;
}

/**
 * Waits until every shard's follower checkpoint, as the daemon reports it, has reached the
 * leader's current global checkpoint (read from the leader itself); fails at once on a fatal error.
 */
export async function waitForDaemonCaughtUp(
  daemon: DaemonProcess, leader: ClusterClient, leaderIndex: string, followerIndex: string, timeoutMs = 120_000,
): Promise<FollowerIndexStats> {
  let last: FollowerIndexStats | undefined;
  const outcome = await waitFor(async () => {
    if (!daemon.running) return { failure: `the daemon exited (${describeExit(daemon.exitStatus!)})` };
    const stats = await followerStats(daemon, followerIndex);
    last = stats;
    if (stats.fatal_exception) return { failure: `follower paused: ${stats.fatal_exception.type}: ${stats.fatal_exception.reason}` };
    const leaderShards = await leader.shardSeqNos(leaderIndex);
    if (stats.shards.length !== leaderShards.length) return false;
    const caughtUp = leaderShards.every((l) => (stats.shards.find((s) => s.shard_id === l.shard)?.follower_global_checkpoint ?? -2) >= l.globalCheckpoint);
    return caughtUp ? { stats } : false;
  }, {
    timeoutMs,
    intervalMs: 200,
    message: () => `follower/${followerIndex} to catch up: ${JSON.stringify(last?.shards.map((s) => [s.follower_global_checkpoint, s.leader_global_checkpoint, s.state]))}`,
  });
  if ('failure' in outcome) throw new Error(outcome.failure);
  return outcome.stats;
}
