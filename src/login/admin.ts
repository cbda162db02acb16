// Sign-in lockouts for admins, on the admin listener (bearer token required, like all of /admin/*).
// With a shared store they are the deployment's: listed and lifted through any instance.
//   GET    /admin/login/lockouts              → {"lockouts":[{"key","kind","until","failures"}]}
//   DELETE /admin/login/lockouts/{kind}/{key} → lift one (kind: user | ip)
import type { AdminRouter } from '../admin/server.js';
import { HttpError } from '../admin/server.js';
import type { LoginThrottle } from './throttle.js';

export function registerLockoutRoutes(router: Pick<AdminRouter, 'add'>, throttle: LoginThrottle): void {
  router.add('GET', '/admin/login/lockouts', async () => ({
    lockouts: (await throttle.lockouts()).map((l) => ({ ...l, until: new Date(l.until).toISOString() })),
  }));
  router.add('DELETE', '/admin/login/lockouts/:kind/:key', async (r) => {
    const kind = r.params.kind;
    if (kind !== 'user' && kind !== 'ip') throw new HttpError(400, 'kind must be user or ip', 'kind');
    const key = r.params.key as string;
    if (!(await throttle.unlock(kind, key))) throw new HttpError(404, `no lockout for ${kind} ${key}`);
    return { unlocked: { kind, key } };
  });
}
