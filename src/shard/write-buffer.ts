/**
 * The bounded FIFO between reads and writes (docs/architecture.md, shard step 4). It does not refuse
 * operations itself: the task stops issuing reads while the buffer plus what reads in flight may
 * still bring reaches its limits, so it ends at most one read over them.
 */
export interface BufferedOp<W> {
  readonly sizeInBytes: number;
  readonly window: W;
}

export class WriteBuffer<T extends BufferedOp<unknown>> {
  #items: T[] = [];
  #head = 0;
  #bytes = 0;

  get count(): number {
    return this.#items.length - this.#head;
  }

  get sizeInBytes(): number {
    return this.#bytes;
  }

  push(items: readonly T[]): void {
    for (const item of items) {
      this.#items.push(item);
      this.#bytes += item.sizeInBytes;
    }
  }

  /** Takes at least one op (when any), then more while under both limits. */
  take(maxCount: number, maxBytes: number): T[] {
    const batch: T[] = [];
    let bytes = 0;
    while (this.#head < this.#items.length && batch.length < maxCount) {
      const next = this.#items[this.#head]!;
      if (batch.length > 0 && bytes + next.sizeInBytes > maxBytes) break;
      batch.push(next);
      bytes += next.sizeInBytes;
      this.#head += 1;
    }
    this.#bytes -= bytes;
    // Compact once the consumed prefix dominates, so the array does not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return batch;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
