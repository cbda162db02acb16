// Wires the session-audit admin API into the admin router: sessions, users, apps, decisions, policy
// tests and the API's own schema. Every route needs an admin bearer token (enforced by the server).
import type { AdminHost } from './deps.js';
import { apiSchemaDocument } from './api-schema.js';
import { registerActions } from './actions.js';
import { registerApps } from './apps.js';
import { registerDecisions } from './decisions.js';
import { registerPolicyTest } from './policy-test.js';
import { registerSessions } from './sessions.js';
import { registerUsers } from './users.js';

export function installAdminApi(host: AdminHost): void {
  const router = host.adminRouter;
  const deps = host.adminDeps;
  registerSessions(router, deps);
  registerUsers(router, deps);
  registerApps(router, deps);
  registerDecisions(router, deps);
  registerPolicyTest(router, deps);
  registerActions(router, deps);
  let schema: Record<string, unknown> | undefined;
  router.add('GET /admin/schema', () => (schema ??= apiSchemaDocument()));
}
