/**
 * Watches one leader index for all of its shard tasks (docs/architecture.md, shard steps 1 and 2):
 *
 * - Global checkpoints. One `_stats` call serves every shard, so shard tasks register waiters
 *   ("tell me when shard N's global checkpoint is above X") and a single poll loop answers them.
 *   It polls fast while checkpoints move and backs off to `maxPollIntervalMs` while idle.
 *   (Neither flavor offers a REST long-poll on global checkpoints without x-pack's fleet API.)
 *   With the leader cluster's shared checkpoint probe (cluster-probes.ts), its polls join the
 *   probe's rounds: the fast ones its `soon` lane, and once backed off to `maxPollIntervalMs`
 *   its `tick` lane, so every idle index of that leader shares one request per tick; an idle
 *   index stays registered there until an answer is news (a checkpoint moved, a waiter's deadline),
 *   so a tick costs it a predicate call, not a new read.
 * - Visibility. Search only sees refreshed operations, so before a shard reads up to seq_no S the
 *   watcher guarantees that a refresh *started after* a stats answer showing global checkpoint >= S
 *   has completed. Refreshes are shared: one refresh serves every shard whose need it covers, and
 *   only one runs at a time. A caller the running refresh does not cover waits for the next one,
 *   which starts when it ends and covers everything seen by then. (Starting a refresh for every
 *   new checkpoint queued them on the leader's one-thread refresh pool under writes: 5–9 a second,
 *   each waiting behind the others, so reads waited seconds for visibility.)
 *   The metadata versions that cover what a read found are read after it, with the index's uuid
 *   (index-identity.ts), not here.
 */
import { setMaxListeners } from 'node:events';
import type { ClusterClient } from '../cluster/cluster-client.js';
import { ClusterShardUnavailableError, IllegalReplicationStateError } from '../cluster/errors.js';
import type { ShardSeqNoState } from '../cluster/types.js';
import type { LeaderCheckpoint } from '../shard/ports.js';
import { abortError, raceAbort, sleep as realSleep, type Sleep } from '../util/sleep.js';
import type { IndexProbe } from './index-batch-probe.js';

export interface WatcherOptions {
  readonly minPollIntervalMs?: number;
  readonly maxPollIntervalMs?: number;
  /** The leader cluster's shared checkpoint probe; absent: this index's own `_stats` request. */
  readonly probe?: IndexProbe<ShardSeqNoState[]>;
  readonly now?: () => number;
  readonly sleep?: Sleep;
}

interface Waiter {
  readonly shard: number;
  readonly above: number;
  readonly deadline: number;
  readonly resolve: (c: LeaderCheckpoint) => void;
  readonly reject: (err: unknown) => void;
}

interface Refresh {
  /** Global checkpoint per shard that this refresh makes visible. */
  readonly covers: ReadonlyMap<number, number>;
  readonly done: Promise<void>;
}

export class LeaderIndexWatcher {
  readonly #client: ClusterClient;
  readonly #index: string;
  readonly #minInterval: number;
  readonly #maxInterval: number;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  readonly #probe: IndexProbe<ShardSeqNoState[]> | undefined;
  readonly #lifetime = new AbortController();

  readonly #waiters = new Set<Waiter>();
  #polling = false;
  /** The poll interval reached, and whether the index is idle (polled at the shared probe's tick). */
  #interval: number;
  #idle = false;
  /** An answer taken during an idle read showed a checkpoint move (the read ends at that answer). */
  #movedWhileIdle = false;
  #wakeUp: AbortController | undefined;
  #latest = new Map<number, ShardSeqNoState>();
  #lastAnswerAt: number | undefined;
  #visibleUpTo = new Map<number, number>();
  #current: Refresh | undefined;
  /** The refresh that starts when `#current` ends, shared by every caller it does not cover. */
  #next: Promise<void> | undefined;

