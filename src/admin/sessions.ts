// /admin/sessions: list, show one in full, revoke.
import type { AdminDeps } from './deps.js';
import { presentSession, presentSessionDetail, presentSessionIdentity, iso } from './present.js';
import { boolParam, caughtUp, fromStore, pageParams, reasonOf } from './params.js';
import { HttpError, type AdminRouter } from './server.js';

/** Decisions shown with one session. */
const RECENT_DECISIONS = 20;

export function registerSessions(router: AdminRouter, deps: AdminDeps): void {
  router.add('GET /admin/sessions', async ({ query }) => {
    const { limit, cursor } = pageParams(query);
    const active = boolParam(query.active);
    const { email, user, app } = query;
    await caughtUp(deps);
    const now = Date.now();
    const page = await fromStore('list sessions', () =>
      deps.store.listSessions({
        limit,
        now,
        ...(email !== undefined ? { email } : {}),
        ...(user !== undefined ? { user } : {}),
        ...(app !== undefined ? { app } : {}),
        ...(active !== undefined ? { active } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
      }),
    );
    return { sessions: page.items.map((s) => presentSession(s, now)), next_cursor: page.nextCursor };
  });

  router.add('GET /admin/sessions/:id', async ({ params }) => {
    await caughtUp(deps);
    const id = params.id;
    const session = await fromStore('read the session', () => deps.store.getSession(id));
    if (!session) throw new HttpError(404, `no session with id "${id}"`, 'id');
    const [activity, decisions, history] = await fromStore('read the session', () =>
      Promise.all([deps.store.sessionActivity(id), deps.store.listDecisions({ sessionId: id, limit: RECENT_DECISIONS }), deps.store.identities.sessionHistory(id)]),
    );
    return { ...presentSessionDetail(session, activity, decisions.items), ...presentSessionIdentity(session, history, deps.config().posture?.maxAgeMs) };
  });

  router.add('DELETE /admin/sessions/:id', async (r) => {
    const id = r.params.id;
    const reason = await reasonOf(r, 'revoked by an admin');
    // A session seen a moment ago may still be queued: write it first so it can be found.
    await caughtUp(deps);
    const known = await fromStore('revoke the session (nothing was revoked)', () => deps.revoker.revokeSession(id, r.actor, reason));
    if (!known) throw new HttpError(404, `no session with id "${id}"`, 'id');
    // The revocation is durable; reading back its first time/actor is best effort.
    const session = await deps.store.getSession(id).catch(() => null);
    return {
      revoked: true,
      id,
      revoked_at: iso(session?.revokedAt ?? Date.now()),
      revoked_by: session?.revokedBy ?? r.actor,
      reason: session?.revokeReason ?? reason,
    };
  });
}
