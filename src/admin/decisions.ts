// /admin/decisions: "why was request X denied?" — every denial and unauthenticated request, with the
// deciding policy and per-rule reasons, and every error page (404, 502, 504 …) with its cause.
import type { AdminDeps } from './deps.js';
import { presentDecision } from './present.js';
import { caughtUp, fromStore, pageParams, parseSince } from './params.js';
import type { AdminRouter } from './server.js';

export function registerDecisions(router: AdminRouter, deps: AdminDeps): void {
  router.add('GET /admin/decisions', async ({ query }) => {
    const { limit } = pageParams(query);
    const outcome = query.outcome;
    const since = query.since === undefined ? undefined : parseSince(query.since, 'since');
    const filters = { requestId: query.request_id, email: query.email, app: query.app, sessionId: query.session_id, cursor: query.cursor };
    await caughtUp(deps);
    const page = await fromStore('list decisions', () =>
      deps.store.listDecisions({
        limit,
        ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)),
        ...(outcome !== undefined ? { outcome } : {}),
        ...(since !== undefined ? { since } : {}),
      }),
    );
    const answer = { decisions: page.items.map(presentDecision), next_cursor: page.nextCursor };
    // An allowed request's id finds no decision (allowed requests are aggregated): say so.
    if (filters.requestId !== undefined && page.items.length === 0 && filters.cursor === undefined) {
      return { ...answer, not_recorded: await notRecorded(deps, filters.requestId) };
    }
    return answer;
  });
}

/** What the gateway knows of a request id that has no decision. */
async function notRecorded(deps: AdminDeps, requestId: string) {
  const seen = deps.recentAllowed.find(requestId);
  if (!seen) {
    return {
      outcome: null,
      note:
        deps.config().audit.recordAllowed === 'all'
          ? 'no request with this id was recorded (it may be older than audit.retention, or from another gateway)'
          : 'no refused request has this id; an allowed one is not recorded individually (audit.record_allowed: aggregate), and this gateway no longer remembers it',
    };
  }
  const activity = seen.sessionId ? (await fromStore('session activity', () => deps.store.sessionActivity(seen.sessionId as string))).find((a) => a.app === seen.app) : undefined;
  const session = seen.sessionId ? await fromStore('get session', () => deps.store.getSession(seen.sessionId as string)) : null;
  return {
    outcome: seen.outcome,
    note: 'allowed, not recorded individually (audit.record_allowed: aggregate): the totals of its session on this app follow',
    time: new Date(seen.time).toISOString(),
    app: seen.app,
    session_id: seen.sessionId,
    email: session?.email ?? null,
    aggregate: activity
      ? { request_count: activity.count, first_seen_at: new Date(activity.firstSeenAt).toISOString(), last_seen_at: new Date(activity.lastSeenAt).toISOString(), last_path: activity.lastPath }
      : null,
  };
}
