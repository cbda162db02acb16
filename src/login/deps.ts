// What the login endpoints share: the long-lived parts (built once by install.ts) and small helpers
// every endpoint uses.
import type { ServerResponse } from 'node:http';
import type { AppConfig } from '../config/types.js';
import type { RequestContext } from '../context.js';
import { ERRORS, errorCode, type ErrorCode, type ErrorStatus } from '../errors.js';
import type { Logger } from '../log.js';
import type { Identity } from '../policy/types.js';
import { routerFor } from '../routing/router.js';
import type { SignInState, Store } from '../store/types.js';
import type { BackchannelDeps } from './backchannel.js';
import type { Csrf } from './csrf.js';
import type { RefreshGrants } from './refresh/grants.js';
import type { Handoffs } from './handoff.js';
import { sendHtml } from './html.js';
import { errorPage } from './pages.js';
import type { ProviderRegistry } from './providers.js';
import type { SessionDeps } from './session.js';
import type { Sealer } from './seal.js';
import type { LoginThrottle } from './throttle.js';

export interface LoginDeps {
  logger: Logger;
  registry: ProviderRegistry;
  throttle: LoginThrottle;
  /** Sign-in state every instance sees (finished flows here; handoffs and throttle use it too). */
  state: SignInState;
  /** Seals the OIDC flow cookie and handoff codes with a key every instance derives alike. */
  sealer: Sealer;
  handoffs: Handoffs;
  csrf: Csrf;
  session: SessionDeps;
  store: Store;
  /** Refresh tokens of providers with `refresh` (sealed at sign-in). */
  refreshGrants: RefreshGrants;
  /** OIDC back-channel logout (backchannel.ts). */
  backchannel: BackchannelDeps;
  /** Writes pending audit records now (a session recorded a moment ago may still be queued). */
  flushAudit(): Promise<void>;
  /** Durable + in-memory revocation; true when the store knew the session. */
  revokeSession(id: string, by: string, reason: string): Promise<boolean>;
  /** The in-memory revocation check the authenticate stage makes (session id or app cutoff). */
  isRevoked(identity: Identity, appName: string): boolean;
  /** In-memory only: refused by this process even when the store could not be written. */
  revokeInMemory(id: string): void;
  /** Every session linked to one sign-in (login_id), durable + in memory; returns their ids. */
  revokeLogin(loginId: string, by: string, reason: string): Promise<string[]>;
  /** Every session of the account (by email), durable + in memory; returns their ids. */
  revokeUser(email: string, by: string, reason: string): Promise<string[]>;
}

export function query(ctx: RequestContext): URLSearchParams {
  return new URLSearchParams(ctx.query.slice(1));
}

/** The app a URL belongs to (its identity_providers and session_duration apply); else this host's. */
export function appFor(ctx: RequestContext, url: URL): AppConfig | undefined {
  const router = routerFor(ctx.config);
  return router.match(url.hostname, url.pathname) ?? router.hostApp(url.hostname) ?? ctx.app;
}

/** login.host when set and served: where sign-in happens for every app. */
export function loginHostOf(ctx: RequestContext): string | undefined {
  const host = ctx.config.login.host;
  return host && routerFor(ctx.config).serves(host) ? host : undefined;
}

export function loginHref(rd: URL | string, extra: Record<string, string | null> = {}): string {
  const p = new URLSearchParams({ rd: typeof rd === 'string' ? rd : rd.href });
  for (const [k, v] of Object.entries(extra)) if (v !== null) p.set(k, v);
  return `/.gatehouse/login?${p.toString()}`;
}

/** A sign-in error page: its status from the error table (a code, or a status for its default code). */
export function fail(ctx: RequestContext, res: ServerResponse, code: ErrorCode | ErrorStatus, title: string, message: string, againHref?: string, cookies: string[] = []): void {
  const status = ERRORS[errorCode(code)].status;
  sendHtml(ctx, res, status, errorPage(ctx, status, title, message, againHref), cookies);
}
