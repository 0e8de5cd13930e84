/**
 * One daemon's side of sharing a state index with others: it keeps a heartbeat document
 * (`member:<id>`), takes leases (`lease:<resource>`, one per follower index and one per auto-follow
 * pattern) up to its share, renews them every third of the timeout, hands surplus over, and
 * runs through `LeaseWork` exactly the resources whose lease it holds. lease-rules.ts decides;
 * this does the writes, each conditional on the version last read or written, so of two daemons
 * racing for a lease one wins and the other learns it.
 *
 * A lease that cannot be renewed in time (cut off from the state cluster) or that someone else
 * took is lost: its work is stopped at once. The checkpoints it saved stay (the store merges them
 * by the highest per shard), so whoever takes it next starts from where it stopped.
 *
 * Two loops, each an AbortSignal-driven state machine of its own: the renewal loop (renew held
 * leases, then the heartbeat) and the scan loop (read the fleet, take and hand over). A guard
 * checks every held lease's give-up time several times per renewal period, so a renewal request
 * that hangs cannot keep work running past it.
 */
import { performance } from 'node:perf_hooks';
import type { DocVersion, StateDocument, StateDocuments } from '../state/cluster-state-store.js';
import type { Logger } from '../util/logger.js';
import { KeyedQueue } from '../util/keyed-queue.js';
import { sleep as defaultSleep, type Sleep } from '../util/sleep.js';
import { giveUpAt, type LeaseSeen, planRound, renewalIntervalMs, Sightings } from './lease-rules.js';

/** Who a member is, as its heartbeat says. */
export interface MemberInfo {
  /** Unique per daemon start. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  /** ISO 8601. */
  readonly started: string;
}

/** The work a lease stands for; the keeper calls these one at a time per resource. */
export interface LeaseWork {
  /** Starts running the resource here (its lease was just taken). A failure hands the lease back. */
  start(resource: string): Promise<void>;
  /** Stops running it here: `lost` at once, `released` gracefully (checkpoints saved). */
  stop(resource: string, why: 'lost' | 'released'): Promise<void>;
}

/** Another member holding a lease, as its heartbeat names it. */
export interface LeaseOwner {
  readonly id: string;
  readonly host?: string;
  readonly pid?: number;
  readonly control?: string;
}

/** A live member as the fleet sees it: its heartbeat document, and how long ago it last changed (this observer's clock). */
export interface FleetMember {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly control: string;
  readonly version: string;
  readonly started: string;
  readonly leases: readonly string[];
  readonly heartbeat_at: string;
  /** How long this observer has seen the heartbeat unchanged (0 for itself). */
  readonly silent_ms: number;
}

/** Who holds a resource's lease, as of the last scan. */
export interface LeaseHolding {
  /** The holder's member id, when a live member holds it (this one included). */
  readonly owner: LeaseOwner | undefined;
  /** How long the lease has been unchanged on this observer's clock: since its holder last renewed it, or since it was freed. */
  readonly unchangedMs: number;
}

/** The fleet as this member last saw it. */
export interface FleetSnapshot {
  readonly me: string;
  /** Live members, this one first. */
  readonly members: readonly FleetMember[];
  /** Every resource there was at the last scan (follower records, patterns): `follower:<key>`, `pattern:<name>`, … */
  readonly resources: readonly string[];
  /** The lease of a resource as of the last scan. */
  holding(resource: string): LeaseHolding;
}

export interface LeaseKeeperOptions {
  readonly docs: StateDocuments;
  readonly member: MemberInfo;
  readonly timeoutMs: number;
  readonly work: LeaseWork;
  readonly logger: Logger;
  /** Monotonic ms (default `performance.now`); never a wall clock. */
  readonly now?: () => number;
  readonly sleep?: Sleep;
}

export const LEASE_KIND = 'lease';
export const MEMBER_KIND = 'member';
/** A dead member's heartbeat is removed once unchanged this many timeouts (kept until then, naming what it held). */
const DEAD_MEMBER_TIMEOUTS = 5;

