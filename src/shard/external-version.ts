/**
 * The external version ccr-follow writes for a leader operation: `(seq_no + 1) × 1024`.
 *
 * Versions only have to grow with the leader's seq_no for replays to be harmless
 * (docs/architecture.md, shard step 5); the stride adds two things a plain `seq_no` cannot:
 * - provenance: a write made to the follower by anyone else with internal versioning adds 1 to
 *   the version, so any version that is not a multiple of the stride is a foreign write, seen
 *   without asking the leader;
 * - room to repair: the follower can be put back with a version between the foreign one and the
 *   leader's next operation, so the leader's later operations on that document still win.
 */
export const VERSION_STRIDE = 1024;

export function externalVersion(seqNo: number): number {
  return (seqNo + 1) * VERSION_STRIDE;
}

/** Whether a follower document's version could have been written by ccr-follow. */
export function isReplicatedVersion(version: number): boolean {
  return version % VERSION_STRIDE === 0;
}
