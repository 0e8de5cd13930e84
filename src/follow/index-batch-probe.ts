/**
 * One read for many indices of one cluster (docs/architecture.md, "Many followers, one probe"):
 * callers ask for one index each, and the probe answers all who asked within a round from one
 * request per run of names that fits a request line (`readMany`).
 *
 * Two lanes, so that idle indices cost one request per tick however many there are:
 * - `tick`: rounds on a fixed clock (multiples of `tickMs` since the epoch), so every idle caller,
 *   whenever it asked, shares the next tick's request.
 * - `soon`: a round `soonMs` after the first caller, for indices whose checkpoints are moving.
 *
 * A round's request starts after every caller it answers asked: an answer is never older than the
 * question. A caller that only wants news (`until`) stays registered across rounds until an answer
 * satisfies it: an idle index costs the probe a predicate call per round, not a promise, a timer
 * and an abort listener per caller and tick. An index the batched answer leaves out is read alone
 * (`readOne`): its own answer or error (deleted, closed, not started) is the one the caller gets,
 * as without the probe. A failed batch fails every caller of that round; each caller's own retry
 * decides what next.
 */
import { unrefTimer } from '../util/clock-tick.js';
import { abortError } from '../util/sleep.js';

export type ProbeLane = 'soon' | 'tick';

/** The one method callers use: `IndexBatchProbe` implements it, a test can fake it. */
export interface IndexProbe<T> {
  /**
   * The index's value from the next round of `lane`; with `until`, from the first round whose
   * value satisfies it (a failed round still rejects: the caller's retry decides what next).
   */
  read(index: string, lane: ProbeLane, signal: AbortSignal, until?: (value: T) => boolean): Promise<T>;
}

export interface IndexBatchProbeOptions<T> {
  readonly readMany: (indices: readonly string[], signal: AbortSignal) => Promise<ReadonlyMap<string, T>>;
  readonly readOne: (index: string, signal: AbortSignal) => Promise<T>;
  readonly tickMs: number;
  /** How long a `soon` round waits for more callers after the first. */
  readonly soonMs?: number;
  readonly now?: () => number;
  /** Arms a timer, returns its cancel (for tests). */
  readonly schedule?: (fn: () => void, ms: number) => () => void;
}

interface Caller<T> {
  readonly resolve: (v: T) => void;
  readonly reject: (err: unknown) => void;
  readonly until: ((value: T) => boolean) | undefined;
  /** Aborted: a round in flight must not answer it, nor keep it for the next. */
  readonly aborted: () => boolean;
}

interface Lane<T> {
  waiting: Map<string, Set<Caller<T>>>;
  cancel: (() => void) | undefined;
}

export interface ProbeStats {
  /** Rounds that sent a request (each may be several requests, one per run of names). */
  readonly rounds: number;
  /** Indices answered by those rounds, summed. */
  readonly indicesAnswered: number;
  /** Indices read alone because the batched answer left them out. */
  readonly readAlone: number;
}

