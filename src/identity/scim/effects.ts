// What SCIM changes do to live sessions, through the identity core (identity/changes.ts). A SCIM
// user is matched to sessions by userName and by its primary email (case-insensitive) = the
// session's email, however the session was signed in (gateway sign-in or an external token).
//  - active: false, or DELETE: every live session of the user is revoked (durable first, then
//    refused on its next request everywhere). A write that leaves the user inactive revokes again,
//    so a session recorded in between goes too.
//  - group membership changes (and any write to an active user): the user's SCIM groups are laid
//    over every live session, replacing the sign-in's groups or added to them (scim.groups).
import type { ChangeSource, IdentityChanges } from '../changes.js';
import type { ScimStore } from '../../store/scim-types.js';
import type { ScimEffects, ScimEvent, ScimUserSnapshot } from './query.js';

const SOURCE: ChangeSource = 'scim';

/** The emails a SCIM user's sessions carry: userName and the primary email, without repeats. */
export function sessionEmails(...users: Array<ScimUserSnapshot | null>): string[] {
  const all = users.flatMap((u) => (u ? [u.userName.toLowerCase(), ...(u.primaryEmail ? [u.primaryEmail] : [])] : []));
  return [...new Set(all)];
}

export class LiveEffects implements ScimEffects {
  constructor(
    private readonly changes: IdentityChanges,
    private readonly store: ScimStore,
    private readonly groupsMode: () => 'replace' | 'merge',
  ) {}

  async userChanged(before: ScimUserSnapshot | null, after: ScimUserSnapshot | null, event: ScimEvent): Promise<void> {
    if (after?.active) return this.applyGroups(after, event);
    const reason = after ? 'deactivated by SCIM (active: false)' : 'deleted by SCIM';
    for (const email of sessionEmails(before, after)) await this.changes.revoke({ email }, SOURCE, `${reason} by ${event.actor}`, event.id);
  }

  async membershipsChanged(userIds: string[], event: ScimEvent): Promise<void> {
    if (userIds.length === 0) return;
    for (const u of await this.store.scimUsersById(userIds)) if (u.active) await this.applyGroups(u, event);
  }

  private async applyGroups(u: ScimUserSnapshot, event: ScimEvent): Promise<void> {
    const values = (await this.store.scimUserGroups(u.id)).map((g) => g.displayName);
    const groups = { mode: this.groupsMode(), values };
    for (const email of sessionEmails(u)) await this.changes.update({ email }, { groups }, SOURCE, event.id);
  }
}
