// The crash-safe file operations on their own, in a temp directory.
import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  exists, readIfExists, removeDurably, removeTempFiles, setAside, writeAtomically,
} from '../../../src/state/atomic-file.js';

describe('atomic-file', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ccr-atomic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces a file whole and leaves no temp file', async () => {
    const file = path.join(dir, 'a.json');
    await writeAtomically(file, 'first\n');
    await writeAtomically(file, 'second, longer\n');
    expect(await readFile(file, 'utf8')).to.equal('second, longer\n');
    expect(await readdir(dir)).to.deep.equal(['a.json']);
  });

  it('on a failed rename removes its temp file and keeps the previous content', async () => {
    const file = path.join(dir, 'a.json');
    await writeAtomically(file, 'kept\n');
    // A directory in the way of the rename: the temp file is written, the rename fails.
    const blocked = path.join(dir, 'blocked');
    await mkdir(path.join(blocked, 'child'), { recursive: true });
    const err = await writeAtomically(blocked, 'lost\n').then(() => undefined, (e: NodeJS.ErrnoException) => e);
    expect(err?.code).to.equal('EISDIR');
    expect((await readdir(dir)).sort()).to.deep.equal(['a.json', 'blocked']);
    expect(await readFile(file, 'utf8')).to.equal('kept\n');
  });

  it('sets a file aside under a name carrying the time, or answers undefined when there is none', async () => {
    const file = path.join(dir, 'c.json');
    await writeFile(file, '{"trunc');
    const aside = await setAside(file, new Date('2024-05-01T10:11:12.345Z'));
    expect(aside).to.equal(`${file}.corrupt-2024-05-01T10-11-12-345Z`);
    expect(await readFile(aside!, 'utf8')).to.equal('{"trunc');
    expect(await exists(file)).to.equal(false);
    expect(await setAside(file, new Date())).to.equal(undefined);
  });

  it('removes only the temp files', async () => {
    await writeFile(path.join(dir, 'a.json'), '{}');
    await writeFile(path.join(dir, 'a.json.0123456789ab.tmp'), '{');
    await writeFile(path.join(dir, 'a.json.corrupt-x'), '{');
    await removeTempFiles(dir);
    expect((await readdir(dir)).sort()).to.deep.equal(['a.json', 'a.json.corrupt-x']);
  });

  it('reads a missing file as undefined, and removes a missing file without error', async () => {
    const file = path.join(dir, 'none.json');
    expect(await readIfExists(file)).to.equal(undefined);
    expect(await exists(file)).to.equal(false);
    await removeDurably(file);
    await writeFile(file, 'x');
    expect(await readIfExists(file)).to.equal('x');
    await removeDurably(file);
    expect(await exists(file)).to.equal(false);
  });
});
