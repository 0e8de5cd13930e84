/**
 * Lets bulk writes to the follower index run together, but stops them — and waits for those in
 * flight — while the index is closed for a static settings change (CCR closes, updates and
 * reopens the follower the same way).
 */
import { abortError } from '../util/sleep.js';

export class WriteGate {
  #active = 0;
  #closedFor: Promise<void> | undefined;
  #drained: (() => void)[] = [];

  /** Waits until writes are allowed, then counts one in; call the returned function when done. */
  async enter(signal: AbortSignal): Promise<() => void> {
    while (this.#closedFor) {
      if (signal.aborted) throw abortError();
      await this.#closedFor;
    }
    this.#active += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#active -= 1;
      if (this.#active === 0) for (const resolve of this.#drained.splice(0)) resolve();
    };
  }

  /** Runs `fn` with no write in flight and none starting until it ends. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#closedFor) await this.#closedFor;
    let open!: () => void;
    this.#closedFor = new Promise((resolve) => (open = resolve));
    try {
      if (this.#active > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
      return await fn();
    } finally {
      this.#closedFor = undefined;
      open();
    }
  }
}