export class IndexBatchProbe<T> implements IndexProbe<T> {
  readonly #o: IndexBatchProbeOptions<T>;
  readonly #now: () => number;
  readonly #schedule: (fn: () => void, ms: number) => () => void;
  readonly #lifetime = new AbortController();
  readonly #lanes: Record<ProbeLane, Lane<T>> = {
    soon: { waiting: new Map(), cancel: undefined },
    tick: { waiting: new Map(), cancel: undefined },
  };

  #rounds = 0;
  #indicesAnswered = 0;
  #readAlone = 0;

  constructor(options: IndexBatchProbeOptions<T>) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    // A pending round must not keep a finished process alive.
    this.#schedule = options.schedule ?? unrefTimer;
  }

  get stats(): ProbeStats {
    return { rounds: this.#rounds, indicesAnswered: this.#indicesAnswered, readAlone: this.#readAlone };
  }

  read(index: string, lane: ProbeLane, signal: AbortSignal, until?: (value: T) => boolean): Promise<T> {
    if (signal.aborted || this.#lifetime.signal.aborted) return Promise.reject(abortError());
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        // The lane's map at this moment: a caller kept for news moves to each new round's map.
        const waiting = this.#lanes[lane].waiting;
        const callers = waiting.get(index);
        callers?.delete(caller);
        if (callers?.size === 0) waiting.delete(index);
        reject(abortError());
      };
      const caller: Caller<T> = {
        resolve: (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
        reject: (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
        until,
        aborted: () => signal.aborted,
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#enqueue(lane, index, caller);
    });
  }

  /** Fails every waiting caller with an abort; later reads are refused. */
  close(): void {
    this.#lifetime.abort();
    for (const lane of Object.values(this.#lanes)) {
      lane.cancel?.();
      lane.cancel = undefined;
      const waiting = lane.waiting;
      lane.waiting = new Map();
      for (const callers of waiting.values()) for (const c of callers) c.reject(abortError());
    }
  }

  #enqueue(lane: ProbeLane, index: string, caller: Caller<T>): void {
    const waiting = this.#lanes[lane].waiting;
    let callers = waiting.get(index);
    if (callers === undefined) {
      callers = new Set();
      waiting.set(index, callers);
    }
    callers.add(caller);
    this.#arm(lane);
  }

  #keep(lane: ProbeLane, index: string, callers: Set<Caller<T>>): void {
    const waiting = this.#lanes[lane].waiting;
    const arrived = waiting.get(index);
    if (arrived === undefined) waiting.set(index, callers);
    else for (const c of callers) arrived.add(c);
    this.#arm(lane);
  }

  #arm(name: ProbeLane): void {
    const lane = this.#lanes[name];
    if (lane.cancel !== undefined) return;
    const now = this.#now();
    const delay = name === 'tick' ? (Math.floor(now / this.#o.tickMs) + 1) * this.#o.tickMs - now : this.#o.soonMs ?? 5;
    lane.cancel = this.#schedule(() => {
      lane.cancel = undefined;
      const batch = lane.waiting;
      lane.waiting = new Map();
      void this.#round(name, batch);
    }, delay);
  }

  async #round(lane: ProbeLane, batch: Map<string, Set<Caller<T>>>): Promise<void> {
    if (batch.size === 0) return;
    const signal = this.#lifetime.signal;
    const settle = (index: string, outcome: { value: T } | { error: unknown }): void => {
      const callers = batch.get(index);
      if (callers === undefined) return;
      for (const c of callers) {
        if (c.aborted()) {
          callers.delete(c);
          continue;
        }
        if ('error' in outcome) {
          callers.delete(c);
          c.reject(outcome.error);
          continue;
        }
        let news: boolean;
        try {
          news = c.until === undefined || c.until(outcome.value);
        } catch (err) {
          callers.delete(c);
          c.reject(err);
          continue;
        }
        if (news) {
          callers.delete(c);
          c.resolve(outcome.value);
        } else if (signal.aborted) {
          callers.delete(c);
          c.reject(abortError());
        }
      }
      // Those left had no news: they wait for the next round, in the same set (an idle index, every tick).
      if (callers.size > 0) this.#keep(lane, index, callers);
    };
    this.#rounds += 1;
    let answers: ReadonlyMap<string, T>;
    try {
      answers = await this.#o.readMany([...batch.keys()], signal);
    } catch (error) {
      for (const index of batch.keys()) settle(index, { error });
      return;
    }
    for (const index of batch.keys()) {
      const value = answers.get(index);
      if (answers.has(index)) {
        this.#indicesAnswered += 1;
        settle(index, { value: value as T });
        continue;
      }
      this.#readAlone += 1;
      this.#o.readOne(index, signal).then((v) => settle(index, { value: v }), (error: unknown) => settle(index, { error }));
    }
  }
}
