/**
 * The rules several daemons share the work of one state index by: who may take a lease, when a
 * holder must give one up, and how many each should hold. Pure: no I/O and no clock of its own
 * (`now` is passed in, a monotonic time in ms), so every rule is tested with a hand-moved clock.
 *
 * Expiry is never judged by comparing wall clocks of two machines. A holder rewrites its lease
 * every third of the timeout; each write changes the document's version (`_seq_no`). A lease is
 * expired for an observer once the observer has seen the *same* version for a whole timeout on
 * its own monotonic clock (as Kibana's Task Manager and OpenSearch's Job Scheduler judge their
 * locks, with the difference that no host's wall clock is trusted). The holder gives up — stops
 * the work — two thirds of a timeout after it *sent* its last renewal that landed. The version an
 * observer sees was written after that send, so the observer's timeout starts later than the
 * holder's: the holder has stopped a third of a timeout before anyone may take over, whatever
 * the wall clocks say. Only the clocks' rates must agree (they do to within parts per million).
 */

/** Renewal period: a third of the timeout. */
export function renewalIntervalMs(timeoutMs: number): number {
  return Math.max(1, Math.floor(timeoutMs / 3));
}

/** When a holder whose last landed renewal was sent at `sentAt` must have stopped the work. */
export function giveUpAt(sentAt: number, timeoutMs: number): number {
  return sentAt + timeoutMs - renewalIntervalMs(timeoutMs);
}

/** The most leases each of `members` live daemons should hold of `leases`: ceil(M/N). */
export function fairShare(leases: number, members: number): number {
  return members <= 0 ? leases : Math.ceil(leases / members);
}

/**
 * How many leases a member holding `held` should hand over now. Above its fair share: the
 * surplus. At its share while another live member holds two or more fewer: one, so a daemon
 * that joins a stable fleet gets its share. Never while below the share (it would take and give
 * at once). `others`: how many each other live member holds, as its heartbeat last said.
 */
export function surplus(held: number, leases: number, others: readonly number[]): number {
  const share = fairShare(leases, others.length + 1);
  if (held > share) return held - share;
  if (held === share && held > 0 && others.some((n) => n <= held - 2)) return 1;
  return 0;
}

/**
 * Remembers when this observer first saw each document at its current version: a document
 * unchanged for a whole timeout on this clock belongs to someone who stopped renewing.
 */
export class Sightings {
  readonly #seen = new Map<string, { readonly version: string; readonly since: number }>();

  /** Records that `id` is at `version` now; the time resets only when the version changed. */
  see(id: string, version: string, now: number): void {
    const previous = this.#seen.get(id);
    if (previous?.version !== version) this.#seen.set(id, { version, since: now });
  }

  /** How long `id` has been seen unchanged (0 when never seen). */
  unchangedFor(id: string, now: number): number {
    const seen = this.#seen.get(id);
    return seen === undefined ? 0 : now - seen.since;
  }

  /** Keeps only the ids in `present` (documents deleted since are forgotten). */
  keepOnly(present: ReadonlySet<string>): void {
    for (const id of this.#seen.keys()) if (!present.has(id)) this.#seen.delete(id);
  }
}

/** A lease document as a scan read it. */
export interface LeaseSeen {
  /** The resource it is a lease on (`follower:<key>`, `pattern:<name>`). */
  readonly resource: string;
  /** The holder's member id; null once released. */
  readonly owner: string | null;
  /** `_seq_no/_primary_term`: changes with every write. */
  readonly version: string;
}

export interface RoundInput {
  readonly me: string;
  readonly now: number;
  readonly timeoutMs: number;
  /** Every resource there is a lease on, or may be (each follower record and pattern in the state). */
  readonly resources: readonly string[];
  /** The lease documents, by resource. */
  readonly leases: ReadonlyMap<string, LeaseSeen>;
  /** Resources whose lease this member holds (and renews). */
  readonly held: ReadonlySet<string>;
  /** Lease documents by resource, as seen over time by this member (lease-keeper feeds it). */
  readonly sightings: Sightings;
  /** How many leases each *other* live member holds. */
  readonly others: ReadonlyMap<string, number>;
}

export interface RoundPlan {
  /** Resources whose lease to take now (conditional writes: another may win the race). */
  readonly take: readonly string[];
  /** Resources to hand over: pause their work, save, then mark the lease free. */
  readonly release: readonly string[];
  /** Lease documents of resources that no longer exist (listed before the resources were). */
  readonly orphans: readonly string[];
}

/**
 * One round of a member: which free or expired leases to take (up to its fair share) and which to
 * hand over. A lease is free when it has no document, was released, or names this member while
 * this member does not hold it (it gave it up while cut off and nobody took it: the conditional
 * write takes it back only if it is still unchanged). It is expired when unchanged for a timeout.
 */
export function planRound(input: RoundInput): RoundPlan {
  const { me, now, timeoutMs, held, sightings } = input;
  const existing = new Set(input.resources);
  const share = fairShare(existing.size, input.others.size + 1);
  const free: string[] = [];
  for (const resource of input.resources) {
    if (held.has(resource)) continue;
    const lease = input.leases.get(resource);
    const available = lease === undefined || lease.owner === null || lease.owner === me
      || sightings.unchangedFor(resource, now) >= timeoutMs;
    if (available) free.push(resource);
  }
  const room = Math.max(0, share - held.size);
  // Members start their walk at different places, so that they rarely race for the same lease.
  const take = rotate(free.sort(), me).slice(0, room);
  const heldNow = [...held].filter((r) => existing.has(r)).sort();
  const give = take.length > 0 ? 0 : surplus(heldNow.length, existing.size, [...input.others.values()]);
  // The leases are listed before the resources, so a lease whose resource is missing has lost it.
  const orphans = [...input.leases.keys()].filter((r) => !existing.has(r) && !held.has(r)).sort();
  return { take, release: heldNow.slice(heldNow.length - give), orphans };
}

/** `items` (sorted) starting from the first one above a position derived from `me`. */
function rotate(items: string[], me: string): string[] {
  if (items.length === 0) return items;
  let hash = 0;
  for (const c of me) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  const start = hash % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}
