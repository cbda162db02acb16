// /admin/sessions: list, show one in full, revoke.
import type { AdminDeps } from './deps.js';
import { presentSession, presentSessionDetail, presentSessionIdentity, iso } from './present.js';
import { boolParam, caughtUp, fromStore, pageParams, parseSince, reasonOf } from './params.js';
import type { SessionCountQuery } from '../store/types.js';
import { HttpError, type AdminRouter } from './server.js';

/** Decisions shown with one session. */
const RECENT_DECISIONS = 20;

/** count=true counts this many matching sessions at most (total_capped: true beyond). */
export const MAX_TOTAL = 10_000;

/** Exact-match filters of the session list (device: an enrolled device id, or "none"). */
const FILTERS = ['email', 'user', 'app', 'idp', 'group', 'country', 'device'] as const;

export function registerSessions(router: AdminRouter, deps: AdminDeps): void {
  router.add('GET /admin/sessions', async ({ query }) => {
    const { limit, cursor } = pageParams(query);
    const active = boolParam(query.active);
    const count = boolParam(query.count) === true;
    await caughtUp(deps);
    const now = Date.now();
    const filters: SessionCountQuery = { now };
    for (const k of FILTERS) {
      const v = query[k];
      if (v !== undefined) filters[k] = v;
    }
    if (active !== undefined) filters.active = active;
    if (query.since !== undefined) filters.since = parseSince(query.since, 'since', now);
    const [page, total] = await fromStore('list sessions', () =>
      Promise.all([deps.store.listSessions({ ...filters, limit, ...(cursor !== undefined ? { cursor } : {}) }), count ? deps.store.countSessions(filters, MAX_TOTAL) : 0]),
    );
    const totals = count ? { total: Math.min(total, MAX_TOTAL), total_capped: total > MAX_TOTAL } : {};
    return { sessions: page.items.map((s) => presentSession(s, now)), next_cursor: page.nextCursor, ...totals };
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
    await r.record({ action: 'session.revoke', target: id, reason, ...(session?.revokedBy && session.revokedBy !== r.actor ? { detail: { already_revoked_by: session.revokedBy } } : {}) });
    return {
      revoked: true,
      id,
      revoked_at: iso(session?.revokedAt ?? Date.now()),
      revoked_by: session?.revokedBy ?? r.actor,
      reason: session?.revokeReason ?? reason,
    };
  });
}
