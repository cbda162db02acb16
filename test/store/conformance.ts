// One conformance suite for every Store implementation (SQLite now, PostgreSQL later): same cases,
// same expectations. `open` must return a fresh, empty store each time; the suite closes it.
import type { Test } from 'tap';
import type { Store } from '../../src/store/types.js';
import { sessionCases } from './conformance-sessions.js';
import { queryCases } from './conformance-queries.js';
import { signInCases } from './conformance-signin.js';
import { scimCases } from './conformance-scim.js';
import { identityCases } from './conformance-identity.js';
import { refreshCases } from './conformance-live.js';
import { eventCases } from './conformance-events.js';
import { pageCases } from './conformance-pages.js';
import { deviceCases } from './conformance-devices.js';
import { revokeBatchCases } from './conformance-revoke-batch.js';
import { actionCases } from './conformance-actions.js';

export type OpenStore = () => Promise<Store>;

/** Opens a fresh store for one subtest and closes it when the subtest ends. */
export async function fresh(t: Test, open: OpenStore): Promise<Store> {
  const store = await open();
  t.teardown(() => store.close());
  return store;
}

export function storeConformance(t: Test, open: OpenStore): void {
  sessionCases(t, open);
  queryCases(t, open);
  signInCases(t, open);
  scimCases(t, open);
  identityCases(t, open);
  refreshCases(t, open);
  eventCases(t, open);
  pageCases(t, open);
  deviceCases(t, open);
  revokeBatchCases(t, open);
  actionCases(t, open);
}
