/**
 * What a daemon runs when several share one state index: the follower indices and auto-follow
 * patterns whose lease it holds (src/lease/). Maps a lease's resource — the id of its record in
 * the state, `follower:<cluster>/<index>`, `pattern:<name>` or `metadata:<name>` — to the follow
 * manager's, the auto-follow coordinator's and the cluster-metadata coordinator's adopt / relinquish, and gives both the ownership port through which
 * they claim what is created here and name the daemon that runs the rest.
 */
import type { AutoFollowCoordinator } from '../autofollow/auto-follow-coordinator.js';
import type { MetadataCoordinator } from '../cluster-metadata/metadata-coordinator.js';
import type { FollowManager } from '../follow/follow-manager.js';
import type { Ownership, RunningDaemon } from '../util/ownership.js';
import type { LeaseKeeper, LeaseOwner, LeaseWork } from '../lease/lease-keeper.js';

const FOLLOWER = 'follower:';
const PATTERN = 'pattern:';
const METADATA = 'metadata:';
const PREFIXES = { follower: FOLLOWER, pattern: PATTERN, metadata: METADATA } as const;

/** The manager and the coordinators exist after the keeper: bound once they do. */
export interface LeasedParts {
  manager?: FollowManager;
  autoFollow?: AutoFollowCoordinator;
  metadata?: MetadataCoordinator;
}

export function leasedWork(parts: LeasedParts): LeaseWork {
  return {
    start: async (resource) => {
      if (resource.startsWith(FOLLOWER)) await parts.manager!.adopt(resource.slice(FOLLOWER.length));
      else if (resource.startsWith(PATTERN)) await parts.autoFollow!.adopt(resource.slice(PATTERN.length));
      else if (resource.startsWith(METADATA)) await parts.metadata!.adopt(resource.slice(METADATA.length));
      else throw new Error(`no work is known for the lease on ${resource}`);
    },
    stop: async (resource) => {
      if (resource.startsWith(FOLLOWER)) await parts.manager!.relinquish(resource.slice(FOLLOWER.length));
      else if (resource.startsWith(PATTERN)) await parts.autoFollow!.relinquish(resource.slice(PATTERN.length));
      else if (resource.startsWith(METADATA)) await parts.metadata!.relinquish(resource.slice(METADATA.length));
    },
  };
}

/** The ownership of followers, auto-follow patterns or cluster-metadata patterns through the keeper's leases. */
export function leasedOwnership(keeper: LeaseKeeper, kind: keyof typeof PREFIXES): Ownership {
  const prefix = PREFIXES[kind];
  return {
    claim: (name) => keeper.claim(prefix + name),
    forget: (name) => keeper.drop(prefix + name),
    runBy: (name) => describeOwner(keeper.ownerOf(prefix + name)),
    runByNow: async (name) => {
      const holder = await keeper.currentHolder(prefix + name);
      return holder === 'none' ? 'unknown' : holder === 'free' ? 'unowned' : describeOwner(holder.owner)!;
    },
  };
}

function describeOwner(owner: LeaseOwner | undefined): RunningDaemon | undefined {
  if (owner === undefined) return undefined;
  const description = `the daemon on ${owner.host ?? 'an unknown host'} (pid ${owner.pid ?? '?'}${owner.control ? `, control API ${owner.control}` : ''})`;
  return { id: owner.id, ...(owner.control ? { control: owner.control } : {}), description };
}
