/**
 * Collects shard checkpoints as they advance and persists them in batches (docs/architecture.md,
 * shard step 6): at most once per interval while they move, and on demand (pause, shutdown). A
 * failed save is logged and retried at the next tick; losing it only means re-applying operations,
 * never loss. A save the state's storage refuses (read-only, full, permission denied:
 * `StateWriteError`) is also reported to `onWriteFailure`, so the follower can stop instead of
 * running on with progress it cannot record.
 */
import { StateWriteError, type FollowerKey, type StateStore } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';

export class CheckpointBatcher {
  readonly #key: FollowerKey;
  readonly #state: StateStore;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #checkpoints: Record<number, number>;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<void> = Promise.resolve();
  readonly #onWriteFailure: ((err: StateWriteError) => void) | undefined;

  constructor(
    key: FollowerKey, state: StateStore, logger: Logger, initial: Readonly<Record<number, number>>, intervalMs = 1000,
    onWriteFailure?: (err: StateWriteError) => void,
  ) {
    this.#onWriteFailure = onWriteFailure;
    this.#key = key;
    this.#state = state;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
    this.#checkpoints = { ...initial };
  }

  get(shard: number): number {
    return this.#checkpoints[shard] ?? -1;
  }

  snapshot(): Readonly<Record<number, number>> {
    return { ...this.#checkpoints };
  }

  update(shard: number, checkpoint: number): void {
    if (checkpoint <= this.get(shard)) return;
    this.#checkpoints[shard] = checkpoint;
    this.#dirty = true;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#intervalMs);
  }

  /** Persists now if anything changed; saves are serialised so the newest always lands last. */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#saving = this.#saving.then(async () => {
      if (!this.#dirty) return;
      this.#dirty = false;
      const snapshot = this.snapshot();
      try {
        await this.#state.saveCheckpoints(this.#key, snapshot);
      } catch (err) {
        this.#dirty = true;
        this.#logger.error(`could not persist checkpoints: ${(err as Error).message}`);
        if (err instanceof StateWriteError) this.#onWriteFailure?.(err);
      }
    });
    return this.#saving;
  }
}
