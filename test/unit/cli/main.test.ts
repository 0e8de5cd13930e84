/**
 * `main()` in this process with a fake io: usage and configuration mistakes exit 2 before anything
 * is attempted, and a daemon that cannot be reached exits 3 with a message that says so. No daemon
 * runs here: "nothing attempted" is shown by pointing the CLI at a closed port, which would turn
 * any attempt into exit 3.
 */
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCodes } from '../../../src/cli/exit-codes.js';
import { main, type CliIo } from '../../../src/cli/main.js';
import { VERSION } from '../../../src/daemon/version.js';

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('ccr-follow main()', () => {
  let dir: string;
  let deadUrl: string;
  let deadPort: number;

  async function run(argv: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: options.env ?? {}, cwd: options.cwd ?? dir };
    const code = await main(argv, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  async function configFile(name: string, yaml: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, yaml);
    return file;
  }

  /** The first line on stderr: the one-line error, before any help commander appends. */
  const firstLine = (text: string): string => text.split('\n')[0] ?? '';
  const noStack = (text: string): void => {
    expect(text).not.to.match(/^\s+at .+:\d+:\d+\)?$/m);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ccr-follow-cli-unit-'));
    deadPort = await closedPort();
    deadUrl = `http://127.0.0.1:${deadPort}`;
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('usage errors exit 2 and attempt nothing', () => {
    it('no command: help on stderr', async () => {
      const r = await run(['--url', deadUrl]);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(r.err).to.include('Usage: ccr-follow');
      expect(r.out).to.equal('');
    });

    it('an unknown command', async () => {
      const r = await run(['frobnicate', '--url', deadUrl]);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(firstLine(r.err)).to.equal("error: unknown command 'frobnicate'");
    });

    it('a missing argument', async () => {
      const r = await run(['start', 'leader/orders', '--url', deadUrl]);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(firstLine(r.err)).to.equal("error: missing required argument 'follower'");
    });

    it('too many arguments', async () => {
      const r = await run(['start', 'leader/a', 'follower/a', 'extra', '--url', deadUrl]);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(firstLine(r.err)).to.match(/^error: too many arguments for 'start'/);
    });

    it('an unknown option (a misspelt follow parameter)', async () => {
      const r = await run(['start', 'leader/a', 'follower/a', '--max-read-request-operation-cnt', '5', '--url', deadUrl]);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(firstLine(r.err)).to.equal("error: unknown option '--max-read-request-operation-cnt'");
    });

    it('a log format the daemon does not know', async () => {
      const r = await run(['daemon', '--log-format', 'xml']);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(firstLine(r.err)).to.equal("error: option '--log-format <format>' argument 'xml' is invalid. Allowed choices are text, json.");
    });

    it('a follow parameter without its value', async () => {
      const r = await run(['start', 'leader/a', 'follower/a', '--url', deadUrl, '--max-read-request-operation-count']);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(firstLine(r.err)).to.match(/^error: option '--max-read-request-operation-count <n>' argument missing/);
    });

    for (const [argv, what, text] of [
      [['start', 'leader', 'follower/x'], 'the leader', 'leader'],
      [['start', 'leader/a/b', 'follower/x'], 'the leader', 'leader/a/b'],
      [['start', 'leader/a', '/x'], 'the follower', '/x'],
      [['pause', 'follower'], 'the follower', 'follower'],
      [['resume', 'follower/'], 'the follower', 'follower/'],
      [['unfollow', 'x'], 'the follower', 'x'],
      [['stats', 'follower'], 'the follower', 'follower'],
      [['info', 'a/b/c'], 'the follower', 'a/b/c'],
    ] as const) {
      it(`a malformed alias/index: ${argv.join(' ')}`, async () => {
        const r = await run([...argv, '--url', deadUrl]);
        expect(r.code).to.equal(ExitCodes.usage);
        expect(r.err).to.equal(`error: ${what} must be written <cluster-alias>/<index>, e.g. leader/orders; got "${text}"`);
        expect(r.out).to.equal('');
      });
    }

    for (const [argv, message] of [
      [['promote'], 'name one follower'],
      [['promote', 'follower/x', '--all'], 'name one follower'],
      [['promote', '--all', '--match', 'logs-*'], 'name one follower'],
      [['promote', 'follower/x', '--dry-run'], '--leader, --dry-run and --concurrency go with --all or --match'],
      [['promote', '--all', '--concurrency', '0'], '--concurrency must be a positive integer'],
    ] as const) {
      it(`promote with options that do not go together: ${argv.join(' ')}`, async () => {
        const r = await run([...argv, '--url', deadUrl]);
        expect(r.code).to.equal(ExitCodes.usage);
        expect(firstLine(r.err)).to.include(message);
        expect(r.out).to.equal('');
      });
    }

    for (const value of ['yes', '1', '0', 'TRUE', '']) {
      it(`--repair-foreign-writes ${JSON.stringify(value)}: only true or false`, async () => {
        const r = await run(['start', 'leader/a', 'follower/a', '--url', deadUrl, '--repair-foreign-writes', value]);
        expect(r.code).to.equal(ExitCodes.usage);
        expect(firstLine(r.err)).to.equal(`error: --repair-foreign-writes must be true or false; got "${value}"`);
        expect(r.out).to.equal('');
      });
    }

    it('--help and --version are not errors', async () => {
      const help = await run(['start', '--help']);
      expect(help.code).to.equal(ExitCodes.ok);
      expect(help.out).to.include('--max-read-request-operation-count <n>');
      expect(help.out).to.match(/--repair-foreign-writes <true\|false>\s+repair documents .*\(default true\)/);
      const version = await run(['--version']);
      expect(version.code).to.equal(ExitCodes.ok);
      expect(version.out).to.equal(VERSION);
    });
  });

  describe('--repair-foreign-writes', () => {
    for (const [value, sent] of [['true', true], ['false', false]] as const) {
      it(`sends ${value} to the daemon as a JSON boolean`, async () => {
        const bodies: unknown[] = [];
        const server = createHttpServer((req, res) => {
          let text = '';
          req.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
          req.on('end', () => {
            bodies.push(JSON.parse(text));
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ follow_index_created: true, follow_index_shards_acked: true, index_following_started: true }));
          });
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        try {
          const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
          const r = await run(['start', 'leader/a', 'follower/a', '--url', url, '--repair-foreign-writes', value]);
          expect(r.code, r.err).to.equal(ExitCodes.ok);
          expect(bodies).to.deep.equal([{ remote_cluster: 'leader', leader_index: 'a', repair_foreign_writes: sent }]);
        } finally {
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
      });
    }
  });

  describe('configuration errors exit 2 with file, line and YAML path', () => {
    it('a config file that does not exist (--config)', async () => {
      const r = await run(['stats', '--config', 'missing.yml']);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(r.err).to.match(/^error: config file .*missing\.yml not found/);
      expect(r.err).to.include(join(dir, 'missing.yml'));
    });

    it('a config file that does not exist ($CCR_FOLLOW_CONFIG)', async () => {
      const r = await run(['info'], { env: { CCR_FOLLOW_CONFIG: 'nowhere.yml' } });
      expect(r.code).to.equal(ExitCodes.usage);
      expect(r.err).to.match(/^error: config file .*nowhere\.yml not found/);
    });

    it('malformed YAML', async () => {
      const file = await configFile('bad-yaml.yml', 'clusters:\n  leader:\n    url: [http://a\n');
      const r = await run(['stats', '--config', file]);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(r.err).to.match(new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: malformed YAML: `));
      noStack(r.err);
    });

    it('an unknown key, named by its YAML path', async () => {
      const file = await configFile('unknown-key.yml', 'clusters:\n  leader:\n    url: http://127.0.0.1:9200\n    pasword: hunter2-secret\n');
      const r = await run(['stats', '--config', file]);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(r.err).to.match(/^error: .*unknown-key\.yml:4:\d+: clusters\.leader\.pasword: unknown key \(expected one of: url, urls, auth, tls, request_timeout\)$/);
      expect(r.err).not.to.include('hunter2-secret');
    });

    it('a URL that is not http(s)', async () => {
      const file = await configFile('bad-url.yml', 'clusters:\n  leader:\n    url: ftp://127.0.0.1:9200\n');
      const r = await run(['info', '--config', file]);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(r.err).to.equal(`error: ${file}:3:10: clusters.leader.url: expected an http(s) URL, got "ftp://127.0.0.1:9200"`);
    });

    it('a URL carrying credentials, without echoing the password', async () => {
      const file = await configFile('url-creds.yml', 'clusters:\n  leader:\n    url: http://admin:hunter2-secret@127.0.0.1:9200\n');
      const r = await run(['info', '--config', file]);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(r.err).to.include('clusters.leader.url: expected a URL without user:password@');
      expect(r.err).not.to.include('hunter2-secret');
    });

    it('an unset ${VAR}, named with its YAML path (the daemon needs every secret; `info` alone would not)', async () => {
      const file = await configFile('unset-env.yml', 'clusters:\n  leader:\n    url: http://127.0.0.1:9200\n    auth:\n      username: u\n      password: ${CCR_UNIT_NO_SUCH_VAR}\n');
      const r = await run(['daemon', '--config', file]);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(r.err).to.include('clusters.leader.auth.password: environment variable CCR_UNIT_NO_SUCH_VAR is not set');
    });

    it('the daemon command refuses a bad config before starting anything', async () => {
      const file = await configFile('daemon-bad.yml', 'daemon:\n  control:\n    port: 99999\n');
      const r = await run(['daemon', '--config', file]);
      expect(r.code).to.equal(ExitCodes.usage);
      expect(r.err).to.equal(`error: ${file}:3:11: daemon.control.port: expected a port number from 0 to 65535, got 99999`);
    });
  });

  describe('a daemon that is not running exits 3', () => {
    const unreachable = (url: string): string => `cannot reach the ccr-follow daemon at ${url}`;

    for (const argv of [['stats'], ['stats', 'follower/x', '--json'], ['info'], ['info', '--json'], ['pause', 'follower/x'], ['resume', 'follower/x'], ['unfollow', 'follower/x'], ['promote', '--all', '--dry-run'], ['start', 'leader/a', 'follower/a', '--max-read-request-operation-count', '100']]) {
      it(`${argv.join(' ')} --url <closed port>`, async () => {
        const r = await run([...argv, '--url', deadUrl]);
        expect(r.code).to.equal(ExitCodes.daemonUnreachable);
        expect(r.err).to.equal(`error: ${unreachable(deadUrl)} (ECONNREFUSED): is it running? Start it with \`ccr-follow daemon --config <file>\`.`);
        expect(r.out).to.equal('');
      });
    }

    it('--url before the command works the same', async () => {
      const r = await run(['--url', deadUrl, 'info']);
      expect(r.code).to.equal(ExitCodes.daemonUnreachable);
      expect(r.err).to.include(unreachable(deadUrl));
    });

    it('the control address comes from --config', async () => {
      const file = await configFile('closed-port.yml', `daemon:\n  control:\n    port: ${deadPort}\n`);
      const r = await run(['stats', '--config', file]);
      expect(r.code).to.equal(ExitCodes.daemonUnreachable);
      expect(r.err).to.include(unreachable(deadUrl));
    });

    it('…or from ./ccr-follow.yml, and a wildcard bind address is reached on loopback', async () => {
      const cwd = await mkdtemp(join(dir, 'cwd-'));
      await writeFile(join(cwd, 'ccr-follow.yml'), `daemon:\n  control:\n    host: 0.0.0.0\n    port: ${deadPort}\n`);
      const r = await run(['info'], { cwd });
      expect(r.code).to.equal(ExitCodes.daemonUnreachable);
      expect(r.err).to.include(unreachable(deadUrl));
    });
  });

  describe('a control port the config accepts', () => {
    // fetch() (undici) refuses the WHATWG "bad ports" with "fetch failed" (cause: "bad port")
    // whatever listens there; these are some of them.
    const FETCH_BLOCKED_PORTS = [10080, 6000, 6665, 6666, 6667, 6668, 6669, 6697];
    let server: HttpServer | undefined;
    let port: number | undefined;

    before(async () => {
      for (const candidate of FETCH_BLOCKED_PORTS) {
        const s = createHttpServer((req, res) => {
          res.setHeader('content-type', 'application/json');
          res.end(req.url === '/_ccr/stats' ? JSON.stringify({ follow_stats: { indices: [] } }) : '{}');
        });
        const bound = await new Promise<boolean>((resolve) => {
          s.once('error', () => resolve(false));
          s.listen(candidate, '127.0.0.1', () => resolve(true));
        });
        if (bound) {
          server = s;
          port = candidate;
          return;
        }
      }
      throw new Error(`every candidate port (${FETCH_BLOCKED_PORTS.join(', ')}) is taken on this machine`);
    });

    after(async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    });

    it('is one the CLI can reach, or the config refuses it (fetch-blocked port)', async () => {
      const file = await configFile('blocked-port.yml', `daemon:\n  control:\n    port: ${port}\n`);
      const r = await run(['stats', '--config', file]);
      // Either fix is fine: the CLI talks to the daemon there, or the config says the port cannot be used.
      if (r.code === ExitCodes.usage) {
        expect(r.err).to.include('daemon.control.port');
      } else {
        expect(r, `a daemon listening on ${port} answered, yet: ${r.err}`).to.include({ code: ExitCodes.ok });
        expect(r.out).to.equal('no follower indices');
      }
    });
  });
});
