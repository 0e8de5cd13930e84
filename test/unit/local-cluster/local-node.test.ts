// Error paths of the local-node machinery, without a real node: missing JDK, an artifact Maven does
// not have, a launcher that dies or never answers (a fake `bin/opensearch` script), and free ports.
import { expect } from 'chai';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ELASTICSEARCH_8,
  LocalClusterError,
  LocalNode,
  OPENSEARCH_3,
  ensureDistribution,
  findFreePorts,
  makeDistribution,
  resolveJavaHome,
} from '../../../src/local-cluster/index.js';
import { waitFor } from '../../helpers/wait-for.js';

/** A world-readable temp dir: under root the node runs as an unprivileged user that must enter it. */
async function openTempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ccr-follow-unit-'));
  await chmod(dir, 0o755);
  return dir;
}

async function expectLocalClusterError(promise: Promise<unknown>): Promise<LocalClusterError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(LocalClusterError);
    return err as LocalClusterError;
  }
  return expect.fail('expected a LocalClusterError');
}

/** Makes `<dir>/<name>/bin/java` so a directory passes for a JDK. */
async function fakeJdk(dir: string, name: string): Promise<string> {
  const home = join(dir, name);
  await mkdir(join(home, 'bin'), { recursive: true });
  await writeFile(join(home, 'bin', 'java'), '#!/bin/sh\n', { mode: 0o755 });
  return home;
}

