// A local_users file edited while people are signed in: each changed user's live sessions follow
// on their next request, through IdentityChanges with source `users_file` (recorded in the identity
// history with the diff). A user removed or `disabled: true` loses every session of that provider;
// changed groups or name replace the session's. Sessions are matched by provider and subject (a
// local user's subject is the email), so the same person's OIDC sessions are left alone.
import type { Logger } from '../log.js';
import type { IdentityChanges } from './changes.js';

/** What identity needs of a users-file entry (login/users-file.ts LocalUser). */
export interface FileUser {
  email: string;
  name?: string;
  groups: string[];
  disabled?: true;
}

const sameGroups = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

export async function applyUsersFileChange(
  changes: IdentityChanges,
  logger: Logger,
  providerId: string,
  before: ReadonlyMap<string, FileUser>,
  after: ReadonlyMap<string, FileUser>,
): Promise<void> {
  const eventId = `users_file:${providerId}:${Date.now()}`;
  for (const [email, old] of before) {
    const now = after.get(email);
    const match = { provider: providerId, subject: email };
    try {
      if (!now || now.disabled) {
        if (!old.disabled) await changes.revoke(match, 'users_file', now ? 'disabled in the users file' : 'removed from the users file', eventId);
      } else if (!sameGroups(old.groups, now.groups) || old.name !== now.name) {
        await changes.update(match, { groups: { mode: 'replace', values: now.groups }, ...(now.name !== undefined ? { name: now.name } : {}) }, 'users_file', eventId);
      }
    } catch (err) {
      logger.error({ err, idp: providerId, email }, 'users file change not applied to live sessions (the store cannot be written)');
    }
  }
}

type UsersListener = (providerId: string, before: ReadonlyMap<string, FileUser>, after: ReadonlyMap<string, FileUser>) => void;

/** Applies every users-file change the login module's providers report (login/providers.ts). */
export function followUsersFiles(providers: { on(event: 'usersChanged', listener: UsersListener): unknown }, changes: IdentityChanges, logger: Logger): void {
  providers.on('usersChanged', (id, before, after) => void applyUsersFileChange(changes, logger, id, before, after));
}
