/**
 * The `ccr-follow` command as users run it: `node bin/ccr-follow.js …` in a child process (so the
 * tests see the real exit status, stdout and stderr), and the daemon as a long-running child.
 * bin/ccr-follow.js loads the compiled CLI from dist/, so build first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { waitFor } from './wait-for.js';

/** bin/ccr-follow.js, from dist/test/helpers/ (compiled) — the repository root is three levels up. */
export const CLI_PATH = fileURLToPath(new URL('../../../bin/ccr-follow.js', import.meta.url));
export const REPO_ROOT = dirname(dirname(CLI_PATH));

export interface CliOptions {
  /** Merged over this process's environment; an `undefined` value removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default: the repository root. */
  readonly cwd?: string;
  /** Kill the command (SIGKILL) and fail after this long; default 60 s. */
  readonly timeoutMs?: number;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/**
 * The child's environment: ours, without CCR_FOLLOW_CONFIG (a developer's own config must not
 * leak into a test), then `overrides`.
 */
function childEnv(overrides: CliOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['CCR_FOLLOW_CONFIG'];
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs `ccr-follow <args>` to completion. Rejects (with the output so far) on timeout or a signal. */
export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: opts.cwd ?? REPO_ROOT, env: childEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run ccr-follow ${args.join(' ')}: ${err.message}`));
    });
    // 'close', not 'exit': the output streams are complete then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const durationMs = Date.now() - started;
      if (code === null) {
        const why = timedOut ? `did not finish within ${timeoutMs} ms` : `was killed by ${signal}`;
        reject(new Error(`ccr-follow ${args.join(' ')} ${why}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
        return;
      }
      resolve({ code, stdout, stderr, durationMs });
    });
  });
}

export interface CliDaemon {
  readonly pid: number;
  /** The control API, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** What the daemon wrote to stdout and stderr so far. */
  output(): string;
  /** Set once the process has exited. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /**
   * SIGTERM by pid and wait for the exit (SIGKILL after `forceAfterMs`, default 30 s). Resolves to
   * the exit status; idempotent.
   */
  stop(forceAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `ccr-follow daemon --config <configFile>` and waits until its control API at `controlUrl`
 * answers. Fails with the daemon's output if it exits first or does not answer within `timeoutMs`
 * (default 30 s).
 */
export async function startCliDaemon(configFile: string, controlUrl: string, opts: CliOptions = {}): Promise<CliDaemon> {
  const child: ChildProcess = spawn(process.execPath, [CLI_PATH, 'daemon', '--config', configFile], {
    cwd: opts.cwd ?? REPO_ROOT, env: childEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  let exit: CliDaemon['exit'];
  const exited = new Promise<NonNullable<CliDaemon['exit']>>((resolve) => {
    child.once('close', (code, signal) => resolve((exit = { code, signal })));
    child.once('error', (err) => {
      output += `\n[spawn error] ${err.message}`;
      resolve((exit = { code: null, signal: null }));
    });
  });
  let stopping: Promise<NonNullable<CliDaemon['exit']>> | undefined;
  const daemon: CliDaemon = {
    pid: child.pid ?? -1,
    url: controlUrl,
    output: () => output,
    get exit() {
      return exit;
    },
    stop(forceAfterMs = 30_000) {
      stopping ??= (async () => {
        if (exit) return exit;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), forceAfterMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
  try {
    // A probe that throws means "not yet"; an exited daemon ends the wait at once instead.
    await waitFor(async () => {
      if (exit) return 'exited';
      const res = await fetch(`${controlUrl}/`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return res.ok && 'answering';
    }, { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 100, message: () => `the daemon's control API at ${controlUrl}; its output:\n${output}` });
    if (exit) throw new Error(`the daemon exited (${JSON.stringify(exit)}) before its control API answered; its output:\n${output}`);
  } catch (err) {
    await daemon.stop(5_000);
    throw err;
  }
  return daemon;
}
