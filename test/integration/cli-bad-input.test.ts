/**
 * Bad input to the `ccr-follow` command gets a clear one-line message on stderr
 * and a non-zero exit status from exit-codes.ts (2 for usage and config mistakes found by the CLI,
 * 1 when the daemon or a cluster refuses, 3 when no daemon answers), and it changes nothing: after
 * each refusal the daemon's `GET /_ccr/info` and its state directory are as before, and good
 * follows still work afterwards. Passwords — right or wrong, plain or base64 — never reach the
 * CLI's output, `stats --json` / `info --json`, or the daemon's log.
 *
 * Everything runs as users run it: the daemon is `node bin/ccr-follow.js daemon --config <yaml>`
 * in a child process (own control port, debug log to a file), each command another child.
 * Clusters: esLeader → esFollower, plus the secured Elasticsearch node (file-realm basic auth).
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCodes } from '../../src/cli/exit-codes.js';
import { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { ClusterConfig } from '../../src/cluster/cluster-config.js';
import { findFreePorts } from '../../src/local-cluster/index.js';
import { runCli, startCliDaemon, type CliDaemon, type CliResult } from '../helpers/cli-process.js';
import { testClusters, uniqueName, type TestClusters } from '../helpers/clusters.js';
import { compareIndices, connect, createLeaderIndex } from '../helpers/replication.js';
import { securedCluster, type SecuredCluster } from '../helpers/secured-cluster.js';
import { waitFor } from '../helpers/wait-for.js';

const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;
const ALIASES = 'leader, follower, dead, secured, secured_bad';

interface InfoAnswer {
  follower_indices: { follower_index: string; follower_cluster: string; remote_cluster: string; leader_index: string; status: string; parameters: Record<string, number> }[];
}

describe('ccr-follow CLI: bad input is refused clearly and changes nothing', function () {
  this.timeout(300_000);

  let clusters: TestClusters;
  let secured: SecuredCluster;
  let leader: ClusterClient;
  let follower: ClusterClient;
  let securedLeader: ClusterClient;
  let workDir: string;
  let configFile: string;
  let stateDir: string;
  let logFile: string;
  let controlUrl: string;
  let deadPort: number;
  let daemon: CliDaemon | undefined;
  /** Every daemon run's stdout and stderr, for the final secret scan. */
  const daemonOutputs: string[] = [];
  /** Environment of the daemon and of every command (the config interpolates passwords from it). */
  const cliEnv: Record<string, string> = {};
  const wrongPassword = `wrong-${randomBytes(9).toString('hex')}`;
  /** Strings that must never appear in any output: filled in before(). */
  let secrets: string[] = [];

  const leaderIndex = uniqueName('leader');
  const followerIndex = uniqueName('follower');
  const plainIndex = uniqueName('plain');
  const securedIndex = uniqueName('secured-leader');
  /** Indices to delete after the run: [client getter, name]. */
  const created: [() => ClusterClient | undefined, string][] = [];

  let baselineInfo: InfoAnswer;
  let baselineStateFiles: string[];

  // ---- helpers ------------------------------------------------------------------------------

  async function getInfo(): Promise<InfoAnswer> {
    const res = await fetch(`${controlUrl}/_ccr/info`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status, 'GET /_ccr/info').to.equal(200);
    return (await res.json()) as InfoAnswer;
  }

  async function stateFiles(): Promise<string[]> {
    return (await readdir(join(stateDir, 'followers'))).sort();
  }

  function expectNoSecrets(text: string, where: string): void {
    for (const secret of secrets) expect(text.includes(secret), `${where} contains a password (or its base64 form)`).to.equal(false);
  }

  /** The daemon is alive, its followers and their parameters are as before, and so is its state directory. */
  async function expectStateUnchanged(): Promise<void> {
    expect(daemon?.exit, `the daemon exited; its output:\n${daemon?.output()}`).to.equal(undefined);
    expect(await getInfo()).to.deep.equal(baselineInfo);
    expect(await stateFiles()).to.deep.equal(baselineStateFiles);
  }

  function cli(args: readonly string[], config: string | null = configFile): Promise<CliResult> {
    return runCli(config === null ? args : [...args, '--config', config], { env: cliEnv, cwd: workDir });
  }

  /**
   * Runs a command that must be refused: exit `code`, stdout empty, stderr starting with a one-line
   * `error: …` matching `message`, no stack trace, no secret; then the daemon's state is unchanged.
   */
  async function expectRefused(args: readonly string[], expected: { code: number; message: RegExp; config?: string | null }): Promise<CliResult> {
    const r = await cli(args, expected.config === undefined ? configFile : expected.config);
    const shown = `ccr-follow ${args.join(' ')}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
    expect(r.code, `exit status of ${shown}`).to.equal(expected.code);
    expect(r.stdout, shown).to.equal('');
    expect(r.stderr.split('\n')[0], shown).to.match(/^error: \S/);
    expect(r.stderr, shown).to.match(expected.message);
    expect(r.stderr, shown).not.to.match(STACK_LINE);
    expectNoSecrets(r.stdout + r.stderr, shown);
    await expectStateUnchanged();
    return r;
  }

  async function expectNoIndex(name: string): Promise<void> {
    expect(await follower.indexExists(name), `index ${name} on the follower cluster`).to.equal(false);
  }

  async function writeDocs(client: ClusterClient, index: string, from: number, count: number): Promise<void> {
    const docs = Array.from({ length: count }, (_, i) => ({ op: 'index' as const, id: `doc-${from + i}`, source: { n: from + i, text: `document ${from + i}` } }));
    await client.writeDocuments(index, docs, { refresh: true });
  }

  async function waitIdentical(source: ClusterClient, sourceIndex: string, target: string): Promise<void> {
    let last: string[] = [];
    await waitFor(async () => {
      if (!(await follower.indexExists(target))) return false;
      last = await compareIndices(source, sourceIndex, follower, target);
      return last.length === 0;
    }, { timeoutMs: 90_000, intervalMs: 500, message: () => `follower/${target} to equal ${sourceIndex}: ${last.join('; ')}` });
  }

  /** A cluster entry for the YAML; a password goes through ${ENV} like a user's would. */
  function clusterYaml(alias: string, config: ClusterConfig): string {
    const lines = [`  ${alias}:`, `    url: ${JSON.stringify(config.urls[0])}`, '    request_timeout: 10s'];
    if (config.auth.type === 'basic') {
      const variable = `CCR_TEST_CFG_${alias.toUpperCase()}_PASSWORD`;
      cliEnv[variable] = config.auth.password;
      lines.push('    auth:', `      username: ${JSON.stringify(config.auth.username)}`, `      password: "\${${variable}}"`);
    }
    return lines.join('\n');
  }

  /** The secured node speaks HTTPS with a CA of its own: the config must trust it. */
  function securedTls(): string[] {
    return secured.caFile === undefined ? [] : ['    tls:', `      ca: ${JSON.stringify(secured.caFile)}`];
  }

  async function startDaemon(): Promise<void> {
    daemon = await startCliDaemon(configFile, controlUrl, { env: cliEnv, cwd: workDir });
  }

  async function stopDaemon(): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    if (!daemon) return undefined;
    const stopped = daemon;
    daemon = undefined;
    const status = await stopped.stop();
    daemonOutputs.push(stopped.output());
    return status;
  }

  // ---- setup --------------------------------------------------------------------------------

  before(async function () {
    const started = Date.now();
    [clusters, secured] = await Promise.all([testClusters(), securedCluster()]);
    [leader, follower, securedLeader] = await Promise.all([
      connect(clusters.esLeader, 'leader'), connect(clusters.esFollower, 'follower'), ClusterClient.connect(secured.clusterConfig('secured')),
    ]);
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    secrets = [
      secured.password, wrongPassword,
      b64(secured.password), b64(wrongPassword),
      b64(`${secured.username}:${secured.password}`), b64(`${secured.username}:${wrongPassword}`),
    ];

    workDir = await mkdtemp(join(tmpdir(), 'ccr-follow-cli-bad-input-'));
    configFile = join(workDir, 'ccr-follow.yml');
    stateDir = join(workDir, 'state');
    logFile = join(workDir, 'daemon.log');
    const [controlPort, closedPort] = await findFreePorts(2);
    controlUrl = `http://127.0.0.1:${controlPort}`;
    deadPort = closedPort!;
    cliEnv.CCR_TEST_SECURED_PASSWORD = secured.password;
    cliEnv.CCR_TEST_WRONG_PASSWORD = wrongPassword;
    await writeFile(configFile, [
      'clusters:',
      clusterYaml('leader', clusters.esLeader.clusterConfig('leader')),
      clusterYaml('follower', clusters.esFollower.clusterConfig('follower')),
      '  dead:',
      `    url: http://127.0.0.1:${deadPort}`,
      '    request_timeout: 5s',
      '  secured:',
      `    url: ${JSON.stringify(secured.url)}`,
      '    auth:',
      `      username: ${JSON.stringify(secured.username)}`,
      '      password: "${CCR_TEST_SECURED_PASSWORD}"',
      ...securedTls(),
      '  secured_bad:',
      `    url: ${JSON.stringify(secured.url)}`,
      '    auth:',
      `      username: ${JSON.stringify(secured.username)}`,
      '      password: "${CCR_TEST_WRONG_PASSWORD}"',
      ...securedTls(),
      'daemon:',
      '  state_dir: state',
      '  control:',
      '    host: 127.0.0.1',
      `    port: ${controlPort}`,
      '  log:',
      '    level: debug',
      '    file: daemon.log',
      '',
    ].join('\n'));

    // A leader with documents, and a follower of it started the good way: the baseline state.
    await createLeaderIndex(leader, leaderIndex, { shards: 2 });
    created.push([() => leader, leaderIndex], [() => follower, followerIndex]);
    await writeDocs(leader, leaderIndex, 0, 50);
    await startDaemon();
    const r = await cli(['start', `leader/${leaderIndex}`, `follower/${followerIndex}`]);
    expect(r, r.stderr).to.include({ code: ExitCodes.ok, stdout: `following leader/${leaderIndex} into follower/${followerIndex}\n` });
    await waitIdentical(leader, leaderIndex, followerIndex);
    baselineInfo = await getInfo();
    expect(baselineInfo.follower_indices.map((i) => i.follower_index)).to.deep.equal([followerIndex]);
    baselineStateFiles = await stateFiles();
    expect(baselineStateFiles).to.have.length(1);
    console.log(`      setup (clusters, secured node, daemon, first follow) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  after(async function () {
    const status = await stopDaemon().catch(() => undefined);
    if (status && status.code !== ExitCodes.ok) console.log(`      the daemon exited with ${JSON.stringify(status)}`);
    for (const [client, index] of created) await client()?.deleteIndex(index).catch(() => undefined);
    await Promise.all([leader?.close(), follower?.close(), securedLeader?.close()]);
    if (workDir && process.env['CCR_TEST_KEEP_DIRS'] !== '1') await rm(workDir, { recursive: true, force: true });
  });

  // ---- refused: the cluster alias -------------------------------------------------------------

  it('an unknown cluster alias is refused by name, listing the configured ones', async () => {
    const target = uniqueName('follower');
    await expectRefused(['start', 'nope/x', `follower/${target}`], {
      code: ExitCodes.failed, message: new RegExp(`^error: unknown_cluster_exception: unknown cluster alias \\[nope\\]; configured: ${ALIASES}$`, 'm'),
    });
    await expectRefused(['start', `leader/${leaderIndex}`, `nope/${target}`], {
      code: ExitCodes.failed, message: /unknown cluster alias \[nope\]/,
    });
    await expectRefused(['pause', `nope/${followerIndex}`], { code: ExitCodes.failed, message: /^error: resource_not_found_exception: \[nope\/.+\] is not a follower index$/m });
    await expectNoIndex(target);
  });

  it('a malformed alias/index is a usage error (exit 2) caught before the daemon is asked', async () => {
    for (const [args, text] of [
      [['start', 'leader', 'follower/x'], 'the leader must be written <cluster-alias>/<index>, e.g. leader/orders; got "leader"'],
      [['start', 'leader/a/b', 'follower/x'], 'the leader must be written <cluster-alias>/<index>, e.g. leader/orders; got "leader/a/b"'],
      [['start', `leader/${leaderIndex}`, 'follower'], 'the follower must be written <cluster-alias>/<index>, e.g. leader/orders; got "follower"'],
      [['pause', `/${followerIndex}`], `the follower must be written <cluster-alias>/<index>, e.g. leader/orders; got "/${followerIndex}"`],
    ] as const) {
      const r = await expectRefused(args, { code: ExitCodes.usage, message: /must be written/ });
      expect(r.stderr).to.equal(`error: ${text}\n`);
    }
  });

  // ---- refused: the index names ---------------------------------------------------------------

  it('an invalid index name is refused with the rule it breaks', async () => {
    const target = uniqueName('follower');
    await expectRefused(['start', 'leader/UPPER', `follower/${target}`], {
      code: ExitCodes.failed, message: /^error: illegal_argument_exception: invalid leader index name \[UPPER\]: must be lowercase$/m,
    });
    await expectRefused(['start', 'leader/a*b', `follower/${target}`], {
      code: ExitCodes.failed, message: /^error: illegal_argument_exception: invalid leader index name \[a\*b\]: must not contain '\*'$/m,
    });
    await expectRefused(['start', `leader/${leaderIndex}`, 'follower/Copy'], {
      code: ExitCodes.failed, message: /^error: illegal_argument_exception: invalid follower index name \[Copy\]: must be lowercase$/m,
    });
    await expectRefused(['start', `leader/${leaderIndex}`, 'follower/_copy'], {
      code: ExitCodes.failed, message: /invalid follower index name \[_copy\]: must not start with '-', '_' or '\+'/,
    });
    await expectNoIndex(target);
  });

  it('a missing leader index is refused as not found, and no follower index is created', async () => {
    const missing = uniqueName('missing');
    const target = uniqueName('follower');
    await expectRefused(['start', `leader/${missing}`, `follower/${target}`], {
      code: ExitCodes.failed, message: new RegExp(`^error: index_not_found_exception: leader index \\[${missing}\\] not found on \\[leader\\]$`, 'm'),
    });
    await expectNoIndex(target);
  });

  it('a follower index that exists and is not a follower is refused and left untouched', async () => {
    await follower.createIndex(plainIndex, { settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 0 }, mappings: { properties: { mine: { type: 'keyword' } } } });
    created.push([() => follower, plainIndex]);
    await follower.writeDocuments(plainIndex, [1, 2, 3].map((n) => ({ op: 'index' as const, id: `own-${n}`, source: { mine: `value ${n}` } })), { refresh: true });
    const before = await follower.indexMetadata(plainIndex);

    await expectRefused(['start', `leader/${leaderIndex}`, `follower/${plainIndex}`], {
      code: ExitCodes.failed,
      message: new RegExp(`^error: resource_already_exists_exception: follower index \\[${plainIndex}\\] already exists on \\[follower\\] and is not a follower; choose another name or delete it$`, 'm'),
    });
    const after = await follower.indexMetadata(plainIndex);
    expect(after.mappings).to.deep.equal(before.mappings);
    expect(after.numberOfShards).to.equal(1);
    expect(await follower.countShard(plainIndex, 0)).to.equal(3);

    // …and one that already is a follower.
    await expectRefused(['start', `leader/${leaderIndex}`, `follower/${followerIndex}`], {
      code: ExitCodes.failed, message: new RegExp(`^error: resource_already_exists_exception: \\[follower/${followerIndex}\\] is already a follower index$`, 'm'),
    });
  });

  // ---- refused: the clusters ------------------------------------------------------------------

  it('an unreachable cluster (closed port) is refused quickly as unavailable, naming the alias', async () => {
    const target = uniqueName('follower');
    const asLeader = await expectRefused(['start', 'dead/x', `follower/${target}`], {
      code: ExitCodes.failed, message: /^error: cluster_unavailable_exception: cluster \[dead\]: cluster unreachable: /m,
    });
    expect(asLeader.durationMs, 'a closed port must not hang the command').to.be.below(20_000);
    await expectRefused(['start', `leader/${leaderIndex}`, `dead/${target}`], {
      code: ExitCodes.failed, message: /^error: cluster_unavailable_exception: cluster \[dead\]: cluster unreachable: /m,
    });
    await expectNoIndex(target);
  });

  it('a cluster with a wrong password is refused as an authentication failure, without showing the password', async () => {
    await securedLeader.createIndex(securedIndex, { settings: { 'index.number_of_shards': 2, 'index.number_of_replicas': 0 }, mappings: {} });
    created.push([() => securedLeader, securedIndex]);
    await writeDocs(securedLeader, securedIndex, 0, 30);
    const target = uniqueName('follower');
    const r = await expectRefused(['start', `secured_bad/${securedIndex}`, `follower/${target}`], {
      code: ExitCodes.failed, message: /^error: security_exception: cluster \[secured_bad\]: authentication refused: check the credentials for this cluster/m,
    });
    expect(r.stderr).to.match(/\b401\b/);
    await expectNoIndex(target);
  });

  // ---- refused: the config and the daemon -----------------------------------------------------

  // A malformed config file exits 2, naming the file, line and YAML path: for the daemon and for a command.
  const CONFIG_CASES = [
    {
      name: 'bad YAML',
      file: 'bad-yaml.yml',
      yaml: (port: number) => `daemon:\n  control:\n    port: ${port}\nclusters:\n  leader: {url: http://127.0.0.1:9200\n`,
      message: /^error: .*bad-yaml\.yml:\d+:\d+: malformed YAML: /,
    },
    {
      name: 'unknown key',
      file: 'unknown-key.yml',
      yaml: (port: number) => `daemon:\n  control:\n    port: ${port}\nclusters:\n  leader:\n    url: http://127.0.0.1:9200\n    auth:\n      username: u\n      pasword: "\${CCR_TEST_SECURED_PASSWORD}"\n`,
      message: /^error: .*unknown-key\.yml:9:\d+: clusters\.leader\.auth\.pasword: unknown key \(expected one of: username, password, api_key, bearer\)$/m,
    },
    {
      name: 'bad URL',
      file: 'bad-url.yml',
      yaml: (port: number) => `daemon:\n  control:\n    port: ${port}\nclusters:\n  leader:\n    url: "htp:/127.0.0.1:9200"\n`,
      message: /^error: .*bad-url\.yml:6:\d+: clusters\.leader\.url: expected an http\(s\) URL, got "htp:\/127\.0\.0\.1:9200"$/m,
    },
    {
      name: 'URL with a password in it',
      file: 'url-with-password.yml',
      yaml: (port: number) => `daemon:\n  control:\n    port: ${port}\nclusters:\n  leader:\n    url: "http://ccr_admin:\${CCR_TEST_SECURED_PASSWORD}@127.0.0.1:9200"\n`,
      message: /^error: .*url-with-password\.yml:6:\d+: clusters\.leader\.url: expected a URL without user:password@ \(put credentials under auth\), got "http:\/\/127\.0\.0\.1:9200"$/m,
    },
  ];

  for (const c of CONFIG_CASES) {
    it(`a malformed config file (${c.name}) exits 2 for the daemon and for a command, naming file, line and YAML path`, async () => {
      // The live daemon's control port: a command that ignored the error would reach it.
      const file = join(workDir, c.file);
      await writeFile(file, c.yaml(Number(new URL(controlUrl).port)));
      await expectRefused(['daemon'], { code: ExitCodes.usage, message: c.message, config: file });
      await expectRefused(['start', `leader/${leaderIndex}`, `follower/${uniqueName('follower')}`], { code: ExitCodes.usage, message: c.message, config: file });
      await expectRefused(['info'], { code: ExitCodes.usage, message: c.message, config: file });
    });
  }

  it('a second daemon on the same state directory is refused and the first keeps its state', async () => {
    const r = await cli(['daemon']);
    expect(r.code, r.stderr).to.equal(ExitCodes.failed);
    expect(r.stderr).to.match(/daemon could not start: state directory .* is in use by pid \d+/);
    expectNoSecrets(r.stdout + r.stderr, 'a second daemon\'s output');
    await expectStateUnchanged();
  });

  it('no daemon running exits 3 and says so', async () => {
    const [closed] = await findFreePorts(1);
    const url = `http://127.0.0.1:${closed}`;
    const message = new RegExp(`^error: cannot reach the ccr-follow daemon at ${url.replace(/\./g, '\\.')} \\(ECONNREFUSED\\): is it running\\? Start it with \`ccr-follow daemon --config <file>\`\\.$`, 'm');
    await expectRefused(['stats', '--url', url], { code: ExitCodes.daemonUnreachable, message, config: null });
    await expectRefused(['start', `leader/${leaderIndex}`, `follower/${uniqueName('follower')}`, '--url', url], { code: ExitCodes.daemonUnreachable, message, config: null });
    // The same through a config whose control port nobody listens on.
    const file = join(workDir, 'no-daemon.yml');
    await writeFile(file, `daemon:\n  control:\n    port: ${closed}\n`);
    await expectRefused(['info', '--json'], { code: ExitCodes.daemonUnreachable, message, config: file });
  });

  it('a command reads only the control address from the config: it needs none of the clusters\' secrets', async () => {
    // Operators give the daemon its passwords (systemd EnvironmentFile, a secrets manager) and run
    // `ccr-follow stats` from a shell that does not have them; the command only talks to the daemon.
    const r = await runCli(['stats', '--config', configFile], { env: { CCR_TEST_SECURED_PASSWORD: undefined, CCR_TEST_WRONG_PASSWORD: undefined }, cwd: workDir });
    expect(r.stderr).not.to.match(/environment variable CCR_TEST_\w+_PASSWORD is not set/);
    expect(r, r.stderr).to.include({ code: ExitCodes.ok, stderr: '' });
    expect(r.stdout).to.include(`follower/${followerIndex}`);
  });

  // ---- refused: the follow parameters ---------------------------------------------------------

  it('an unknown follow parameter or a bad value is refused, naming the parameter', async () => {
    const target = uniqueName('follower');
    const start = ['start', `leader/${leaderIndex}`, `follower/${target}`];
    // Checked by the CLI itself: a usage error (exit 2), nothing sent to the daemon.
    await expectRefused([...start, '--max-read-request-operation-count', 'abc'], {
      code: ExitCodes.usage, message: /^error: follow parameter \[max_read_request_operation_count\]: expected a whole number, got "abc"$/m,
    });
    await expectRefused([...start, '--max-read-request-size', '12xb'], { code: ExitCodes.usage, message: /^error: follow parameter \[max_read_request_size\]: /m });
    await expectRefused([...start, '--read-poll-timeout', '0'], { code: ExitCodes.usage, message: /follow parameter \[read_poll_timeout\] must be greater than 0, got "0"/ });
    await expectRefused([...start, '--max-outstanding-write-requests', '1.5'], { code: ExitCodes.usage, message: /follow parameter \[max_outstanding_write_requests\]: expected a whole number, got "1.5"/ });
    const misspelt = await expectRefused([...start, '--max-read-request-operation-cnt', '5'], { code: ExitCodes.usage, message: /^error: unknown option '--max-read-request-operation-cnt'$/m });
    expect(misspelt.stderr, 'the help that follows names the right option').to.include('--max-read-request-operation-count <n>');

    // The control API itself refuses an unknown parameter in the body (the CLI cannot send one).
    const res = await fetch(`${controlUrl}/follower/${target}/_ccr/follow`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ remote_cluster: 'leader', leader_index: leaderIndex, max_read_request_operation_cnt: 5 }),
    });
    const body = (await res.json()) as { error?: { type?: string; reason?: string } };
    expect(res.status).to.equal(400);
    expect(body.error?.type).to.equal('illegal_argument_exception');
    expect(body.error?.reason).to.match(/^unknown follow parameter \[max_read_request_operation_cnt\]; known: max_read_request_operation_count, /);
    await expectStateUnchanged();
    await expectNoIndex(target);
  });

  // ---- and afterwards, good requests still work ---------------------------------------------

  it('after all that, the first follower still replicates and a new follow works', async () => {
    await writeDocs(leader, leaderIndex, 50, 25);
    await waitIdentical(leader, leaderIndex, followerIndex);

    const leader2 = uniqueName('leader');
    const follower2 = uniqueName('follower');
    await createLeaderIndex(leader, leader2, { shards: 1 });
    created.push([() => leader, leader2], [() => follower, follower2]);
    await writeDocs(leader, leader2, 0, 20);
    const r = await cli(['start', `leader/${leader2}`, `follower/${follower2}`, '--max-read-request-operation-count', '7']);
    expect(r, r.stderr).to.include({ code: ExitCodes.ok, stderr: '' });
    await waitIdentical(leader, leader2, follower2);
    const info = await getInfo();
    expect(info.follower_indices.map((i) => i.follower_index).sort()).to.deep.equal([followerIndex, follower2].sort());
    expect(info.follower_indices.find((i) => i.follower_index === follower2)?.parameters.max_read_request_operation_count).to.equal(7);
    expect(await stateFiles()).to.have.length(2);
  });

  it('a password given through ${ENV} authenticates to the secured leader, and shows up nowhere', async () => {
    const target = uniqueName('follower');
    created.push([() => follower, target]);
    const r = await cli(['start', `secured/${securedIndex}`, `follower/${target}`]);
    expect(r, r.stderr).to.include({ code: ExitCodes.ok, stderr: '' });
    await waitIdentical(securedLeader, securedIndex, target);

    const outputs: string[] = [];
    for (const args of [['stats', '--json'], ['info', '--json'], ['stats'], ['info'], ['stats', `follower/${target}`, '--json'], ['info', `follower/${target}`, '--json']]) {
      const result = await cli(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(ExitCodes.ok);
      expectNoSecrets(result.stdout + result.stderr, `ccr-follow ${args.join(' ')}`);
      outputs.push(result.stdout);
    }
    const stats = JSON.parse(outputs[0]!) as { indices: { index: string; remote_cluster: string; leader_index: string; fatal_exception?: unknown }[] };
    const mine = stats.indices.find((s) => s.index === target);
    expect(mine).to.include({ remote_cluster: 'secured', leader_index: securedIndex });
    expect(mine?.fatal_exception).to.equal(undefined);
    const info = JSON.parse(outputs[1]!) as InfoAnswer;
    expect(info.follower_indices.find((i) => i.follower_index === target)).to.include({ remote_cluster: 'secured', status: 'active' });
  });

  it('its followers survive a daemon restart: the state on disk was never corrupted', async () => {
    const before = (await getInfo()).follower_indices.map(({ follower_index, status, parameters }) => ({ follower_index, status, parameters }));
    const status = await stopDaemon();
    expect(status, 'a graceful stop').to.deep.equal({ code: ExitCodes.ok, signal: null });
    await startDaemon();
    const after = (await getInfo()).follower_indices.map(({ follower_index, status, parameters }) => ({ follower_index, status, parameters }));
    const byName = (a: { follower_index: string }, b: { follower_index: string }): number => a.follower_index.localeCompare(b.follower_index);
    expect(after.sort(byName)).to.deep.equal(before.sort(byName));
    // Still following: a new leader document arrives.
    await writeDocs(leader, leaderIndex, 75, 5);
    await waitIdentical(leader, leaderIndex, followerIndex);
  });

  it('no password, plain or base64, was ever written to the daemon\'s log file or output', async () => {
    const status = await stopDaemon();
    expect(status, 'a graceful stop').to.deep.equal({ code: ExitCodes.ok, signal: null });
    const log = await readFile(logFile, 'utf8');
    // The log is really there and at debug level: it names the follows, the secured one included.
    expect(log).to.include(`following secured/${securedIndex} into follower/`);
    expect(log).to.match(/secured_bad \(https?:\/\/127\.0\.0\.1:\d+, auth=basic\)/);
    expectNoSecrets(log, `the daemon log ${logFile}`);
    for (const output of daemonOutputs) expectNoSecrets(output, 'the daemon\'s stdout/stderr');
  });
});
