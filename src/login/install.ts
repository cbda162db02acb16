// Wires the login endpoints (/.gatehouse/login, callback, logout, identity, handoff) into a host
// (the gateway): providers from the config (rebuilt on reload), sessions minted with the host's keys
// and recorded through its Recorder, revocations through its Revoker. Also puts the sign-in
// lockouts on the admin listener. Login sees only the LoginHost below, never the whole gateway.
import type { AdminRouter } from '../admin/server.js';
import type { RecordWriter } from '../audit/writer.js';
import type { Revoker } from '../auth/revoker.js';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { GatehouseEndpoints, Services } from '../pipeline/services.js';
import type { Store } from '../store/types.js';
import type { IdentityChanges } from '../identity/changes.js';
import { identityEventCounter } from '../identity/metrics.js';
import { routerFor } from '../routing/router.js';
import { registerLockoutRoutes } from './admin.js';
import { Csrf } from './csrf.js';
import type { LoginDeps } from './deps.js';
import { LoginEndpoints } from './endpoints.js';
import { Handoffs } from './handoff.js';
import { MemorySignInState } from './memory-state.js';
import { Peers } from './peers.js';
import { ProviderRegistry } from './providers.js';
import { Sealer } from './seal.js';
import { LoginThrottle } from './throttle.js';
import { RefreshGrants } from './refresh/grants.js';
import { Refresher } from './refresh/refresher.js';

/** What login needs from the gateway that hosts it. */
export interface LoginHost {
  readonly logger: Logger;
  readonly configs: { readonly current: GatewayConfig; on(event: 'reload', listener: (next: GatewayConfig) => void): unknown };
  readonly store: Store;
  readonly adminRouter: Pick<AdminRouter, 'add'>;
  readonly revoker: Revoker;
  /** Read at each use: a reloaded key file replaces the keys. */
  readonly services: Pick<Services, 'keys' | 'recorder' | 'metrics' | 'stale'>;
  /** How back-channel logout and refresh change live identities. */
  readonly identityChanges: IdentityChanges;
  readonly writer: Pick<RecordWriter, 'flush'>;
  /** Releases what login holds (provider refresh timers) when the gateway stops. */
  onClose(hook: () => unknown): void;
  /** Hands /.gatehouse/* to the login endpoints. */
  setEndpoints(endpoints: GatehouseEndpoints): void;
}

export interface LoginModule {
  endpoints: LoginEndpoints;
  /** Sign-in lockouts: `throttle.lockouts()` lists the locks in force, `unlock(kind, key)` lifts one. */
  throttle: LoginThrottle;
  registry: ProviderRegistry;
  /** Background identity refresh (refresh/refresher.ts); `tick()` runs one pass now. */
  refresher: Refresher;
}

/** The private part of the signing key: the same in every worker, never leaves the process. */
function signingSecret(g: LoginHost): Buffer {
  const jwk = g.services.keys.signingKey.key.export({ format: 'jwk' });
  return Buffer.from(String(jwk.d), 'base64url');
}

const modules = new WeakMap<LoginHost, LoginModule>();

/** The login module installed on a gateway (the admin API reads lockouts through it). */
export function loginModuleOf(g: LoginHost): LoginModule | undefined {
  return modules.get(g);
}

export async function installLogin(g: LoginHost): Promise<LoginModule> {
  const config = g.configs.current;
  const logger = g.logger;
  // Sign-in state in the shared store (every instance); else in memory, mirrored to every worker
  // (with `workers: N`; a single process has no peers).
  const state = g.store.signIn ?? new MemorySignInState(new Peers());
  const sealer = new Sealer(() => g.services.keys);
  const throttle = new LoginThrottle(config.login, state);
  const registry = new ProviderRegistry(logger, throttle, state);
  const refreshGrants = new RefreshGrants(g.store.refresh, sealer, logger);
  const events = identityEventCounter(g.services.metrics);
  const deps: LoginDeps = {
    refreshGrants,
    backchannel: {
      logger,
      registry,
      changes: g.identityChanges,
      events: g.store.events,
      counted: (result, reason) => events.inc({ channel: 'backchannel', result, reason }),
    },
    logger,
    registry,
    throttle,
    state,
    sealer,
    handoffs: new Handoffs(state, sealer),
    csrf: new Csrf(signingSecret(g)),
    session: { keys: () => g.services.keys, recorder: () => g.services.recorder, standing: (email) => g.store.scim.scimStanding(email) },
    store: g.store,
    flushAudit: () => g.writer.flush(),
    revokeSession: (id, by, reason) => g.revoker.revokeSession(id, by, reason),
    isRevoked: (identity, app) => g.revoker.isRevoked(identity, app),
    revokeInMemory: (id) => g.revoker.revokeInMemory(id),
    revokeLogin: (loginId, by, reason) => g.revoker.revokeLogin(loginId, by, reason),
    revokeUser: (email, by, reason) => g.revoker.revokeUser(email, by, reason),
  };
  const prepare = (c: GatewayConfig) => {
    registry.providersFor(c);
    if (c.login.host && !routerFor(c).serves(c.login.host)) {
      logger.warn({ host: c.login.host }, 'login.host is not served by any app; each app host signs in on its own');
    }
  };
  prepare(config);
  g.configs.on('reload', prepare);
  g.onClose(() => registry.close());
  const refresher = new Refresher({
    logger,
    store: g.store.refresh,
    grants: refreshGrants,
    changes: g.identityChanges,
    stale: g.services.stale,
    config: () => g.configs.current,
    providers: (c) => registry.providersFor(c),
    session: (id) => g.store.getSession(id),
    counted: (idp, outcome) => g.services.metrics.refresh(idp, outcome),
  });
  refresher.schedule(config);
  g.configs.on('reload', (c) => refresher.schedule(c));
  g.onClose(() => refresher.close());
  // The users files are read before the first request; OIDC discovery goes on in the background.
  await registry.ready();
  const endpoints = new LoginEndpoints(deps);
  g.setEndpoints(endpoints);
  registerLockoutRoutes(g.adminRouter, throttle);
  const mod = { endpoints, throttle, registry, refresher };
  modules.set(g, mod);
  return mod;
}
