/**
 * Runs tasks one after another per key, in call order, and different keys independently: writes
 * to one state record, or rounds on one leader cluster, can never overtake each other. A task's
 * failure goes to its caller only; the next task of the key runs all the same.
 */
export class KeyedQueue {
  /** Per key: the last task queued, settled either way. */
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(() => undefined, () => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Settles once every task queued for `key` so far has (read your own writes). */
  idle(key: string): Promise<void> {
    return this.#tails.get(key) ?? Promise.resolve();
  }

  /** Settles once every task queued so far, for any key, has. */
  async allIdle(): Promise<void> {
    await Promise.all(this.#tails.values());
  }
}
