// Sign-in lockouts for admins, on the admin listener (bearer token required, like all of /admin/*):
//   GET    /admin/login/lockouts              → {"lockouts":[{"key","kind","until","failures"}]}
//   DELETE /admin/login/lockouts/{kind}/{key} → lift one (kind: user | ip)
import type { AdminRouter } from '../admin/server.js';
import { HttpError } from '../admin/server.js';
import type { LoginThrottle } from './throttle.js';

export function registerLockoutRoutes(router: AdminRouter, throttle: LoginThrottle): void {
  router.add('GET', '/admin/login/lockouts', () => ({
    lockouts: throttle.lockouts().map((l) => ({ ...l, until: new Date(l.until).toISOString() })),
  }));
  router.add('DELETE', '/admin/login/lockouts/:kind/:key', (r) => {
    const kind = r.params.kind;
    if (kind !== 'user' && kind !== 'ip') throw new HttpError(400, 'kind must be user or ip', 'kind');
    const key = r.params.key as string;
    if (!throttle.unlock(kind, key)) throw new HttpError(404, `no lockout for ${kind} ${key}`);
    return { unlocked: { kind, key } };
  });
}
