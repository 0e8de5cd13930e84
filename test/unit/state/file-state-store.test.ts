import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileStateStore, StateCorruptError, StateLockedError, StateWriteError } from '../../../src/state/file-state-store.js';
import {
  type AutoFollowPatternRecord, AutoFollowPatternNotFoundError, type FollowerRecord, FollowerNotFoundError, type HandledLeaderIndex, followerKey,
} from '../../../src/state/state-store.js';

function record(index: string, overrides: Partial<FollowerRecord> = {}): FollowerRecord {
  return {
    leaderCluster: 'leader',
    leaderIndex: index,
    followerCluster: 'follower',
    followerIndex: index,
    params: { max_read_request_operation_count: 5120, max_write_buffer_size: 512 * 1024 * 1024 },
    status: 'active',
    createdAt: '2024-05-01T10:00:00.000Z',
    ...overrides,
  };
}

function pattern(name: string, overrides: Partial<AutoFollowPatternRecord> = {}): AutoFollowPatternRecord {
  return {
    name,
    remoteCluster: 'leader',
    followerCluster: 'follower',
    leaderIndexPatterns: ['logs-*', 'metrics-*'],
    leaderIndexExclusionPatterns: ['logs-debug-*'],
    followIndexPattern: '{{leader_index}}-replica',
    params: { max_read_request_operation_count: 100 },
    status: 'active',
    createdAt: '2024-05-01T10:00:00.000Z',
    activeSince: '2024-05-01T10:00:00.000Z',
    ...overrides,
  };
}

const HANDLED: readonly HandledLeaderIndex[] = [
  { leaderIndex: 'logs-old', outcome: 'existing', at: '2024-05-01T10:00:00.000Z' },
  { leaderIndex: 'logs-a', outcome: 'followed', followerIndex: 'logs-a-replica', at: '2024-05-01T10:01:00.000Z' },
  { leaderIndex: '.ds-logs-s-2024.05.01-000001', outcome: 'followed', followerIndex: '.ds-logs-s-2024.05.01-000001-replica', dataStream: 'logs-s', at: '2024-05-01T10:02:00.000Z' },
  { leaderIndex: 'logs-b', outcome: 'failed', reason: 'follower index [logs-b-replica] already exists', at: '2024-05-01T10:03:00.000Z' },
];

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  if (child.pid === undefined) throw new Error('could not start a child process');
  return child.pid;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(() => { throw new Error('expected a rejection'); }, (err: Error) => err);
}

