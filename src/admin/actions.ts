// /admin/actions: the admin actions audit — every revocation, device approval and lockout lift made
// through this API or the console, newest first, by actor, kind or target (routes.ts checks them).
import type { AdminAction } from '../store/action-types.js';
import type { AdminDeps } from './deps.js';
import { iso } from './present.js';
import { fromStore, pageParams } from './params.js';
import type { AdminRouter } from './server.js';

export function presentAction(a: AdminAction) {
  return { id: a.id, time: iso(a.time), actor: a.actor, action: a.action, target: a.target, reason: a.reason, request_id: a.requestId, via: a.via, detail: a.detail };
}

export function registerActions(router: AdminRouter, deps: AdminDeps): void {
  router.add('GET /admin/actions', async ({ query }) => {
    const page = pageParams(query);
    const { actor, action, target } = query;
    const list = await fromStore('list admin actions', () =>
      deps.store.actions.list({ ...page, ...(actor !== undefined ? { actor } : {}), ...(action !== undefined ? { action } : {}), ...(target !== undefined ? { target } : {}) }),
    );
    return { actions: list.items.map(presentAction), next_cursor: list.nextCursor };
  });
}
