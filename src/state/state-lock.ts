/**
 * Which daemon uses a state index, as the file backend's `daemon.lock` says for a directory:
 * one document (`daemon-lock`) naming the owner and until when it holds the state. The owner
 * renews it every third of `timeoutMs`, each renewal conditional on its own last write, so a
 * renewal that finds the document changed knows that another daemon has taken the state over.
 * A daemon that dies stops renewing; once the expiry has passed another daemon may take over.
 *
 * A lock the owner could not renew in time, or that someone else holds now, is lost: `onLost` is
 * called once, and the owner must stop working on this state (the store refuses writes from then
 * on). The owner gives up a third of the timeout before the expiry, so it has stopped before anyone
 * may take over.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { DocVersion, StateDocuments } from './cluster-state-store.js';

export const LOCK_ID = 'daemon-lock';
/** How long a daemon holds a state index without renewing (a dead daemon's state is free after this). */
export const STATE_LOCK_TIMEOUT_MS = 30_000;

export interface LockOwner {
  /** Unique per daemon start. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
}

/** This process as a lock owner, under a new id (`label` says what holds it, e.g. a migration). */
export function processOwner(label?: string): LockOwner {
  return { id: `${label === undefined ? '' : `${label}-`}${randomUUID()}`, host: hostname(), pid: process.pid };
}

export interface StateLockOptions {
  readonly owner: LockOwner;
  readonly timeoutMs: number;
  readonly onLost: (reason: string) => void;
  readonly now?: () => number;
}

interface LockSource {
  readonly owner?: string;
  readonly host?: string;
  readonly pid?: number;
  readonly expires_at?: number;
}

export class StateInUseError extends Error {
  override readonly name = 'StateInUseError';
  constructor(readonly location: string, holder: LockSource) {
    super(`the state in ${location} is in use by the daemon on ${holder.host ?? 'an unknown host'} (pid ${holder.pid ?? '?'}) `
      + `until ${new Date(holder.expires_at ?? 0).toISOString()}; one daemon uses a state at a time: stop that one, or start this one after it has been gone that long`);
  }
}

/**
 * Refuses (`StateInUseError`) while someone holds the lock for the state alone — a migration
 * (`state migrate`) — so that daemons sharing the state through leases do not start under it.
 */
export async function refuseWhileLocked(docs: StateDocuments, now: () => number = Date.now): Promise<void> {
  const held = (await docs.get(LOCK_ID))?.source as LockSource | undefined;
  if (held !== undefined && (held.expires_at ?? 0) > now()) throw new StateInUseError(docs.location, held);
}

export class StateLock {
  #version: DocVersion;
  #expiresAt: number;
  #timer: NodeJS.Timeout | undefined;
  /** Fires when no renewal has landed in time: a renewal request that hangs must not keep the lock alive. */
  #deadline: NodeJS.Timeout | undefined;
  #lost: string | undefined;
  #renewing: Promise<void> | undefined;
  /** Why the last renewal failed, for the message when the lock is given up. */
  #lastError = 'no answer';

  private constructor(private readonly docs: StateDocuments, private readonly options: StateLockOptions, version: DocVersion, expiresAt: number) {
    this.#version = version;
    this.#expiresAt = expiresAt;
  }

  /** Takes the lock if it is free or expired; throws `StateInUseError` while another daemon holds it. */
  static async acquire(docs: StateDocuments, options: StateLockOptions): Promise<StateLock> {
    const now = options.now ?? Date.now;
    const current = await docs.get(LOCK_ID);
    const held = current?.source as LockSource | undefined;
    if (current && held?.owner !== options.owner.id && (held?.expires_at ?? 0) > now()) throw new StateInUseError(docs.location, held ?? {});
    const expiresAt = now() + options.timeoutMs;
    const written = await docs.put(LOCK_ID, lockSource(options.owner, expiresAt), current ? { version: current } : { absent: true });
    // Another daemon took it between our read and our write.
    if (written === 'conflict') throw new StateInUseError(docs.location, (await docs.get(LOCK_ID))?.source as LockSource ?? {});
    const lock = new StateLock(docs, options, written, expiresAt);
    lock.#armDeadline();
    lock.#schedule();
    return lock;
  }

  /** Why the lock was lost, or undefined while it is held. */
  get lost(): string | undefined {
    return this.#lost;
  }

  /** Stops renewing and frees the lock, so another daemon may start at once. */
  async release(): Promise<void> {
    clearTimeout(this.#timer);
    clearTimeout(this.#deadline);
    if (this.#lost !== undefined) return;
    // Before waiting for a renewal in flight: marked released, it schedules no further one.
    this.#lost = 'released';
    await this.#renewing;
    const current = await this.docs.get(LOCK_ID);
    if ((current?.source as LockSource | undefined)?.owner === this.options.owner.id) await this.docs.delete(LOCK_ID);
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#renewing = this.#renew().finally(() => (this.#renewing = undefined));
    }, Math.max(1, Math.floor(this.options.timeoutMs / 3)));
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    const now = this.options.now ?? Date.now;
    const expiresAt = now() + this.options.timeoutMs;
    try {
      const written = await this.docs.put(LOCK_ID, lockSource(this.options.owner, expiresAt), { version: this.#version });
      if (this.#lost !== undefined) return; // given up while the request was out: too late to count
      if (written === 'conflict') {
        this.#lose('another daemon has taken the state over (the lock was renewed too late, or this daemon was cut off)');
        return;
      }
      this.#version = written;
      this.#expiresAt = expiresAt;
      this.#armDeadline();
    } catch (err) {
      this.#lastError = (err as Error).message;
    }
    if (this.#lost === undefined) this.#schedule();
  }

  /** Gives up a third of the timeout before the expiry: the work must stop before anyone may take over. */
  #armDeadline(): void {
    clearTimeout(this.#deadline);
    const now = this.options.now ?? Date.now;
    this.#deadline = setTimeout(() => {
      this.#lose(`the lock could not be renewed before it expires (${this.#lastError})`);
    }, Math.max(0, this.#expiresAt - this.options.timeoutMs / 3 - now()));
    this.#deadline.unref();
  }

  #lose(reason: string): void {
    if (this.#lost !== undefined) return;
    clearTimeout(this.#timer);
    clearTimeout(this.#deadline);
    this.#lost = reason;
    this.options.onLost(reason);
  }
}

function lockSource(owner: LockOwner, expiresAt: number): Record<string, unknown> {
  return { kind: 'lock', key: 'daemon', owner: owner.id, host: owner.host, pid: owner.pid, expires_at: expiresAt };
}