/** Every file under `dir`, relative, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

describe('FileStateStore', () => {
  let dir: string;
  let store: FileStateStore | undefined;

  beforeEach(async () => {
    dir = path.join(await mkdtemp(path.join(tmpdir(), 'ccr-state-')), 'state');
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  describe('records and checkpoints', () => {
    it('round-trips followers and checkpoints through a reopen', async () => {
      store = await FileStateStore.open(dir);
      const paused = record('logs-b', { status: 'paused', fatalException: { type: 'index_not_found_exception', reason: 'no such index [logs-b]', at: '2024-05-02T00:00:00.000Z' } });
      await store.putFollower(record('logs-a'));
      await store.putFollower(paused);
      await store.saveCheckpoints(followerKey('follower', 'logs-a'), { 0: 41, 1: -1 });
      await store.close();

      store = await FileStateStore.open(dir);
      expect(await store.listFollowers()).to.deep.equal([record('logs-a'), paused]);
      expect(await store.getFollower('follower/logs-b')).to.deep.equal(paused);
      expect(await store.getFollower('follower/nope')).to.equal(undefined);
      expect(await store.loadCheckpoints('follower/logs-a')).to.deep.equal({ 0: 41, 1: -1 });
      expect(await store.loadCheckpoints('follower/logs-b')).to.deep.equal({});
    });

    it('keeps promotion records through a reopen, after their follower is gone', async () => {
      store = await FileStateStore.open(dir);
      const promotion = {
        leaderCluster: 'leader', leaderIndex: 'logs-a', followerCluster: 'follower', followerIndex: 'logs-a',
        promotedAt: '2024-05-02T00:00:00.000Z', shards: { 0: { leaderCheckpoint: 41, maxSeqNo: 50 } },
        recoveryPoint: { leaderSeenAt: '2024-05-01T23:59:58.000Z', leaderCheckpoints: { 0: 44 }, operationsApplied: 42, operationsMissingAtLeast: 3, secondsPossiblyMissing: 2.5 },
        run: { startedAt: '2024-05-01T23:59:59.500Z', followers: 20, operationsMissingAtLeast: 17, secondsPossiblyMissing: 4.1, unknownFollowers: 0 },
      };
      await store.putFollower(record('logs-a'));
      await store.putPromotion(promotion);
      await store.deleteFollower('follower/logs-a');
      await store.close();

      store = await FileStateStore.open(dir);
      expect(await store.getPromotion('follower/logs-a')).to.deep.equal(promotion);
      expect(await store.listPromotions()).to.deep.equal([promotion]);
      expect(await store.getPromotion('follower/logs-b')).to.equal(undefined);
    });

    it('writes one versioned file per follower, named from the encoded key', async () => {
      store = await FileStateStore.open(dir);
      await store.putFollower(record('logs-a'));
      await store.saveCheckpoints('follower/logs-a', { 0: 3 });
      expect(await listFiles(dir)).to.deep.equal(['checkpoints/follower%2Flogs-a.json', 'daemon.lock', 'followers/follower%2Flogs-a.json']);
      const stored = JSON.parse(await readFile(path.join(dir, 'followers', 'follower%2Flogs-a.json'), 'utf8')) as { format: number };
      expect(stored.format).to.equal(1);
    });

    it('persists only the record fields', async () => {
      store = await FileStateStore.open(dir);
      await store.putFollower({ ...record('logs-a'), extra: 'x' } as FollowerRecord);
      expect(await store.getFollower('follower/logs-a')).to.deep.equal(record('logs-a'));
    });

    it('keeps the index uuids of a follow, and names a malformed uuid field', async () => {
      store = await FileStateStore.open(dir);
      const withUuids: FollowerRecord = { ...record('logs-a'), indexUuids: { leader: 'L-uuid', follower: 'F-uuid' } };
      await store.putFollower(withUuids);
      await store.close();
      store = await FileStateStore.open(dir);
      expect(await store.getFollower('follower/logs-a')).to.deep.equal(withUuids);

      const file = path.join(dir, 'followers', 'follower%2Fx.json');
      await writeFile(file, JSON.stringify({ format: 1, follower: { ...record('x'), indexUuids: { leader: 'L' } } }));
      expect((await rejection(store.getFollower('follower/x'))).message).to.include(file).and.include('follower.indexUuids');
    });

    it('deletes a follower together with its checkpoints', async () => {
      store = await FileStateStore.open(dir);
      await store.putFollower(record('logs-a'));
      await store.saveCheckpoints('follower/logs-a', { 0: 3 });
      await store.deleteFollower('follower/logs-a');
      await store.deleteFollower('follower/never-existed');
      expect(await store.listFollowers()).to.deep.equal([]);
      expect(await store.loadCheckpoints('follower/logs-a')).to.deep.equal({});
      expect(await listFiles(dir)).to.deep.equal(['daemon.lock']);
    });

    it('refuses checkpoints for a follower that does not exist', async () => {
      store = await FileStateStore.open(dir);
      expect(await rejection(store.saveCheckpoints('follower/ghost', { 0: 1 }))).to.be.instanceOf(FollowerNotFoundError);
    });

    it('refuses checkpoints saved after the follower was deleted, even without awaiting', async () => {
      store = await FileStateStore.open(dir);
      await store.putFollower(record('logs-a'));
      const deleted = store.deleteFollower('follower/logs-a');
      await deleted;
      const late = store.saveCheckpoints('follower/logs-a', { 0: 99 });
      expect(await rejection(late)).to.be.instanceOf(FollowerNotFoundError);
      expect(await store.loadCheckpoints('follower/logs-a')).to.deep.equal({});
    });

    it('rejects invalid checkpoints and keys before writing', async () => {
      store = await FileStateStore.open(dir);
      await store.putFollower(record('logs-a'));
      expect(await rejection(store.saveCheckpoints('follower/logs-a', { 0: -2 }))).to.be.instanceOf(RangeError).with.property('message').that.includes('shard 0');
      expect(await rejection(store.saveCheckpoints('follower/logs-a', { 0: 1.5 }))).to.be.instanceOf(RangeError);
      expect(await rejection(store.getFollower('no-slash'))).to.be.instanceOf(RangeError);
      expect((await rejection(store.getFollower('a/b/c'))).message).to.include('cluster/index');
      expect(await store.loadCheckpoints('follower/logs-a')).to.deep.equal({});
    });
  });

  describe('cluster-metadata patterns', () => {
    it('round-trips a pattern with what its rounds put through a reopen, and deletes it', async () => {
      store = await FileStateStore.open(dir);
      const pattern = {
        name: 'dr', remoteCluster: 'leader', followerCluster: 'follower', include: { index_template: ['logs-*'] }, exclude: { index_template: ['logs-debug*'] },
        status: 'active' as const, createdAt: '2026-12-07T00:00:00.000Z', synced: { 'index_template/logs-app': { leaderFingerprint: 'a', followerFingerprint: 'b' } },
      };
      await store.putMetadataPattern(pattern);
      await store.close();
      store = await FileStateStore.open(dir);
      expect(await store.listMetadataPatterns()).to.deep.equal([pattern]);
      await store.deleteMetadataPattern('dr');
      await store.deleteMetadataPattern('dr');
      expect(await store.listMetadataPatterns()).to.deep.equal([]);
    });

    it('refuses to write a malformed pattern, and names a damaged one when reading', async () => {
      store = await FileStateStore.open(dir);
      let refused: unknown;
      await store.putMetadataPattern({ name: 'x', remoteCluster: '', followerCluster: 'f', include: {}, exclude: {}, status: 'active', createdAt: 'now', synced: {} }).catch((err: unknown) => (refused = err));
      expect(refused).to.be.instanceOf(RangeError);
      await writeFile(path.join(dir, 'cluster-metadata', 'y.json'), JSON.stringify({ format: 1, metadataPattern: { name: 'z' } }));
      let damaged: unknown;
      await store.listMetadataPatterns().catch((err: unknown) => (damaged = err));
      expect(damaged).to.be.instanceOf(StateCorruptError);
    });
  });

  describe('auto-follow patterns', () => {
    it('round-trips patterns and their handled indices through a reopen', async () => {
      store = await FileStateStore.open(dir);
      await store.putAutoFollowPattern(pattern('daily-logs'));
      await store.putAutoFollowPattern(pattern('paused one', { status: 'paused', leaderIndexExclusionPatterns: [], params: {} }));
      await store.saveHandledIndices('daily-logs', HANDLED);
      await store.close();

      store = await FileStateStore.open(dir);
      expect(await store.listAutoFollowPatterns()).to.deep.equal([pattern('daily-logs'), pattern('paused one', { status: 'paused', leaderIndexExclusionPatterns: [], params: {} })]);
      expect(await store.getAutoFollowPattern('daily-logs')).to.deep.equal(pattern('daily-logs'));
      expect(await store.getAutoFollowPattern('nope')).to.equal(undefined);
      expect(await store.loadHandledIndices('daily-logs')).to.deep.equal(HANDLED);
      expect(await store.loadHandledIndices('paused one')).to.deep.equal([]);
    });

    it('keeps the handled indices when a pattern is replaced, and persists only the record fields', async () => {
      store = await FileStateStore.open(dir);
      await store.putAutoFollowPattern(pattern('p'));
      await store.saveHandledIndices('p', HANDLED);
      await store.putAutoFollowPattern({ ...pattern('p', { status: 'paused' }), extra: 1 } as AutoFollowPatternRecord);
      expect(await store.getAutoFollowPattern('p')).to.deep.equal(pattern('p', { status: 'paused' }));
      expect(await store.loadHandledIndices('p')).to.deep.equal(HANDLED);
    });

    it('writes one versioned file per pattern and per handled set, named from the encoded name', async () => {
      store = await FileStateStore.open(dir);
      await store.putAutoFollowPattern(pattern('daily logs'));
      await store.saveHandledIndices('daily logs', HANDLED.slice(0, 1));
      expect(await listFiles(dir)).to.deep.equal(['auto-follow-handled/daily%20logs.json', 'auto-follow/daily%20logs.json', 'daemon.lock']);
      const stored = JSON.parse(await readFile(path.join(dir, 'auto-follow', 'daily%20logs.json'), 'utf8')) as { format: number };
      expect(stored.format).to.equal(1);
    });

    it('deletes a pattern together with its handled indices', async () => {
      store = await FileStateStore.open(dir);
      await store.putAutoFollowPattern(pattern('p'));
      await store.saveHandledIndices('p', HANDLED);
      await store.deleteAutoFollowPattern('p');
      await store.deleteAutoFollowPattern('never-existed');
      expect(await store.listAutoFollowPatterns()).to.deep.equal([]);
      expect(await store.loadHandledIndices('p')).to.deep.equal([]);
      expect(await listFiles(dir)).to.deep.equal(['daemon.lock']);
    });

    it('refuses handled indices for a pattern that does not exist, or was deleted before the save was called', async () => {
      store = await FileStateStore.open(dir);
      expect(await rejection(store.saveHandledIndices('ghost', HANDLED))).to.be.instanceOf(AutoFollowPatternNotFoundError);
      await store.putAutoFollowPattern(pattern('p'));
      const deleted = store.deleteAutoFollowPattern('p');
      const late = store.saveHandledIndices('p', HANDLED);
      await deleted;
      expect(await rejection(late)).to.be.instanceOf(AutoFollowPatternNotFoundError);
      expect(await store.loadHandledIndices('p')).to.deep.equal([]);
    });

    it('lands concurrent saves of a handled set in call order', async () => {
      store = await FileStateStore.open(dir);
      await store.putAutoFollowPattern(pattern('p'));
      await Promise.all(HANDLED.map((_, i) => store?.saveHandledIndices('p', HANDLED.slice(0, i + 1))));
      expect(await store.loadHandledIndices('p')).to.deep.equal(HANDLED);
    });

    it('rejects malformed entries and names before writing', async () => {
      store = await FileStateStore.open(dir);
      await store.putAutoFollowPattern(pattern('p'));
      const twice = [HANDLED[0]!, HANDLED[0]!];
      expect((await rejection(store.saveHandledIndices('p', twice))).message).to.include('appears twice');
      const badOutcome = [{ ...HANDLED[0]!, outcome: 'maybe' }] as unknown as HandledLeaderIndex[];
      expect((await rejection(store.saveHandledIndices('p', badOutcome))).message).to.include('outcome');
      expect(await rejection(store.getAutoFollowPattern('a/b'))).to.be.instanceOf(RangeError);
      expect(await rejection(store.putAutoFollowPattern(pattern('')))).to.be.instanceOf(RangeError);
      expect(await store.loadHandledIndices('p')).to.deep.equal([]);
    });

    it('names a corrupt pattern or handled file', async () => {
      store = await FileStateStore.open(dir);
      const file = path.join(dir, 'auto-follow', 'x.json');
      const { followIndexPattern: _f, ...withoutTemplate } = pattern('x');
      await writeFile(file, JSON.stringify({ format: 1, pattern: withoutTemplate }));
      expect((await rejection(store.listAutoFollowPatterns())).message).to.include(file).and.include('pattern.followIndexPattern');
      await writeFile(file, JSON.stringify({ format: 1, pattern: pattern('y') }));
      expect((await rejection(store.getAutoFollowPattern('x'))).message).to.include('holds auto-follow pattern y');
      await writeFile(file, JSON.stringify({ format: 1, pattern: pattern('x') }));
      const handledFile = path.join(dir, 'auto-follow-handled', 'x.json');
      await writeFile(handledFile, JSON.stringify({ format: 1, pattern: 'x', indices: [{ leaderIndex: 'a', outcome: 'followed' }] }));
      const err = await rejection(store.loadHandledIndices('x'));
      expect(err).to.be.instanceOf(StateCorruptError);
      expect(err.message).to.include(handledFile).and.include('at');
    });

    it('removes the handled set of a pattern that is gone, left by a crash', async () => {
      await mkdir(path.join(dir, 'auto-follow-handled'), { recursive: true });
      await writeFile(path.join(dir, 'auto-follow-handled', 'gone.json'), JSON.stringify({ format: 1, pattern: 'gone', indices: [] }));
      await writeFile(path.join(dir, 'auto-follow-handled', 'gone.json.abc.tmp'), '{');
      store = await FileStateStore.open(dir);
      expect(await listFiles(dir)).to.deep.equal(['daemon.lock']);
    });
  });

  describe('writes', () => {
    it('lands concurrent saves in call order: the last call wins', async () => {
      store = await FileStateStore.open(dir);
      await store.putFollower(record('logs-a'));
      const saves = Array.from({ length: 50 }, (_, i) => store?.saveCheckpoints('follower/logs-a', { 0: i, 1: 1000 - i }));
      await Promise.all(saves);
      expect(await store.loadCheckpoints('follower/logs-a')).to.deep.equal({ 0: 49, 1: 951 });

      const puts = (['active', 'paused', 'active', 'paused'] as const).map((status) => store?.putFollower(record('logs-a', { status })));
      await Promise.all(puts);
      expect((await store.getFollower('follower/logs-a'))?.status).to.equal('paused');
    });

    it('reads its own unawaited writes', async () => {
      store = await FileStateStore.open(dir);
      const put = store.putFollower(record('logs-a'));
      const save = store.saveCheckpoints('follower/logs-a', { 0: 7 });
      expect(await store.loadCheckpoints('follower/logs-a')).to.deep.equal({ 0: 7 });
      await Promise.all([put, save]);
    });

    it('leaves no temp files behind', async () => {
      store = await FileStateStore.open(dir);
      await Promise.all(['a', 'b', 'c'].map((index) => store?.putFollower(record(index))));
      await Promise.all(Array.from({ length: 20 }, (_, i) => store?.saveCheckpoints('follower/a', { 0: i })));
      const files = await listFiles(dir);
      expect(files.filter((name) => name.endsWith('.tmp'))).to.deep.equal([]);
      expect(files).to.have.length(5);
    });

    it('judges a checkpoint save by the follower writes called before it', async () => {
      store = await FileStateStore.open(dir);
      await store.putFollower(record('logs-a'));
      const failed = store.saveCheckpoints('follower/logs-b', { 0: 1 });
      const next = store.putFollower(record('logs-b'));
      expect(await rejection(failed)).to.be.instanceOf(FollowerNotFoundError);
      await next;
      await store.saveCheckpoints('follower/logs-b', { 0: 2 });
      expect(await store.loadCheckpoints('follower/logs-b')).to.deep.equal({ 0: 2 });
    });

    it('waits for pending writes on close and refuses work afterwards', async () => {
      store = await FileStateStore.open(dir);
      const put = store.putFollower(record('logs-a'));
      await store.close();
      await put;
      expect((await rejection(store.putFollower(record('logs-b')))).message).to.include('closed');
      store = await FileStateStore.open(dir);
      expect(await store.listFollowers()).to.have.length(1);
    });
  });

  describe('crash leftovers and corruption', () => {
    it('removes temp files and orphan checkpoints left by a crash', async () => {
      await mkdir(path.join(dir, 'followers'), { recursive: true });
      await mkdir(path.join(dir, 'checkpoints'), { recursive: true });
      await writeFile(path.join(dir, 'followers', 'follower%2Fa.json.1234.tmp'), '{"form');
      await writeFile(path.join(dir, 'checkpoints', 'follower%2Fgone.json'), '{"format":1,"follower":"follower/gone","shards":{"0":5}}');
      store = await FileStateStore.open(dir);
      expect(await listFiles(dir)).to.deep.equal(['daemon.lock']);
    });

    it('names a follower file that is not valid JSON', async () => {
      store = await FileStateStore.open(dir);
      const file = path.join(dir, 'followers', 'follower%2Fbroken.json');
      await writeFile(file, '{"format": 1, "follower": {');
      const err = await rejection(store.listFollowers());
      expect(err).to.be.instanceOf(StateCorruptError);
      expect(err.message).to.include(file).and.include('not valid JSON');
    });

    it('names a file with a missing field, a newer format, or the wrong key', async () => {
      store = await FileStateStore.open(dir);
      const file = path.join(dir, 'followers', 'follower%2Fx.json');
      const { status: _status, ...withoutStatus } = record('x');
      await writeFile(file, JSON.stringify({ format: 1, follower: withoutStatus }));
      expect((await rejection(store.getFollower('follower/x'))).message).to.include(file).and.include('follower.status');
      await writeFile(file, JSON.stringify({ format: 2, follower: record('x') }));
      expect((await rejection(store.getFollower('follower/x'))).message).to.include('newer ccr-follow');
      await writeFile(file, JSON.stringify({ format: 1, follower: record('y') }));
      expect((await rejection(store.getFollower('follower/x'))).message).to.include('holds follower follower/y');
    });

    it('names a corrupt checkpoints file', async () => {
      store = await FileStateStore.open(dir);
      await store.putFollower(record('a'));
      const file = path.join(dir, 'checkpoints', 'follower%2Fa.json');
      await writeFile(file, JSON.stringify({ format: 1, follower: 'follower/a', shards: { 0: 'x' } }));
      const err = await rejection(store.loadCheckpoints('follower/a'));
      expect(err).to.be.instanceOf(StateCorruptError);
      expect(err.message).to.include(file);
    });
  });

  describe('truncated files and discarding checkpoints', () => {
    it('names a truncated file: empty, or cut short in the middle', async () => {
      store = await FileStateStore.open(dir);
      await store.putFollower(record('a'));
      await store.saveCheckpoints('follower/a', { 0: 41, 1: 7 });
      const file = path.join(dir, 'checkpoints', 'follower%2Fa.json');
      const whole = await readFile(file, 'utf8');
      await writeFile(file, '');
      const empty = await rejection(store.loadCheckpoints('follower/a'));
      expect(empty).to.be.instanceOf(StateCorruptError);
      expect(empty.message).to.include(file).and.include('empty (0 bytes): truncated');
      await writeFile(file, whole.slice(0, Math.floor(whole.length / 2)));
      const cut = await rejection(store.loadCheckpoints('follower/a'));
      expect(cut.message).to.include(file).and.include('not valid JSON').and.include('truncated or damaged');
      expect((cut as StateCorruptError).newerFormat).to.equal(false);
    });

    it('marks a newer format as such, so that it is never discarded as damage', async () => {
      store = await FileStateStore.open(dir);
      await store.putFollower(record('a'));
      await writeFile(path.join(dir, 'checkpoints', 'follower%2Fa.json'), JSON.stringify({ format: 2, follower: 'follower/a', shards: {} }));
      const err = await rejection(store.loadCheckpoints('follower/a'));
      expect((err as StateCorruptError).newerFormat).to.equal(true);
    });

    it('sets corrupt checkpoints aside, keeping them for inspection, and then loads none', async () => {
      store = await FileStateStore.open(dir);
      await store.putFollower(record('a'));
      const file = path.join(dir, 'checkpoints', 'follower%2Fa.json');
      await writeFile(file, '{"format": 1, "follo');
      const aside = await store.discardCheckpoints('follower/a');
      expect(aside).to.match(/follower%2Fa\.json\.corrupt-/);
      expect(await readFile(aside!, 'utf8')).to.equal('{"format": 1, "follo');
      expect(await store.loadCheckpoints('follower/a')).to.deep.equal({});
      expect(await store.discardCheckpoints('follower/a')).to.equal(undefined);
      // Saving and reopening ignore the set-aside file, and do not remove it.
      await store.saveCheckpoints('follower/a', { 0: 3 });
      await store.close();
      store = await FileStateStore.open(dir);
      expect(await store.loadCheckpoints('follower/a')).to.deep.equal({ 0: 3 });
      expect(await listFiles(dir)).to.include(path.relative(dir, aside!));
    });
  });

  describe('writes the file system refuses', () => {
    it('rejects with a StateWriteError naming the state directory and the errno, and leaves the previous content whole', async () => {
      store = await FileStateStore.open(dir);
      await store.putFollower(record('a'));
      await store.saveCheckpoints('follower/a', { 0: 10 });
      // Root ignores permissions, so refuse the write another way: the file's directory is gone
      // and a plain file sits at a path inside it (ENOTDIR); the full and read-only cases
      // (ENOSPC, EROFS) are produced on a real tmpfs by test/integration/faults-state-dir.test.ts.
      const patterns = path.join(dir, 'auto-follow');
      await rm(patterns, { recursive: true });
      await writeFile(patterns, 'not a directory');
      const err = await rejection(store.putAutoFollowPattern(pattern('p')));
      expect(err).to.be.instanceOf(StateWriteError);
      const writeError = err as StateWriteError;
      expect(writeError.dir).to.equal(path.resolve(dir));
      expect(writeError.code).to.equal('ENOTDIR');
      expect(writeError.message).to.include(`cannot write to the state directory ${path.resolve(dir)}: ENOTDIR`);
      // The store's own typed errors are not file-system errors and pass unchanged.
      expect(await rejection(store.saveCheckpoints('follower/nobody', { 0: 1 }))).to.be.instanceOf(FollowerNotFoundError);
      expect(await store.loadCheckpoints('follower/a')).to.deep.equal({ 0: 10 });
      await rm(patterns);
      await mkdir(patterns);
    });
  });

  describe('lock', () => {
    it('holds the pid in daemon.lock and releases it on close', async () => {
      store = await FileStateStore.open(dir);
      expect((await readFile(path.join(dir, 'daemon.lock'), 'utf8')).trim()).to.equal(String(process.pid));
      await store.close();
      await store.close();
      expect(await listFiles(dir)).to.deep.equal([]);
    });

    it('refuses a directory held by a live process, naming it and the pid', async () => {
      store = await FileStateStore.open(dir);
      const err = await rejection(FileStateStore.open(dir));
      expect(err).to.be.instanceOf(StateLockedError);
      expect(err.message).to.include(`state directory ${dir} is in use by pid ${process.pid}`);
      expect((err as StateLockedError).pid).to.equal(process.pid);
    });

    it('takes over a stale lock left by a dead process', async () => {
      const pid = await deadPid();
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'daemon.lock'), `${pid}\n`);
      store = await FileStateStore.open(dir);
      expect((await readFile(path.join(dir, 'daemon.lock'), 'utf8')).trim()).to.equal(String(process.pid));
    });

    it('takes over a lock file that holds no pid', async () => {
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'daemon.lock'), '');
      store = await FileStateStore.open(dir);
      expect((await readFile(path.join(dir, 'daemon.lock'), 'utf8')).trim()).to.equal(String(process.pid));
    });
  });
});
