/**
 * File operations that survive a crash or a power loss at any instant:
 * - `writeAtomically` writes a temp file beside the target, fsyncs it, renames it over the target
 *   and fsyncs the directory, so a reader sees the old content or the new, whole, never a torn
 *   file; a write that fails removes its temp file and leaves the target as it was;
 * - `removeDurably` and `setAside` fsync the directory after removing or renaming;
 * - temp files of writes cut short by a crash end in `.tmp`; `removeTempFiles` clears them.
 * Nothing here knows what the files hold.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import nodePath from 'node:path';

const TEMP_SUFFIX = '.tmp';

/** Replaces `file` with `text`, whole or not at all (see above). */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
  try {
    await writeDurably(temp, text);
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(nodePath.dirname(file)); // makes the rename itself survive a power loss
}

/** Writes `text` to `file` (created or truncated) and fsyncs it; not atomic on its own. */
export async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes `file` if it exists, and makes the removal durable. */
export async function removeDurably(file: string): Promise<void> {
  await rm(file, { force: true });
  await syncDirectory(nodePath.dirname(file));
}

/**
 * Renames `file` to `${file}.corrupt-<at>` beside it, where nothing reads it, for inspection;
 * answers the new path, or undefined if there was no file.
 */
export async function setAside(file: string, at: Date): Promise<string | undefined> {
  if (!(await exists(file))) return undefined;
  const aside = `${file}.corrupt-${at.toISOString().replace(/[:.]/g, '-')}`;
  await rename(file, aside);
  await syncDirectory(nodePath.dirname(file));
  return aside;
}

/** Removes the temp files in `dir` that writes cut short by a crash left behind. */
export async function removeTempFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.endsWith(TEMP_SUFFIX)) await rm(nodePath.join(dir, name), { force: true });
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** The file's text; undefined if it does not exist. */
export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
