/**
 * The one derivation of a follower index's status as metrics and the status page show it: `failed`
 * is a follower paused by an error (its reason is stats' `fatal_exception`), `paused` one paused by
 * a user, `active` one following (or starting to).
 *
 * `followerStatus` must stay self-contained (no imports, nothing outside its body): the status page
 * runs its source in the browser (status-page.ts), so both use this same function.
 */
export const FOLLOWER_STATUSES = ['active', 'paused', 'failed'] as const;
export type FollowerStatus = (typeof FOLLOWER_STATUSES)[number];

export function followerStatus(f: { readonly status: 'active' | 'paused'; readonly fatal_exception?: unknown }): FollowerStatus {
  if (f.status === 'active') return 'active';
  return f.fatal_exception ? 'failed' : 'paused';
}
