/**
 * Tries one write of a follower's state again every `intervalMs` until it lands: the checkpoints of
 * a follower paused because they could not be saved (then it resumes), or the record of a pause
 * that could not be stored. Each try is `attempt`, which the follower runs in its serialised
 * transitions and which rejects while the state still refuses; a stopped probe tries no more.
 */
import type { Logger } from '../util/logger.js';

export class StateProbe {
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly attempt: () => Promise<void>,
    private readonly logger: Logger,
  ) {
    this.#schedule();
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      if (this.#stopped) return;
      this.attempt().then(() => {
        this.#stopped = true;
      }, (err: unknown) => {
        this.logger.debug(`state still not writable: ${(err as Error).message}`);
        if (!this.#stopped) this.#schedule();
      });
    }, this.intervalMs);
    this.#timer.unref();
  }
}
