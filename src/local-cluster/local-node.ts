/**
 * One single-node Elasticsearch or OpenSearch cluster on loopback, started from a cached
 * distribution. Used by `quickstart` and by the test harness.
 *
 * Layout of `<baseDir>/<name>/`: `config/` (a private copy of the distribution's config, so the
 * shared distribution stays read-only), `data/`, `logs/`, `tmp/`, and `node.log` (the launcher's
 * stdout and stderr).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { LocalClusterError, type Distribution, type Flavor } from './distributions.js';
import { ensureDistribution, lastLines, type LocalDistribution } from './fetch-distribution.js';

export interface LocalNodeOptions {
  /** Also the cluster and node name, and the node's directory under `baseDir`. */
  readonly name: string;
  readonly distribution: Distribution;
  readonly baseDir: string;
  /** Picked free on first start when absent, then kept for restarts. */
  readonly httpPort?: number;
  readonly transportPort?: number;
  /** JVM heap, e.g. '512m' (the default). */
  readonly heap?: string;
  /** Extra `-E key=value` settings; they replace defaults with the same key. */
  readonly extraSettings?: Readonly<Record<string, string>>;
  readonly log?: (msg: string) => void;
  /** Deadline for the node to answer cluster health; default 120 s. */
  readonly startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL; default 20 s. */
  readonly stopTimeoutMs?: number;
  /** Distribution cache; default `defaultCacheDir()`. */
  readonly cacheDir?: string;
  /** Environment for the fetch and the node (CCR_FOLLOW_JAVA_HOME, PATH, …); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * For a node whose HTTP layer serves TLS (set up through `extraSettings`, e.g.
   * `xpack.security.http.ssl.*`): `url` becomes https:// and the start probes trust `ca` (PEM).
   * Only the probes change; certificates and settings are the caller's.
   */
  readonly https?: { readonly ca: string };
}

/** The unprivileged user nodes run as when we are root (neither server starts as root). */
export const NODE_USER = 'ccr-follow';

/**
 * Runs the launcher (`$0 "$@"`) under a watchdog. The node is in its own process group, so it
 * would outlive us if we were SIGKILLed (a CI timeout, say), when no handler of ours runs. Our end
 * of the stdin pipe closes whenever we die, however we die; the watchdog then kills the group.
 * The wrapper outlives a SIGTERM to the group (trap) and waits for the launcher, so the JVM stays
 * its child and gets reaped even where PID 1 reaps no orphans (Node as PID 1 in a container).
 * It exits with the launcher's exit code.
 */
const WRAPPER = [
  'trap : TERM INT',
  // sh gives background jobs /dev/null as stdin unless redirected explicitly: keep the pipe as fd 3.
  'exec 3<&0',
  '"$0" "$@" </dev/null 3<&- &',
  'launcher=$!',
  '(read -r _ignored <&3; kill -KILL 0) &',
  'watchdog=$!',
  'exec 3<&-',
  // Always wait once: the shell may already have reaped a launcher that died at once, and then
  // only `wait` still knows its exit code (`kill -0` fails on it).
  'wait "$launcher"; code=$?',
  // A trapped signal interrupts `wait`; keep waiting until the launcher has really exited.
  'while kill -0 "$launcher" 2>/dev/null; do wait "$launcher"; code=$?; done',
  'kill "$watchdog" 2>/dev/null',
  'exit "$code"',
].join('\n');

const LOG_TAIL_LINES = 30;
const POLL_MS = 250;

interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

export class LocalNode {
  readonly name: string;
  readonly distribution: Distribution;
  readonly nodeDir: string;
  readonly logFile: string;
  private readonly opts: LocalNodeOptions;
  private ports: { http: number; transport: number } | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<ExitInfo> | undefined;
  private exitInfo: ExitInfo | undefined;
  private stopping: Promise<void> | undefined;
  private detectedVersion: string | undefined;

  constructor(opts: LocalNodeOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.distribution = opts.distribution;
    this.nodeDir = join(opts.baseDir, opts.name);
    this.logFile = join(this.nodeDir, 'node.log');
    if (opts.httpPort !== undefined && opts.transportPort !== undefined) {
      this.ports = { http: opts.httpPort, transport: opts.transportPort };
    }
  }

  get flavor(): Flavor {
    return this.distribution.flavor;
  }

  /** The version the running node reports (known after the first successful start). */
  get version(): string | undefined {
    return this.detectedVersion;
  }

  get httpPort(): number | undefined {
    return this.ports?.http;
  }

  get transportPort(): number | undefined {
    return this.ports?.transport;
  }