interface Held {
  version: DocVersion;
  /** When the renewal (or take) that wrote `version` was sent, on the monotonic clock. */
  sentAt: number;
}

export class LeaseKeeper {
  readonly #o: LeaseKeeperOptions;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  readonly #held = new Map<string, Held>();
  readonly #leaseSightings = new Sightings();
  readonly #memberSightings = new Sightings();
  /** Start, stop and hand-over of one resource, one at a time. */
  readonly #perResource = new KeyedQueue();
  /** Who holds each lease not ours, and the members' heartbeats, as of the last scan. */
  #owners = new Map<string, LeaseOwner>();
  /** The other live members' heartbeats as of the last scan. */
  #liveMembers: { id: string; source: Record<string, unknown> }[] = [];
  #resources: readonly string[] = [];
  #memberVersion: DocVersion | undefined;
  #control = '';
  #lastError = 'no answer';
  readonly #scanAbort = new AbortController();
  readonly #renewAbort = new AbortController();
  #loops: Promise<void>[] = [];
  #guard: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: LeaseKeeperOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? defaultSleep;
  }

  get memberId(): string {
    return this.#o.member.id;
  }

  /** Resources whose lease this member holds now. */
  held(): string[] {
    return [...this.#held.keys()].sort();
  }

  /** Who holds `resource`'s lease when another member does (as of the last scan); undefined otherwise. */
  ownerOf(resource: string): LeaseOwner | undefined {
    if (this.#held.has(resource)) return undefined;
    return this.#owners.get(resource);
  }

  /** The live members and who holds what, as of the last scan (this member's own part as of now). */
  fleet(): FleetSnapshot {
    const now = this.#now();
    const { member } = this.#o;
    const self: FleetMember = {
      id: member.id, host: member.host, pid: member.pid, control: this.#control, version: member.version, started: member.started,
      leases: this.held(), heartbeat_at: new Date().toISOString(), silent_ms: 0,
    };
    const others = this.#liveMembers.map(({ id, source: s }): FleetMember => ({
      id, host: String(s['host'] ?? ''), pid: Number(s['pid'] ?? 0), control: String(s['control'] ?? ''), version: String(s['version'] ?? ''),
      started: String(s['started'] ?? ''), leases: Array.isArray(s['leases']) ? (s['leases'] as unknown[]).map(String) : [],
      heartbeat_at: String(s['heartbeat_at'] ?? ''), silent_ms: Math.round(this.#memberSightings.unchangedFor(id, now)),
    }));
    return {
      me: member.id,
      members: [self, ...others.sort((a, b) => a.id.localeCompare(b.id))],
      resources: this.#resources,
      holding: (resource) => {
        const unchangedMs = Math.round(this.#leaseSightings.unchangedFor(resource, now));
        if (this.#held.has(resource)) return { owner: { id: member.id, host: member.host, pid: member.pid, control: this.#control }, unchangedMs: 0 };
        return { owner: this.#owners.get(resource), unchangedMs };
      },
    };
  }

  /**
   * Who holds `resource`'s lease now, read from its document (not the last scan): another member
   * (`owner`), nobody (`free`: released, or held here while its work is still starting), or no
   * lease at all (`none`: no such resource, or not yet scanned).
   */
  async currentHolder(resource: string): Promise<{ readonly owner: LeaseOwner } | 'free' | 'none'> {
    const doc = await this.#o.docs.get(leaseId(resource));
    if (doc === undefined) return 'none';
    const s = doc.source as { owner?: string | null; host?: string; pid?: number; control?: string };
    if (s.owner === null || s.owner === undefined || s.owner === this.memberId) return 'free';
    return { owner: { id: s.owner, host: s.host, pid: s.pid, control: s.control } };
  }

  /** Joins the fleet: a first heartbeat and scan, then the two loops. `control`: this daemon's control API address. */
  async start(control: string): Promise<void> {
    this.#control = control;
    await this.#heartbeat();
    await this.#scan().catch((err: unknown) => this.#o.logger.warn(`lease scan failed (trying again): ${(err as Error).message}`));
    this.#loops = [this.#loop(this.#renewAbort.signal, () => this.#renewAll()), this.#loop(this.#scanAbort.signal, () => this.#scan())];
    const every = Math.max(10, Math.floor(renewalIntervalMs(this.#o.timeoutMs) / 8));
    this.#guard = setInterval(() => this.#checkDeadlines(), every);
    this.#guard.unref();
  }

  /**
   * Takes the lease of a resource created here (a new follow): true when it is this member's
   * now, and the caller runs it; false when another holds it.
   */
  async claim(resource: string): Promise<boolean> {
    if (this.#held.has(resource)) return true;
    if (this.#stopping) return false; // leaving: whoever stays takes it
    const current = await this.#o.docs.get(leaseId(resource));
    const source = current?.source as { owner?: string | null } | undefined;
    if (current && source?.owner !== null && source?.owner !== this.memberId) return false;
    if ((await this.#write(resource, current)) === undefined) return false;
    this.#o.logger.info(`lease taken: running ${resource} here (created here)`, { lease: resource, lease_event: 'start' });
    return true;
  }

  /** The resource is gone (unfollowed, deleted): its lease is forgotten and its document removed. */
  async drop(resource: string): Promise<void> {
    this.#held.delete(resource);
    await this.#o.docs.delete(leaseId(resource));
  }

  /**
   * Leaves the fleet (SIGTERM): takes nothing more, stops every resource gracefully, then marks
   * each lease free, so that the others take them at their next scan instead of after a timeout.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#scanAbort.abort();
      await this.#loops[1];
      await Promise.allSettled(this.held().map((r) => this.#perResource.run(r, async () => {
        await this.#o.work.stop(r, 'released');
        this.#o.logger.info(`stopped ${r}: leaving, its lease is handed over`, { lease: r, lease_event: 'stop' });
      })));
      this.#renewAbort.abort();
      clearInterval(this.#guard);
      await this.#loops[0];
      const freed = await Promise.allSettled(this.held().map((r) => this.#free(r)));
      const failed = freed.filter((f) => f.status === 'rejected').length;
      if (failed > 0) this.#o.logger.warn(`${failed} lease(s) could not be marked free: the other daemons take them once they expire`);
      await this.#o.docs.delete(memberId(this.memberId)).catch(() => undefined);
    })();
    return this.#stopping;
  }

  // ---- loops ----------------------------------------------------------------------------------

  async #loop(signal: AbortSignal, round: () => Promise<void>): Promise<void> {
    const interval = renewalIntervalMs(this.#o.timeoutMs);
    while (!signal.aborted) {
      try {
        await this.#sleep(interval, signal);
      } catch {
        return; // aborted
      }
      await round().catch((err: unknown) => {
        this.#lastError = (err as Error).message;
        this.#o.logger.warn(`lease round failed (trying again): ${this.#lastError}`);
      });
    }
  }

  async #renewAll(): Promise<void> {
    await Promise.all(this.held().map(async (resource) => {
      const held = this.#held.get(resource);
      if (!held) return;
      const sentAt = this.#now();
      try {
        const written = await this.#o.docs.put(leaseId(resource), this.#leaseSource(resource), { version: held.version });
        if (this.#held.get(resource) !== held) return; // lost or handed over meanwhile
        if (written === 'conflict') {
          this.#lose(resource, 'another daemon has taken its lease (this daemon renewed too late, or was cut off)');
          return;
        }
        held.version = written;
        held.sentAt = sentAt;
      } catch (err) {
        this.#lastError = (err as Error).message;
      }
    }));
    await this.#heartbeat();
  }

  async #scan(): Promise<void> {
    const now = this.#now();
    const { docs } = this.#o;
    // Leases before resources: a lease whose resource is missing from the later list has lost it.
    const leaseDocs = await docs.list(LEASE_KIND);
    const resources = [...(await docs.list('follower')), ...(await docs.list('pattern')), ...(await docs.list('metadata'))].map((d) => d.id);
    const memberDocs = await docs.list(MEMBER_KIND);
    this.#resources = resources;

    const leases = new Map<string, LeaseSeen>();
    for (const doc of leaseDocs) {
      const resource = doc.id.slice(LEASE_KIND.length + 1);
      const owner = (doc.source as { owner?: string | null }).owner ?? null;
      leases.set(resource, { resource, owner, version: versionKey(doc) });
      this.#leaseSightings.see(resource, versionKey(doc), now);
    }
    this.#leaseSightings.keepOnly(new Set(leases.keys()));

    const members = new Set<string>();
    const live = new Set<string>();
    const liveMembers: { id: string; source: Record<string, unknown> }[] = [];
    for (const doc of memberDocs) {
      const id = doc.id.slice(MEMBER_KIND.length + 1);
      members.add(id);
      this.#memberSightings.see(id, versionKey(doc), now);
      const silent = this.#memberSightings.unchangedFor(id, now);
      if (id !== this.memberId && silent < this.#o.timeoutMs) {
        live.add(id);
        liveMembers.push({ id, source: doc.source as Record<string, unknown> });
      }
      if (id !== this.memberId && silent >= DEAD_MEMBER_TIMEOUTS * this.#o.timeoutMs) await docs.delete(doc.id).catch(() => undefined);
    }
    this.#memberSightings.keepOnly(members);
    this.#liveMembers = liveMembers;

    const others = new Map<string, number>([...live].map((id) => [id, 0]));
    const owners = new Map<string, LeaseOwner>();
    for (const doc of leaseDocs) {
      const lease = leases.get(doc.id.slice(LEASE_KIND.length + 1))!;
      if (lease.owner === null || lease.owner === this.memberId) continue;
      const expired = this.#leaseSightings.unchangedFor(lease.resource, now) >= this.#o.timeoutMs;
      const s = doc.source as { host?: string; pid?: number; control?: string };
      if (!expired) owners.set(lease.resource, { id: lease.owner, host: s.host, pid: s.pid, control: s.control });
      if (!expired && others.has(lease.owner)) others.set(lease.owner, others.get(lease.owner)! + 1);
    }
    this.#owners = owners;

    const plan = planRound({
      me: this.memberId, now, timeoutMs: this.#o.timeoutMs, resources, leases, held: new Set(this.#held.keys()),
      sightings: this.#leaseSightings, others,
    });
    for (const resource of plan.orphans) await docs.delete(leaseId(resource)).catch(() => undefined);
    for (const resource of plan.take) {
      const doc = leaseDocs.find((d) => d.id === leaseId(resource));
      // How it was found, for the log: never held, handed over (marked free), or expired.
      const found = doc === undefined ? 'new' : leases.get(resource)?.owner === null ? 'handed_over' : 'expired';
      if ((await this.#write(resource, doc)) === undefined) continue;
      this.#o.logger.info(`lease taken: running ${resource} here (${found.replace('_', ' ')})`, { lease: resource, lease_event: 'start', lease_found: found });
      void this.#perResource.run(resource, async () => {
        if (!this.#held.has(resource)) return;
        try {
          await this.#o.work.start(resource);
        } catch (err) {
          this.#o.logger.error(`cannot run ${resource} here, handing its lease back: ${(err as Error).message}`, { lease: resource, lease_event: 'stop' });
          await this.#free(resource).catch(() => undefined);
        }
      });
    }
    // Handed over one at a time, each after its work stopped and its checkpoints were saved.
    for (const resource of plan.release) {
      await this.#perResource.run(resource, async () => {
        if (!this.#held.has(resource)) return;
        await this.#o.work.stop(resource, 'released');
        await this.#free(resource);
        this.#o.logger.info(`lease handed over: ${resource} stopped here for another daemon to take (share rule)`, { lease: resource, lease_event: 'stop' });
      });
    }
  }

  // ---- writes ---------------------------------------------------------------------------------

  /** Takes a lease over the document as read (or creates it): this member's on success. */
  async #write(resource: string, current: StateDocument | undefined): Promise<DocVersion | undefined> {
    const sentAt = this.#now();
    const written = await this.#o.docs.put(leaseId(resource), this.#leaseSource(resource), current ? { version: current } : { absent: true });
    if (written === 'conflict') return undefined;
    this.#held.set(resource, { version: written, sentAt });
    return written;
  }

  /** Marks a lease free (it stops being this member's first: nothing renews it meanwhile). */
  async #free(resource: string): Promise<void> {
    const held = this.#held.get(resource);
    this.#held.delete(resource);
    if (!held) return;
    const free = { kind: LEASE_KIND, key: resource, owner: null, released_by: this.memberId };
    if ((await this.#o.docs.put(leaseId(resource), free, { version: held.version })) !== 'conflict') return;
    // A renewal landed meanwhile (or an earlier attempt of this write did): still ours, so free it over what is there.
    const current = await this.#o.docs.get(leaseId(resource));
    if ((current?.source as { owner?: string } | undefined)?.owner === this.memberId) await this.#o.docs.put(leaseId(resource), free, { version: current! });
  }

  #lose(resource: string, reason: string): void {
    if (!this.#held.delete(resource)) return;
    void this.#perResource.run(resource, async () => {
      // Logged as it stops: its tasks are aborted now; saving its checkpoints may take longer while the state is unreachable.
      this.#o.logger.warn(`lease lost: stopping ${resource} at once: ${reason}`, { lease: resource, lease_event: 'stop' });
      await this.#o.work.stop(resource, 'lost').catch((err: unknown) => this.#o.logger.error(`${resource} did not stop cleanly: ${(err as Error).message}`));
      this.#o.logger.info(`stopped ${resource}: its lease was lost`, { lease: resource });
    });
  }

  #checkDeadlines(): void {
    const now = this.#now();
    for (const [resource, held] of this.#held) {
      if (now >= giveUpAt(held.sentAt, this.#o.timeoutMs)) {
        this.#lose(resource, `its lease could not be renewed before another daemon may take it (${this.#lastError})`);
      }
    }
  }

  async #heartbeat(): Promise<void> {
    const id = memberId(this.memberId);
    const { member } = this.#o;
    const source = {
      kind: MEMBER_KIND, key: member.id, id: member.id, host: member.host, pid: member.pid, control: this.#control, version: member.version,
      started: member.started, leases_held: this.#held.size, leases: this.held(), heartbeat_at: new Date().toISOString(), lease_timeout_ms: this.#o.timeoutMs,
    };
    let written = await this.#o.docs.put(id, source, this.#memberVersion ? { version: this.#memberVersion } : { absent: true });
    if (written === 'conflict') {
      // Removed as dead while this member was cut off, or written by this member's earlier attempt: ours to overwrite.
      const current = await this.#o.docs.get(id);
      written = await this.#o.docs.put(id, source, current ? { version: current } : { absent: true });
    }
    if (written !== 'conflict') this.#memberVersion = written;
  }

  #leaseSource(resource: string): Record<string, unknown> {
    const { member } = this.#o;
    return {
      kind: LEASE_KIND, key: resource, owner: member.id, host: member.host, pid: member.pid, control: this.#control,
      duration_ms: this.#o.timeoutMs,
      // For people reading the document; no daemon compares it with its own clock (lease-rules.ts).
      renewed_at: new Date().toISOString(),
    };
  }
}

export function leaseId(resource: string): string {
  return `${LEASE_KIND}:${resource}`;
}

function memberId(id: string): string {
  return `${MEMBER_KIND}:${id}`;
}

function versionKey(doc: DocVersion): string {
  return `${doc.seqNo}/${doc.primaryTerm}`;
}
