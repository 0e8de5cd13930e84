/**
 * Makes sure a distribution is unpacked in the local cache, fetching it from Maven Central with
 * `mvn` when it is not. The unpacked tree is shared by every node and never written to by them.
 *
 * An unpack happens in a temp dir inside the cache and is renamed into place at the end, so a
 * directory with the final name is always complete: an interrupted run leaves only a `.tmp-*` dir.
 */
import { execFile } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { LocalClusterError, resolveJavaHome, type Distribution, type JavaLookupOptions } from './distributions.js';

export interface FetchOptions extends JavaLookupOptions {
  /** Defaults to `defaultCacheDir(env)`. */
  readonly cacheDir?: string;
  readonly log?: (msg: string) => void;
  /** Maven may have to download ~160 MB; this only guards against a hang. */
  readonly mvnTimeoutMs?: number;
  readonly unzipTimeoutMs?: number;
}

export interface LocalDistribution {
  readonly distribution: Distribution;
  /** The unpacked distribution (contains bin/, config/, lib/, modules/). */
  readonly home: string;
  /** The JDK that starts it. */
  readonly javaHome: string;
}

/**
 * `CCR_FOLLOW_CACHE`, else `~/.cache/ccr-follow/distributions`. As root the nodes run as an
 * unprivileged user who cannot enter /root (mode 700), so root defaults to /var/cache instead.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['CCR_FOLLOW_CACHE'];
  if (fromEnv) return fromEnv;
  if (process.getuid?.() === 0) return '/var/cache/ccr-follow/distributions';
  return join(homedir(), '.cache', 'ccr-follow', 'distributions');
}

// Parallel starts of two nodes of one distribution must share one fetch, not race two.
const inFlight = new Map<string, Promise<string>>();

/** The JDK is checked first so a missing one is reported before a long download. */
export async function ensureDistribution(dist: Distribution, opts: FetchOptions = {}): Promise<LocalDistribution> {
  const javaHome = resolveJavaHome(dist, opts);
  const cacheDir = opts.cacheDir ?? defaultCacheDir(opts.env);
  const key = join(cacheDir, dist.dirName);
  let pending = inFlight.get(key);
  if (!pending) {
    pending = fetchAndUnpack(dist, cacheDir, opts).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return { distribution: dist, home: await pending, javaHome };
}

async function fetchAndUnpack(dist: Distribution, cacheDir: string, opts: FetchOptions): Promise<string> {
  const home = join(cacheDir, dist.dirName);
  if (existsSync(join(home, dist.startScript))) return home;

  const env = opts.env ?? process.env;
  const mvn = await findOnPath('mvn', env);
  if (!mvn) throw new LocalClusterError(`mvn not found on PATH; it is needed to fetch ${dist.mavenCoordinates}`);
  const unzip = await findOnPath('unzip', env);
  if (!unzip) throw new LocalClusterError(`unzip not found on PATH; it is needed to unpack ${dist.mavenCoordinates}`);

  await mkdir(cacheDir, { recursive: true });
  const tmp = await mkdtemp(join(cacheDir, `.tmp-${dist.dirName}-`));
  try {
    opts.log?.(`fetching ${dist.mavenCoordinates} with maven into ${cacheDir}`);
    const started = Date.now();
    const mvnResult = await run(mvn, ['-q', '-B', 'dependency:copy', `-Dartifact=${dist.mavenCoordinates}`, `-DoutputDirectory=${tmp}`], {
      env,
      timeoutMs: opts.mvnTimeoutMs ?? 15 * 60_000,
    });
    if (mvnResult.timedOut) {
      throw new LocalClusterError(`Maven did not fetch ${dist.mavenCoordinates} within ${seconds(mvnResult.elapsedMs)}: ${mavenSummary(mvnResult.output)}`);
    }
    const zip = join(tmp, dist.zipName);
    if (mvnResult.code !== 0 || !existsSync(zip)) {
      throw new LocalClusterError(`Maven could not fetch ${dist.mavenCoordinates}: ${mavenSummary(mvnResult.output)}`);
    }
    opts.log?.(`fetched ${dist.zipName} in ${seconds(Date.now() - started)}; unpacking`);

    const unpacked = join(tmp, 'unpacked');
    const unzipResult = await run(unzip, ['-q', zip, '-d', unpacked], { env, timeoutMs: opts.unzipTimeoutMs ?? 5 * 60_000 });
    if (unzipResult.code !== 0 || unzipResult.timedOut) {
      throw new LocalClusterError(`unzip of ${zip} failed: ${lastLines(unzipResult.output, 10)}`);
    }
    const tree = join(unpacked, dist.dirName);
    if (!existsSync(join(tree, dist.startScript))) {
      const top = await readdir(unpacked).catch(() => []);
      throw new LocalClusterError(`${dist.zipName} has no ${dist.dirName}/${dist.startScript} (top level: ${top.join(', ')})`);
    }
    // Nodes may run as another (unprivileged) user: everyone reads, nobody but the owner writes.
    const chmod = await run('chmod', ['-R', 'a+rX,go-w', tree], { env, timeoutMs: 60_000 });
    if (chmod.code !== 0) throw new LocalClusterError(`chmod of ${tree} failed: ${lastLines(chmod.output, 5)}`);

    try {
      await rename(tree, home);
    } catch (err) {
      // Another process finished the same unpack first: theirs is complete, use it.
      if (!existsSync(join(home, dist.startScript))) {
        throw new LocalClusterError(`could not move ${tree} to ${home}: ${String(err)}`, { cause: err });
      }
    }
    return home;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function findOnPath(command: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

interface RunResult {
  readonly code: number | null;
  readonly output: string;
  readonly timedOut: boolean;
  readonly elapsedMs: number;
}

/** Runs a command to completion, stdout+stderr merged, killed after `timeoutMs`. */
function run(file: string, args: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(file, args, { env: opts.env, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      const elapsedMs = Date.now() - started;
      if (!err) return resolve({ code: 0, output, timedOut: false, elapsedMs });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
      const timedOut = e.killed === true && elapsedMs >= opts.timeoutMs;
      resolve({ code: typeof e.code === 'number' ? e.code : null, output: output || e.message, timedOut, elapsedMs });
    });
  });
}

// Maven colours its output even with -B on some versions; strip the escapes from messages.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * Maven's real cause is the first `[ERROR]` line; the lines after it are generic advice. Falls
 * back to the last lines of output when there is no such line.
 */
function mavenSummary(output: string): string {
  const clean = output.replace(ANSI, '');
  const firstError = clean.split('\n').map((l) => l.trim()).find((l) => /^\[ERROR\]\s*\S/.test(l));
  return firstError ?? lastLines(clean, 10);
}

export function lastLines(text: string, n: number): string {
  return text.replace(ANSI, '').trimEnd().split('\n').slice(-n).join('\n');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