  constructor(client: ClusterClient, index: string, options: WatcherOptions = {}) {
    this.#client = client;
    this.#index = index;
    this.#minInterval = options.minPollIntervalMs ?? 50;
    this.#maxInterval = options.maxPollIntervalMs ?? 1000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? realSleep;
    this.#probe = options.probe;
    this.#interval = this.#minInterval;
    // Every request of every shard of this index listens on the lifetime signal.
    setMaxListeners(0, this.#lifetime.signal);
  }

  /** When the leader last answered a checkpoint poll (epoch ms); undefined before its first answer. */
  get lastAnswerAt(): number | undefined {
    return this.#lastAnswerAt;
  }

  /** The latest known state of a shard, without asking the leader. */
  latest(shard: number): ShardSeqNoState | undefined {
    return this.#latest.get(shard);
  }

  awaitGlobalCheckpoint(shard: number, above: number, timeoutMs: number, signal: AbortSignal): Promise<LeaderCheckpoint> {
    const known = this.#latest.get(shard);
    if (known && known.globalCheckpoint > above) return Promise.resolve(toCheckpoint(known));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(abortError());
      };
      const waiter: Waiter = {
        shard, above, deadline: this.#now() + timeoutMs,
        resolve: (c) => { signal.removeEventListener('abort', onAbort); resolve(c); },
        reject: (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
      };
      if (signal.aborted) {
        reject(abortError());
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
      // A new waiter should not sit out a long idle backoff that started before it came.
      this.#wakeUp?.abort();
      this.#ensurePolling();
    });
  }

