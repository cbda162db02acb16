// /admin/users: who has sessions, one user's latest identity and identity history, log out everywhere.
import type { AdminDeps } from './deps.js';
import { iso, isActive, presentIdentity, presentIdentityChange, presentSession, presentUser } from './present.js';
import { caughtUp, fromStore, MAX_LIMIT, onlyParams, reasonOf } from './params.js';
import { HttpError, type AdminRouter } from './server.js';

export function registerUsers(router: AdminRouter, deps: AdminDeps): void {
  router.add('GET', '/admin/users', async ({ url }) => {
    onlyParams(url, []);
    await caughtUp(deps);
    const users = await fromStore('list users', () => deps.store.listUsers(Date.now()));
    return { users: users.map(presentUser) };
  });

  router.add('GET', '/admin/users/:email', async ({ params }) => {
    const email = params.email as string;
    await caughtUp(deps);
    const [sessions, history, listed] = await fromStore('read the user', () =>
      Promise.all([deps.store.userSessions(email), deps.store.identityHistory(email), deps.store.listSessions({ email, limit: MAX_LIMIT })]),
    );
    const latest = sessions[0];
    if (!latest) throw new HttpError(404, `no sessions recorded for "${email}"`, 'email');
    const now = Date.now();
    return {
      email: latest.email ?? email,
      name: latest.name,
      active_sessions: sessions.filter((s) => isActive(s, now)).length,
      last_seen_at: iso(Math.max(...sessions.map((s) => s.lastSeenAt))),
      identity: { ...presentIdentity(latest), session_id: latest.id, issued_at: iso(latest.issuedAt) },
      history: history.map(presentIdentityChange),
      // Most recently seen first, with the apps each reached.
      sessions: listed.items.map((s) => presentSession(s, now)),
    };
  });

  router.add('DELETE', '/admin/users/:email/sessions', async (r) => {
    const email = r.params.email as string;
    const reason = await reasonOf(r, 'logged out everywhere by an admin');
    await caughtUp(deps);
    const sessions = await fromStore('read the user', () => deps.store.userSessions(email));
    if (sessions.length === 0) throw new HttpError(404, `no sessions recorded for "${email}"`, 'email');
    const ids = await fromStore('revoke the sessions (nothing was revoked)', () => deps.revoker.revokeUser(email, r.actor, reason));
    return { email: sessions[0]?.email ?? email, revoked: ids, revoked_at: iso(Date.now()) };
  });
}
