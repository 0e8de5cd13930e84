/**
 * How far reads may run ahead of the writes they feed, shared by every shard writing to one
 * follower cluster (README, "Performance"). Each shard on its own keeps at most two windows
 * buffered or being read, and as many bulks as the follower's budget allows: with many followed
 * indices, or several shards, that let operations pile up in bulks waiting for a slot (three shards
 * queued a dozen bulks of 5,000 behind six in flight, each waiting seconds) and let 60 shards hold
 * 120 windows at once — hundreds of MB, dozens of searches on the leader — although the follower
 * takes only a few bulks at a time. Here everything the shards of one follower cluster hold
 * (operations buffered, being read, or in bulks not yet answered) stays within the bulks the
 * follower takes at once (the adaptive budget's limit) plus `aheadWindows` windows, and the
 * shards take turns.
 *
 * Each shard reports what it holds after every change, and asks before each read. A shard refused
 * waits in line and is woken, in order, once there is room; the first in line is served first, so
 * no shard is passed over forever. Pure: no timers, no I/O.
 */

export interface ReadAheadShare {
  /**
   * Whether a read of `ops` operations may start now; when not, the shard waits in line and
   * `wake` is called (once) when it is its turn.
   */
  tryTake(ops: number, wake: () => void): boolean;
  /** What the shard holds now: operations buffered, being read, or in bulks not yet answered. */
  report(ops: number): void;
  /** The shard does not want to read now (it may ask again later). */
  leaveLine(): void;
  /** The shard stopped: what it held is free. */
  close(): void;
}

interface Waiter {
  readonly id: number;
  readonly wake: () => void;
}

export class SharedReadAhead {
  readonly #limit: () => number;
  readonly #aheadWindows: number;
  /** What each shard holds, in its own windows (shards may read in windows of different sizes). */
  readonly #held = new Map<number, number>();
  #sum = 0;
  readonly #line: Waiter[] = [];
  #woken: number | undefined;
  #nextId = 0;

  /** `limit`: bulk requests the follower takes at once now; what the shards hold stays `aheadWindows` windows beyond them. */
  constructor(limit: () => number, aheadWindows = 3) {
    this.#limit = limit;
    this.#aheadWindows = aheadWindows;
  }

  /** Windows held by all shards together. */
  get heldWindows(): number {
    return this.#sum;
  }

  /** Shards waiting for their turn. */
  get waiting(): number {
    return this.#line.length;
  }

  /** One shard's share; it reads in windows of `windowOps` operations. */
  join(windowOps: number): ReadAheadShare {
    const id = this.#nextId++;
    const windows = (ops: number): number => ops / Math.max(1, windowOps);
    this.#held.set(id, 0);
    return {
      tryTake: (ops, wake) => this.#tryTake(id, windows(ops), wake),
      report: (ops) => this.#set(id, windows(ops)),
      leaveLine: () => this.#leaveLine(id),
      close: () => {
        this.#leaveLine(id);
        this.#set(id, 0);
        this.#held.delete(id);
      },
    };
  }

  #tryTake(id: number, windows: number, wake: () => void): boolean {
    const first = this.#line[0];
    const itsTurn = first === undefined || first.id === id;
    const capacity = this.#limit() + this.#aheadWindows;
    // With nothing held anywhere one read always goes, however large, so that no shard waits for ever.
    if (itsTurn && (this.#sum + windows <= capacity || this.#sum === 0)) {
      if (first?.id === id) this.#line.shift();
      if (this.#woken === id) this.#woken = undefined;
      this.#set(id, (this.#held.get(id) ?? 0) + windows);
      this.#wakeNext();
      return true;
    }
    if (!this.#line.some((w) => w.id === id)) this.#line.push({ id, wake });
    // Refused after a wake: woken again at the next change that may make room.
    if (this.#woken === id) this.#woken = undefined;
    return false;
  }
  #leaveLine(id: number): void {
    const at = this.#line.findIndex((w) => w.id === id);
    if (at < 0) return;
    this.#line.splice(at, 1);
    if (this.#woken === id) this.#woken = undefined;
    this.#wakeNext();
  }

  #set(id: number, windows: number): void {
    const before = this.#held.get(id);
    // Most reports repeat what the shard held already (every coordination reports).
    if (before === undefined || before === windows) return;
    this.#held.set(id, windows);
    // Summed afresh, not adjusted: fractions of windows added and taken away would drift from 0.
    let sum = 0;
    for (const held of this.#held.values()) sum += held;
    this.#sum = sum;
    if (windows < before) this.#wakeNext();
  }

  /** Wakes the first in line when there may be room for it, once until it takes or leaves. */
  #wakeNext(): void {
    const first = this.#line[0];
    if (first === undefined || this.#woken === first.id) return;
    this.#woken = first.id;
    // Woken after the caller's own step, never inside it.
    queueMicrotask(() => {
      if (this.#woken === first.id) first.wake();
    });
  }
}