  /**
   * Resolves once every operation of `shard` up to `seqNo` (at or below a global checkpoint this
   * watcher reported) is visible to search.
   */
  async ensureVisible(shard: number, seqNo: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw abortError();
    if ((this.#visibleUpTo.get(shard) ?? -1) >= seqNo) return;
    const known = this.#latest.get(shard)?.globalCheckpoint ?? -1;
    if (known < seqNo) throw new IllegalReplicationStateError(`shard ${shard}: seq_no ${seqNo} is above every global checkpoint seen (${known})`);
    const current = this.#current;
    if (current && (current.covers.get(shard) ?? -1) >= seqNo) return raceAbort(current.done, signal);
    // The next refresh takes its coverage when it starts, from checkpoints that only grow: it covers `seqNo`.
    if (this.#next) return raceAbort(this.#next, signal);
    if (current === undefined) return raceAbort(this.#startRefresh().done, signal);
    this.#next = current.done.then(() => undefined, () => undefined).then(() => {
      this.#next = undefined;
      return this.#startRefresh().done;
    });
    return raceAbort(this.#next, signal);
  }

  close(): void {
    this.#lifetime.abort();
    this.#wakeUp?.abort();
    for (const w of this.#waiters) w.reject(abortError());
    this.#waiters.clear();
  }

  #startRefresh(): Refresh {
    const covers = new Map([...this.#latest].map(([shard, s]) => [shard, s.globalCheckpoint]));
    const signal = this.#lifetime.signal;
    const done = (async () => {
      await this.#client.refresh(this.#index, signal);
      for (const [shard, gcp] of covers) this.#visibleUpTo.set(shard, Math.max(gcp, this.#visibleUpTo.get(shard) ?? -1));
    })();
    const refresh: Refresh = { covers, done };
    this.#current = refresh;
    // Callers observe failures through `done`; this handler only clears the slot.
    const clear = (): void => {
      if (this.#current === refresh) this.#current = undefined;
    };
    done.then(clear, clear);
    return refresh;
  }

  #ensurePolling(): void {
    if (this.#polling) return;
    this.#polling = true;
    void this.#pollLoop().finally(() => {
      this.#polling = false;
      // A waiter may have arrived between the loop's last check and its end.
      if (this.#waiters.size > 0 && !this.#lifetime.signal.aborted) this.#ensurePolling();
    });
  }

  async #pollLoop(): Promise<void> {
    // Kept from the loop before: a shard task asks again each time its wait ends (read_poll_timeout),
    // which must not start an idle index over at the fast pace (a few extra requests each time).
    let interval = this.#interval;
    let idle = this.#idle;
    while (this.#waiters.size > 0 && !this.#lifetime.signal.aborted) {
      try {
        const shards = await this.#readCheckpoints(idle);
        // An idle read has recorded its answers as they came (#readCheckpoints): whether one moved is kept.
        const moved = this.#record(shards) || this.#movedWhileIdle;
        this.#movedWhileIdle = false;
        this.#lastAnswerAt = this.#now();
        interval = moved ? this.#minInterval : Math.min(interval * 2, this.#maxInterval);
        idle = this.#probe !== undefined && !moved && interval >= this.#maxInterval;
        this.#interval = interval;
        this.#idle = idle;
        this.#answerWaiters();
      } catch (err) {
        // Every current waiter gets the error; its shard task's retry policy decides what next.
        for (const w of this.#waiters) w.reject(err);
        this.#waiters.clear();
        return;
      }
      if (this.#waiters.size === 0) return;
      if (idle) continue;
      const nearestDeadline = Math.min(...[...this.#waiters].map((w) => w.deadline));
      const wait = Math.max(0, Math.min(interval, nearestDeadline - this.#now()));
      this.#wakeUp = new AbortController();
      // The sleep ends early (rejects) when a new waiter arrives or the watcher closes.
      await this.#sleep(wait, this.#wakeUp.signal).catch(() => undefined);
      this.#wakeUp = undefined;
    }
  }

  #readCheckpoints(idle: boolean): Promise<ShardSeqNoState[]> {
    const signal = this.#lifetime.signal;
    if (this.#probe === undefined) return this.#client.shardSeqNos(this.#index, signal);
    if (!idle) return this.#probe.read(this.#index, 'soon', signal);
    // Idle: stay registered with the probe's tick, taking each answer as it comes, until one is news.
    return this.#probe.read(this.#index, 'tick', signal, (shards) => {
      if (this.#record(shards)) this.#movedWhileIdle = true;
      this.#lastAnswerAt = this.#now();
      return this.#movedWhileIdle || this.#waiters.size === 0 || this.#someWaiterDue();
    });
  }

  /** A waiter whose deadline passed, or whose shard has no state (answered with an error). */
  #someWaiterDue(): boolean {
    const now = this.#now();
    for (const w of this.#waiters) if (now >= w.deadline || !this.#latest.has(w.shard)) return true;
    return false;
  }

  /** Stores a stats answer; true when any shard's global checkpoint moved. */
  #record(shards: readonly ShardSeqNoState[]): boolean {
    let moved = false;
    for (const s of shards) {
      const before = this.#latest.get(s.shard);
      // The same answer as last time (an idle index, every tick): nothing to store.
      if (before !== undefined && s.globalCheckpoint === before.globalCheckpoint && s.maxSeqNo === before.maxSeqNo && s.localCheckpoint === before.localCheckpoint) continue;
      if (!before || s.globalCheckpoint > before.globalCheckpoint) moved = true;
      // Keep the checkpoint monotonic: a copy promoted to primary may briefly report an older one.
      const globalCheckpoint = Math.max(s.globalCheckpoint, before?.globalCheckpoint ?? -1);
      this.#latest.set(s.shard, { ...s, globalCheckpoint });
    }
    return moved;
  }

  #answerWaiters(): void {
    const now = this.#now();
    for (const w of [...this.#waiters]) {
      const s = this.#latest.get(w.shard);
      if (!s) {
        this.#waiters.delete(w);
        // Its primary has not started yet (a new or reopening index): retried by the shard task.
        w.reject(new ClusterShardUnavailableError({
          alias: this.#client.alias, operation: 'read shard sequence numbers', reason: `shard ${w.shard} of leader index [${this.#index}] is not started`,
        }));
      } else if (s.globalCheckpoint > w.above || now >= w.deadline) {
        this.#waiters.delete(w);
        w.resolve(toCheckpoint(s));
      }
    }
  }
}

function toCheckpoint(s: ShardSeqNoState): LeaderCheckpoint {
  return { globalCheckpoint: s.globalCheckpoint, maxSeqNo: s.maxSeqNo };
}
