// Wires the session-audit admin API into a gateway's admin router: sessions, users, apps,
// decisions and policy tests. Every route needs an admin bearer token (enforced by the server).
import type { Gateway } from '../gateway.js';
import { registerApps } from './apps.js';
import { registerDecisions } from './decisions.js';
import { registerPolicyTest } from './policy-test.js';
import { registerSessions } from './sessions.js';
import { registerUsers } from './users.js';

export function installAdminApi(g: Gateway): void {
  const router = g.adminRouter;
  registerSessions(router, g);
  registerUsers(router, g);
  registerApps(router, g);
  registerDecisions(router, g);
  registerPolicyTest(router, g);
}
