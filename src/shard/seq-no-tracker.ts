/**
 * Tracks which seq_no windows have been fully applied and derives the follower checkpoint.
 *
 * Invariants:
 * - `checkpoint` only grows, and every seq_no `<= checkpoint` lies in a window reported complete;
 * - windows may complete in any order; a window is only counted once the window just below it
 *   (ending where it starts) is also counted, so a gap always holds the checkpoint back;
 * - reporting a window that lies at or below the checkpoint is harmless (it was re-applied).
 */
export class SeqNoTracker {
  #checkpoint: number;
  /** Completed windows above the checkpoint: fromExclusive → toInclusive. */
  readonly #pending = new Map<number, number>();

  constructor(initialCheckpoint: number) {
    this.#checkpoint = initialCheckpoint;
  }

  get checkpoint(): number {
    return this.#checkpoint;
  }

  /** Number of completed windows waiting for a gap below them to close. */
  get pendingWindows(): number {
    return this.#pending.size;
  }

  /** Reports (fromExclusive, toInclusive] applied. Returns true when the checkpoint advanced. */
  markCompleted(fromExclusive: number, toInclusive: number): boolean {
    if (toInclusive < fromExclusive) throw new RangeError(`empty window (${fromExclusive}, ${toInclusive}]`);
    if (toInclusive <= this.#checkpoint) return false;
    if (fromExclusive < this.#checkpoint) fromExclusive = this.#checkpoint;
    const known = this.#pending.get(fromExclusive);
    this.#pending.set(fromExclusive, Math.max(known ?? toInclusive, toInclusive));
    const before = this.#checkpoint;
    // Absorb every window that starts at or below the checkpoint (windows are few: at most the
    // reads in flight), until none does.
    for (let advanced = true; advanced;) {
      advanced = false;
      for (const [from, to] of this.#pending) {
        if (from > this.#checkpoint) continue;
        this.#pending.delete(from);
        if (to > this.#checkpoint) {
          this.#checkpoint = to;
          advanced = true;
        }
      }
    }
    return this.#checkpoint > before;
  }
}
