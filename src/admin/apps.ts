// /admin/apps/{name}: who is using this app right now, and "everyone must log in again for it".
import type { AdminDeps } from './deps.js';
import { iso, presentActivity, presentSession } from './present.js';
import { caughtUp, fromStore, knownApp, pageParams, reasonOf } from './params.js';
import type { AdminRouter } from './server.js';

export function registerApps(router: AdminRouter, deps: AdminDeps): void {
  router.add('GET /admin/apps/:name/sessions', async ({ params, query }) => {
    const page = pageParams(query);
    const app = knownApp(deps, params.name);
    await caughtUp(deps);
    const now = Date.now();
    const sessions = await fromStore('list the app sessions', () => deps.store.appSessions({ app: app.name, activeAt: now, ...page }));
    const cutoff = deps.revoker.appCutoff(app.name);
    return {
      app: app.name,
      revoked_before: iso(cutoff),
      sessions: sessions.items.map((s) => ({ ...presentSession(s, now), activity: presentActivity(s.activity) })),
      next_cursor: sessions.nextCursor,
    };
  });

  router.add('POST /admin/apps/:name/revoke', async (r) => {
    const app = knownApp(deps, r.params.name);
    const reason = (await reasonOf(r, '')) || null;
    const at = await fromStore('revoke the app sessions (nothing was revoked)', () => deps.revoker.revokeApp(app.name));
    await r.record({ action: 'app.revoke', target: app.name, reason, detail: { revoked_before: iso(at) } });
    return { app: app.name, revoked: true, revoked_before: iso(at) };
  });
}
