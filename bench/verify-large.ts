/**
 * Benchmark: `ccr-follow verify` on two identical indices of 200,000 documents (3 shards), as a
 * separate process, reporting wall time and peak RSS. Baseline, measured in the same run: simply
 * streaming both indices shard by shard (what any comparison must at least read).
 *
 * Run: npm run build && node dist/bench/verify-large.js   (starts its own ES leader and OpenSearch
 * follower through the test harness unless CCR_TEST_ES_LEADER_URL / CCR_TEST_OS_FOLLOWER_URL are set)
 * Results: bench/results/verify-large.txt
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterClient } from '../src/cluster/cluster-client.js';
import { CLI_PATH, REPO_ROOT } from '../test/helpers/cli-process.js';
import { stopTestClusters, testClusters, uniqueName } from '../test/helpers/clusters.js';
import { connect, createLeaderIndex, shardDocuments } from '../test/helpers/replication.js';

const DOCS = Number(process.env['BENCH_DOCS'] ?? 200_000);
const BATCH = 2000;

async function fill(client: ClusterClient, index: string): Promise<void> {
  await createLeaderIndex(client, index);
  for (let start = 0; start < DOCS; start += BATCH) {
    const docs = Array.from({ length: Math.min(BATCH, DOCS - start) }, (_, i) => {
      const n = start + i;
      return { op: 'index' as const, id: `doc-${n}`, ...(n % 3 === 0 ? { routing: `r${n % 7}` } : {}), source: { n, batch: Math.floor(n / BATCH), text: `document number ${n} `.repeat(4), tags: [`t${n % 5}`] } };
    });
    await client.writeDocuments(index, docs);
  }
  await client.refresh(index);
}

async function timeVerify(configFile: string, leaderIndex: string, followerIndex: string): Promise<{ ms: number; peakRssMb: number; code: number | null; out: string }> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI_PATH, '--config', configFile, 'verify', `leader/${leaderIndex}`, `follower/${followerIndex}`], { cwd: REPO_ROOT });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  let peakKb = 0;
  const sampler = setInterval(() => {
    readFile(`/proc/${child.pid}/status`, 'utf8').then((status) => {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
    }, () => undefined);
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  return { ms: Date.now() - started, peakRssMb: peakKb / 1024, code, out };
}

async function main(): Promise<void> {
  const pair = (await testClusters()).pair('elasticsearch', 'opensearch');
  const [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
  const leaderIndex = uniqueName('bench-verify-l');
  const followerIndex = uniqueName('bench-verify-f');
  const fillStarted = Date.now();
  await Promise.all([fill(leader, leaderIndex), fill(follower, followerIndex)]);
  console.log(`filled 2 × ${DOCS} documents in ${((Date.now() - fillStarted) / 1000).toFixed(1)} s`);

  const baselineStarted = Date.now();
  let streamed = 0;
  for (let shard = 0; shard < 3; shard += 1) {
    const [l, f] = await Promise.all([shardDocuments(leader, leaderIndex, shard), shardDocuments(follower, followerIndex, shard)]);
    streamed += l.size + f.size;
  }
  const baselineMs = Date.now() - baselineStarted;

  const dir = await mkdtemp(join(tmpdir(), 'ccr-follow-bench-'));
  const configFile = join(dir, 'ccr-follow.yml');
  await writeFile(configFile, `clusters:\n  leader:\n    url: ${pair.leader.url}\n  follower:\n    url: ${pair.follower.url}\n`);
  const verify = await timeVerify(configFile, leaderIndex, followerIndex);
  if (verify.code !== 0) throw new Error(`verify exited ${verify.code}:\n${verify.out}`);

  const lines = [
    `# verify on ${DOCS} documents per side (3 shards), ${pair.leader.flavor} ${pair.leader.version} → ${pair.follower.flavor} ${pair.follower.version}`,
    `date: ${new Date().toISOString()}`,
    `baseline (stream both indices, ${streamed} documents, no comparison): ${(baselineMs / 1000).toFixed(2)} s`,
    `ccr-follow verify (separate process): ${(verify.ms / 1000).toFixed(2)} s, peak RSS ${verify.peakRssMb.toFixed(0)} MB`,
    `ratio verify / baseline: ${(verify.ms / baselineMs).toFixed(2)}`,
    `verify throughput: ${Math.round((2 * DOCS) / (verify.ms / 1000))} documents/s`,
  ];
  console.log(lines.join('\n'));
  await writeFile(join(REPO_ROOT, 'bench', 'results', 'verify-large.txt'), `${lines.join('\n')}\n`);
  await Promise.all([leader.close(), follower.close()]);
}

main().then(() => stopTestClusters(), async (err: unknown) => {
  console.error(err);
  await stopTestClusters();
  process.exitCode = 1;
});