describe('local nodes: error paths', function () {
  let dir: string;

  beforeEach(async function () {
    dir = await openTempDir();
  });

  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  describe('choosing a JDK', function () {
    it('names CCR_FOLLOW_JAVA_HOME when it has no bin/java', function () {
      const missing = join(dir, 'no-such-jdk');
      expect(() => resolveJavaHome(ELASTICSEARCH_8, { env: { CCR_FOLLOW_JAVA_HOME: missing } }))
        .to.throw(LocalClusterError, missing);
    });

    it('names the Java 17 path it expected', function () {
      expect(() => resolveJavaHome(ELASTICSEARCH_8, { env: {}, jvmDir: dir }))
        .to.throw(LocalClusterError, `Java 17 not found at ${join(dir, 'java-17-openjdk-amd64')}`);
    });

    it('takes Java 17 for Elasticsearch 8 and the newest 21+ JDK for OpenSearch 3', async function () {
      const java17 = await fakeJdk(dir, 'java-17-openjdk-amd64');
      await fakeJdk(dir, 'temurin-21-jdk-amd64');
      const java25 = await fakeJdk(dir, 'temurin-25-jdk-amd64');
      expect(resolveJavaHome(ELASTICSEARCH_8, { env: {}, jvmDir: dir })).to.equal(java17);
      expect(resolveJavaHome(OPENSEARCH_3, { env: {}, jvmDir: dir })).to.equal(java25);
    });

    it('says Java 21+ is missing when only Java 17 is installed', async function () {
      await fakeJdk(dir, 'java-17-openjdk-amd64');
      expect(() => resolveJavaHome(OPENSEARCH_3, { env: {}, jvmDir: dir })).to.throw(LocalClusterError, /Java 21\+ not found under/);
    });

    it('refuses to start a node before fetching anything when the JDK is missing', async function () {
      const missing = join(dir, 'no-such-jdk');
      const node = new LocalNode({
        name: 'n', distribution: makeDistribution('opensearch', '0.0.0-never-fetched'), baseDir: dir,
        cacheDir: join(dir, 'cache'), env: { ...process.env, CCR_FOLLOW_JAVA_HOME: missing },
      });
      const err = await expectLocalClusterError(node.start());
      expect(err.message).to.contain(missing);
      expect(node.running).to.equal(false);
      expect(node.pid).to.equal(undefined);
    });
  });

  describe('fetching a distribution', function () {
    it('names the artifact Maven cannot fetch, and leaves nothing in the cache', async function () {
      this.timeout(60_000);
      const bogus = makeDistribution('opensearch', '0.0.0-does-not-exist');
      const cacheDir = join(dir, 'cache');
      const env = { ...process.env, CCR_FOLLOW_JAVA_HOME: await fakeJdk(dir, 'jdk') };
      const err = await expectLocalClusterError(ensureDistribution(bogus, { cacheDir, env }));
      expect(err.message).to.contain('Maven could not fetch org.opensearch.distribution.integ-test-zip:opensearch:0.0.0-does-not-exist:zip: ');
      console.log(`      ${err.message}`);
      expect(await readdir(cacheDir)).to.deep.equal([]);
    });

    it('says mvn is missing from PATH', async function () {
      const env = { PATH: join(dir, 'empty-bin'), CCR_FOLLOW_JAVA_HOME: await fakeJdk(dir, 'jdk') };
      const err = await expectLocalClusterError(ensureDistribution(makeDistribution('opensearch', '0.0.0-x'), { cacheDir: join(dir, 'cache'), env }));
      expect(err.message).to.match(/^mvn not found on PATH/);
    });
  });

  describe('starting a node', function () {
    /** A cached "distribution" whose launcher is the given shell script body. */
    async function fakeDistribution(script: string) {
      const dist = makeDistribution('opensearch', '9.9.9-fake');
      const home = join(dir, 'cache', dist.dirName);
      await mkdir(join(home, 'bin'), { recursive: true });
      await mkdir(join(home, 'config'), { recursive: true });
      await writeFile(join(home, 'config', 'opensearch.yml'), '');
      await writeFile(join(home, dist.startScript), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
      await chmod(join(dir, 'cache'), 0o755);
      const env = { ...process.env, CCR_FOLLOW_JAVA_HOME: await fakeJdk(dir, 'jdk') };
      return { dist, env, cacheDir: join(dir, 'cache') };
    }

    it('reports an early exit with the end of the node log', async function () {
      this.timeout(30_000); // spawns a shell and polls for health: seconds on a loaded machine
      const { dist, env, cacheDir } = await fakeDistribution('echo "boom: unknown setting [foo.bar]"\nexit 3');
      const node = new LocalNode({ name: 'dies', distribution: dist, baseDir: join(dir, 'nodes'), cacheDir, env });
      await mkdir(join(dir, 'nodes'), { mode: 0o755 });
      const err = await expectLocalClusterError(node.start());
      expect(err.message).to.contain('exited (code 3) before becoming healthy');
      expect(err.message).to.contain('boom: unknown setting [foo.bar]');
      expect(node.running).to.equal(false);
    });

    it('keeps the exit code of a launcher that dies at once, start after start', async function () {
      // The shell can reap such a launcher before it asks `kill -0`; the code was then lost as 0.
      this.timeout(60_000);
      const { dist, env, cacheDir } = await fakeDistribution('exit 3');
      await mkdir(join(dir, 'nodes'), { mode: 0o755 });
      for (let i = 0; i < 6; i++) {
        const node = new LocalNode({ name: `dies-${i}`, distribution: dist, baseDir: join(dir, 'nodes'), cacheDir, env });
        const err = await expectLocalClusterError(node.start());
        expect(err.message, `start ${i}`).to.contain('exited (code 3) before becoming healthy');
      }
    });

    it('gives up at the start deadline and kills the process group', async function () {
      // The launcher forks a child, like ES 8's launcher forks the server JVM.
      const { dist, env, cacheDir } = await fakeDistribution('sleep 600 &\nwait');
      await mkdir(join(dir, 'nodes'), { mode: 0o755 });
      const node = new LocalNode({ name: 'hangs', distribution: dist, baseDir: join(dir, 'nodes'), cacheDir, env, startTimeoutMs: 1_000 });
      const starting = node.start();
      const pid = await waitFor(() => node.pid, { timeoutMs: 10_000, intervalMs: 10, message: 'the fake node to get a pid' });
      const err = await expectLocalClusterError(starting);
      expect(err.message).to.contain('did not become healthy within 1.0 s');
      expect(node.running).to.equal(false);
      expect(() => process.kill(-pid, 0), 'process group is gone').to.throw();
    });
  });

  it('finds distinct free ports that can be bound', async function () {
    const ports = await findFreePorts(8);
    expect(new Set(ports).size).to.equal(8);
    for (const port of ports) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