  get url(): string {
    if (!this.ports) throw new LocalClusterError(`node ${this.name} has no port yet: start() it first`);
    return `${this.opts.https ? 'https' : 'http'}://127.0.0.1:${this.ports.http}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  /** Fetches the distribution if needed, starts the node and waits until it answers health. */
  async start(): Promise<void> {
    if (this.running) throw new LocalClusterError(`node ${this.name} is already started (pid ${this.pid})`);
    // A node that died on its own: make sure nothing of its process group is left first.
    if (this.child) await this.stop();
    const local = await ensureDistribution(this.distribution, { cacheDir: this.opts.cacheDir, env: this.opts.env, log: this.opts.log });
    const runAs = await this.prepareNodeDir(local);
    // Ports we picked can be taken by someone else before the JVM binds them; pick again then.
    const pickPorts = this.ports === undefined;
    for (let attempt = 1; ; attempt++) {
      if (pickPorts) {
        const [http, transport] = await findFreePorts(2);
        this.ports = { http: http!, transport: transport! };
      }
      try {
        await this.spawnAndWait(local, runAs);
        return;
      } catch (err) {
        const bindConflict = err instanceof LocalClusterError && /Address already in use|BindException/.test(err.message);
        if (!pickPorts || !bindConflict || attempt >= 3) throw err;
        this.opts.log?.(`${this.name}: port conflict, retrying with other ports`);
      }
    }
  }

  /** SIGTERM to the whole process group, SIGKILL after the stop timeout. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    const child = this.child;
    if (!child?.pid) return;
    const pid = child.pid;
    this.stopping = (async () => {
      signalGroup(pid, 'SIGTERM');
      if (!(await groupGone(pid, this.opts.stopTimeoutMs ?? 20_000))) {
        this.opts.log?.(`${this.name}: still running ${((this.opts.stopTimeoutMs ?? 20_000) / 1000).toFixed(0)} s after SIGTERM; sending SIGKILL`);
        signalGroup(pid, 'SIGKILL');
        if (!(await groupGone(pid, 10_000))) throw new LocalClusterError(`node ${this.name} (process group ${pid}) survived SIGKILL`);
      }
      await this.exited;
      liveNodes.delete(this);
      this.child = undefined;
    })().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** Stops and starts again on the same ports and data directory. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private async prepareNodeDir(local: LocalDistribution): Promise<{ uid: number; gid: number } | undefined> {
    for (const sub of ['data', 'logs', 'tmp']) await mkdir(join(this.nodeDir, sub), { recursive: true });
    const config = join(this.nodeDir, 'config');
    if (!existsSync(config)) await cp(join(local.home, 'config'), config, { recursive: true });
    await this.pointJvmFilesAtLogs(join(config, 'jvm.options'));
    if (process.getuid?.() !== 0) return undefined;

    const ids = await ensureNodeUser();
    await assertReachable(local.home, ids.uid);
    await assertReachable(this.nodeDir, ids.uid);
    await runChecked('chown', ['-R', `${ids.uid}:${ids.gid}`, this.nodeDir]);
    return ids;
  }

  /**
   * jvm.options names gc.log, the error file and heap dumps by relative paths, which the launcher
   * scripts resolve against the distribution (`cd $OPENSEARCH_HOME`), shared and read-only. Point
   * them into this node's logs dir. Idempotent: absolute paths are left alone.
   */
  private async pointJvmFilesAtLogs(jvmOptions: string): Promise<void> {
    if (!existsSync(jvmOptions)) return;
    const logs = join(this.nodeDir, 'logs');
    const text = await readFile(jvmOptions, 'utf8');
    const rewritten = text.replace(/^([^#\n]*?(?:file=|-XX:ErrorFile=|-XX:HeapDumpPath=))(?!\/)([^:\s]+)/gm, (_m, head: string, path: string) =>
      `${head}${join(logs, path.replace(/^(?:logs|data)(?:\/|$)/, ''))}`,
    );
    if (rewritten !== text) await writeFile(jvmOptions, rewritten);
  }

  private async spawnAndWait(local: LocalDistribution, runAs: { uid: number; gid: number } | undefined): Promise<void> {
    const { distribution: dist } = local;
    const args = Object.entries(this.settings()).flatMap(([key, value]) => ['-E', `${key}=${value}`]);
    const heap = this.opts.heap ?? '512m';
    const env: NodeJS.ProcessEnv = {
      ...(this.opts.env ?? process.env),
      [dist.env.pathConf]: join(this.nodeDir, 'config'),
      [dist.env.javaHome]: local.javaHome,
      JAVA_HOME: local.javaHome,
      [dist.env.javaOpts]: `-Xms${heap} -Xmx${heap}`,
      [dist.env.tmpDir]: join(this.nodeDir, 'tmp'),
      ...(runAs ? { HOME: this.nodeDir, USER: NODE_USER, LOGNAME: NODE_USER } : {}),
    };
    const script = join(local.home, dist.startScript);

    // The child writes straight into the file, so its output is kept even if we die first.
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      writeSync(fd, `\n=== ${new Date().toISOString()} ${script} ${args.join(' ')}\n`);
      // detached: the node gets its own process group, so stop() also reaches the server JVM
      // that ES 8's launcher forks. stdin is a pipe only the watchdog in WRAPPER reads.
      child = spawn('/bin/sh', ['-c', WRAPPER, script, ...args], {
        cwd: this.nodeDir,
        env,
        detached: true,
        stdio: ['pipe', fd, fd],
        ...(runAs ?? {}),
      });
    } catch (err) {
      throw new LocalClusterError(`could not start ${script} for ${this.name}: ${String(err)}`, { cause: err });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.exitInfo = undefined;
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
    }).then((info) => (this.exitInfo = info));
    if (child.pid !== undefined) {
      liveNodes.add(this);
      installCleanupHandlers();
    }
    this.opts.log?.(`${this.name}: started ${dist.flavor} ${dist.version} pid ${child.pid} on ${this.url} (log ${this.logFile})`);

    try {
      await this.waitHealthy();
      this.detectedVersion = await this.fetchVersion();
    } catch (err) {
      await this.stop().catch(() => undefined);
      this.child = undefined;
      throw err;
    }
  }

  private settings(): Record<string, string> {
    const dist = this.distribution;
    const ports = this.ports!;
    // One object so an extra setting replaces a default instead of repeating the key (a
    // repeated -E key is a startup error).
    return {
      'cluster.name': this.name,
      'node.name': this.name,
      'discovery.type': 'single-node',
      'network.host': '127.0.0.1',
      'http.port': String(ports.http),
      'transport.port': String(ports.transport),
      'path.data': join(this.nodeDir, 'data'),
      'path.logs': join(this.nodeDir, 'logs'),
      // Disks of dev machines and CI runners are often fuller than the default watermarks allow,
      // which would make test indices read-only.
      'cluster.routing.allocation.disk.threshold_enabled': 'false',
      ...(dist.flavor === 'elasticsearch' && dist.major >= 8 ? { 'xpack.security.enabled': 'false' } : {}),
      ...this.opts.extraSettings,
    };
  }

  private async waitHealthy(): Promise<void> {
    const timeoutMs = this.opts.startTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    const healthUrl = `${this.url}/_cluster/health?wait_for_status=yellow&timeout=1s`;
    let last = 'no answer yet';
    while (true) {
      if (this.exitInfo) throw await this.failure(`exited (${describeExit(this.exitInfo)}) before becoming healthy`);
      try {
        const res = await getJson(healthUrl, 5_000, this.opts.https?.ca);
        const body = res.body as { status?: string } | undefined;
        if (res.ok && (body?.status === 'green' || body?.status === 'yellow')) return;
        last = `HTTP ${res.status} status=${body?.status ?? '?'}`;
      } catch (err) {
        last = String((err as { cause?: unknown }).cause ?? err);
      }
      if (Date.now() >= deadline) {
        throw await this.failure(`did not become healthy within ${(timeoutMs / 1000).toFixed(1)} s (last: ${last})`);
      }
      await Promise.race([delay(POLL_MS), this.exited]);
    }
  }

  private async fetchVersion(): Promise<string> {
    const res = await getJson(`${this.url}/_nodes/_local?filter_path=nodes.*.version`, 10_000, this.opts.https?.ca);
    const body = (res.body ?? {}) as { nodes?: Record<string, { version?: string }> };
    const version = Object.values(body.nodes ?? {})[0]?.version;
    if (!res.ok || !version) throw await this.failure(`answered ${res.status} without a version to GET /_nodes/_local`);
    return version;
  }

  private async failure(what: string): Promise<LocalClusterError> {
    const log = await readFile(this.logFile, 'utf8').catch(() => '');
    const dist = this.distribution;
    return new LocalClusterError(
      `${dist.flavor} ${dist.version} node ${this.name} ${what}; last lines of ${this.logFile}:\n${lastLines(log, LOG_TAIL_LINES)}`,
    );
  }
}

/**
 * GET `url`, its JSON body (undefined when not JSON). Over https with `ca` through node:https,
 * because `fetch` takes no CA of its own; over http with `fetch`, as before.
 */
async function getJson(url: string, timeoutMs: number, ca: string | undefined): Promise<{ ok: boolean; status: number; body: unknown }> {
  if (ca === undefined) {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { ok: res.ok, status: res.status, body: await res.json().catch(() => undefined) };
  }
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ca, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', reject);
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 300, status, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/**
 * `count` distinct free TCP ports on 127.0.0.1. All are held open together so the kernel cannot
 * hand out one twice, then released for the node to bind.
 */
export async function findFreePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => {
      const address = s.address();
      if (address === null || typeof address === 'string') throw new LocalClusterError('could not read a bound port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

// --- running as an unprivileged user when we are root -------------------------------------------

let nodeUser: Promise<{ uid: number; gid: number }> | undefined;

/** Creates the system user once (as `useradd --system`), memoised for the process. */
function ensureNodeUser(): Promise<{ uid: number; gid: number }> {
  nodeUser ??= (async () => {
    const existing = await lookupUser();
    if (existing) return existing;
    const add = await runCommand('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', NODE_USER]);
    // Exit 9 = the name exists: another process created it meanwhile, which is fine.
    const created = await lookupUser();
    if (!created) throw new LocalClusterError(`could not create user ${NODE_USER} to run the nodes (useradd: ${add.output.trim() || `exit ${add.code}`})`);
    return created;
  })();
  nodeUser.catch(() => (nodeUser = undefined));
  return nodeUser;
}

async function lookupUser(): Promise<{ uid: number; gid: number } | undefined> {
  const uid = await runCommand('id', ['-u', NODE_USER]);
  const gid = await runCommand('id', ['-g', NODE_USER]);
  if (uid.code !== 0 || gid.code !== 0) return undefined;
  return { uid: Number(uid.output.trim()), gid: Number(gid.output.trim()) };
}

/**
 * The node user must be able to enter every directory above `dir`; /root (mode 700) is the usual
 * trap. Failing here names the directory instead of leaving a JVM "permission denied" to decode.
 */
async function assertReachable(dir: string, uid: number): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    const st = await stat(d);
    if (st.uid !== uid && (st.mode & 0o001) === 0) {
      throw new LocalClusterError(
        `${dir} is not reachable by user ${NODE_USER}: ${d} has mode ${(st.mode & 0o777).toString(8)}. ` +
          'Use a cache (CCR_FOLLOW_CACHE) and base directory outside it.',
      );
    }
    if (d === dirname(d)) return;
  }
}

function runCommand(file: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, output: `${stdout}${stderr}` || (err?.message ?? '') });
    });
  });
}

async function runChecked(file: string, args: string[]): Promise<void> {
  const result = await runCommand(file, args);
  if (result.code !== 0) throw new LocalClusterError(`${file} ${args.join(' ')} failed: ${result.output.trim()}`);
}

// --- process groups --------------------------------------------------------------------------

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls until no process is left in the group (the leader counts until Node reaps it). */
async function groupGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(100);
  }
  return true;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeExit(info: ExitInfo): string {
  if (info.error) return `spawn failed: ${info.error.message}`;
  return info.signal ? `signal ${info.signal}` : `code ${info.code}`;
}

// --- cleanup on exit -------------------------------------------------------------------------

/*
 * Why a module-level registry: nodes run in their own process groups (see spawn above), so they
 * neither get the terminal's Ctrl-C nor die with us. Without this, an interrupted test run or a
 * crashed quickstart would leave JVMs holding ports and 512 MB each. It is used for nothing else.
 */
const liveNodes = new Set<LocalNode>();
let cleanupInstalled = false;

function killAllNow(): void {
  for (const node of liveNodes) if (node.pid !== undefined) signalGroup(node.pid, 'SIGKILL');
}

function installCleanupHandlers(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  // 'exit' runs synchronous code only: SIGKILL whatever is still up.
  process.on('exit', killAllNow);
  let interrupted = false;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      // If the program has its own handler (e.g. a daemon's graceful shutdown), it decides when
      // to exit; our 'exit' handler still kills any node it forgets.
      if (process.listenerCount(signal) > 1) return;
      if (interrupted) {
        killAllNow();
        process.exit(code);
      }
      interrupted = true;
      const stops = Promise.allSettled([...liveNodes].map((node) => node.stop()));
      void Promise.race([stops, delay(15_000)]).then(() => {
        killAllNow();
        process.exit(code);
      });
    });
  }
}
