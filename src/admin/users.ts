// /admin/users: who has sessions, one user's latest identity and identity history, log out everywhere.
import type { AdminDeps } from './deps.js';
import { iso, presentIdentity, presentIdentityChange, presentSession, presentUser } from './present.js';
import { caughtUp, DEFAULT_LIMIT, fromStore, pageParams, reasonOf } from './params.js';
import { HttpError, type AdminRouter } from './server.js';

/** Identity changes shown with a user, newest first. */
export const USER_HISTORY = 100;

export function registerUsers(router: AdminRouter, deps: AdminDeps): void {
  router.add('GET /admin/users', async ({ query }) => {
    const page = pageParams(query);
    await caughtUp(deps);
    const users = await fromStore('list users', () => deps.store.listUsers({ now: Date.now(), ...page }));
    return { users: users.items.map(presentUser), next_cursor: users.nextCursor };
  });

  router.add('GET /admin/users/:email', async ({ params }) => {
    const email = params.email;
    await caughtUp(deps);
    const now = Date.now();
    // Each read bounded: the summary is one aggregate row, the rest the newest few.
    const [summary, [latest], history, listed] = await fromStore('read the user', () =>
      Promise.all([
        deps.store.userSummary(email, now),
        deps.store.userSessions(email, 1),
        deps.store.identityHistory(email, USER_HISTORY),
        deps.store.listSessions({ email, limit: DEFAULT_LIMIT }),
      ]),
    );
    if (!summary || !latest) throw new HttpError(404, `no sessions recorded for "${email}"`, 'email');
    return {
      email: latest.email ?? email,
      name: latest.name,
      active_sessions: summary.activeSessions,
      last_seen_at: iso(summary.lastSeenAt),
      identity: { ...presentIdentity(latest), session_id: latest.id, issued_at: iso(latest.issuedAt) },
      history: history.map(presentIdentityChange),
      // Most recently seen first, with the apps each reached; the rest: GET /admin/sessions?email=…&cursor=…
      sessions: listed.items.map((s) => presentSession(s, now)),
      sessions_next_cursor: listed.nextCursor,
    };
  });

  router.add('DELETE /admin/users/:email/sessions', async (r) => {
    const email = r.params.email;
    const reason = await reasonOf(r, 'logged out everywhere by an admin');
    await caughtUp(deps);
    const sessions = await fromStore('read the user', () => deps.store.userSessions(email, 1));
    if (sessions.length === 0) throw new HttpError(404, `no sessions recorded for "${email}"`, 'email');
    const ids = await fromStore('revoke the sessions (nothing was revoked)', () => deps.revoker.revokeUser(email, r.actor, reason));
    await r.record({ action: 'user.logout', target: sessions[0]?.email ?? email, reason, detail: { revoked: ids.length } });
    return { email: sessions[0]?.email ?? email, revoked: ids, revoked_at: iso(Date.now()) };
  });
}
