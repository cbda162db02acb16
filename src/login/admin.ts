// Sign-in lockouts for admins, on the admin listener (bearer token required, like all of /admin/*).
// With a shared store they are the deployment's: listed and lifted through any instance.
//   GET    /admin/login/lockouts              → {"lockouts":[{"key","kind","until","failures"}], "next_cursor"}
//   DELETE /admin/login/lockouts/{kind}/{key} → lift one (kind: user | ip)
import type { AdminRouter } from '../admin/server.js';
import { HttpError } from '../admin/server.js';
import { memoryCursor, pageParams, reasonOf } from '../admin/params.js';
import type { LoginThrottle } from './throttle.js';

type Lockout = Awaited<ReturnType<LoginThrottle['lockouts']>>[number];

/** Lockouts in (until, kind, key) order: the page's sort key. */
const keyOf = (l: Lockout): [number, string] => [l.until, `${l.kind}\n${l.key}`];
const after = (l: Lockout, [until, key]: [number, string]) => l.until > until || (l.until === until && keyOf(l)[1] > key);

export function registerLockoutRoutes(router: Pick<AdminRouter, 'add'>, throttle: LoginThrottle): void {
  // Locks expire (lockout duration), so the set is small unless under attack; pages bound the answer.
  router.add('GET /admin/login/lockouts', async ({ query }) => {
    const { limit, cursor } = pageParams(query);
    const from = cursor === undefined ? undefined : memoryCursor.decode(cursor);
    const all = (await throttle.lockouts()).sort((a, b) => a.until - b.until || (keyOf(a)[1] < keyOf(b)[1] ? -1 : 1));
    const rest = from ? all.filter((l) => after(l, from)) : all;
    const page = rest.slice(0, limit);
    const last = page.at(-1);
    return {
      lockouts: page.map((l) => ({ ...l, until: new Date(l.until).toISOString() })),
      next_cursor: rest.length > limit && last ? memoryCursor.encode(keyOf(last)) : null,
    };
  });
  // kind is user or ip: routes.ts says so, and the router refuses anything else.
  router.add('DELETE /admin/login/lockouts/:kind/:key', async (r) => {
    const { kind, key } = r.params;
    const reason = (await reasonOf(r, '')) || null;
    if (!(await throttle.unlock(kind, key))) throw new HttpError(404, `no lockout for ${kind} ${key}`);
    await r.record({ action: 'lockout.lift', target: `${kind}:${key}`, reason });
    return { unlocked: { kind, key } };
  });
}
