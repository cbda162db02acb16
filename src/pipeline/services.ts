// The long-lived parts the stages use. Built once by gateway.ts; stages receive them, never
// import them, so each stage can be tested with the real parts wired to a test config.
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { RevocationSet } from '../auth/revocations.js';
import type { AssertionSigner } from '../auth/assertion.js';
import type { KeySet } from '../auth/keys.js';
import type { Recorder } from '../audit/recorder.js';
import type { Forwarder } from './forward/forward.js';
import type { RequestContext } from '../context.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocketRegistry } from './forward/websockets.js';
import type { IdentityOverlay } from '../identity/overlay.js';
import type { StaleIdentities } from '../identity/stale.js';

/** Serves /.gatehouse/* (login, callback, logout, identity). certs is served by the pipeline itself. */
export interface GatehouseEndpoints {
  /** Returns true when it handled (answered) the request. */
  handle(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean>;
  /** Is browser login available for this app (so a 401 becomes a redirect to /.gatehouse/login)? */
  loginAvailable(ctx: RequestContext): boolean;
}

/** Answers every request under its prefix of /.gatehouse/ itself (a push endpoint: SSF …). */
export interface GatehouseReceiver {
  readonly prefix: string;
  /** Never rejects: the receiver answers its own errors. */
  handle(ctx: RequestContext, res: ServerResponse): Promise<void>;
}

/** An app Gatehouse serves itself (the console on admin.console_host): after authorize and record, instead of forward. */
export interface BuiltinApp {
  serve(ctx: RequestContext, res: ServerResponse): Promise<void>;
}

export interface Services {
  logger: Logger;
  metrics: Metrics;
  authenticator: Authenticator;
  revocations: RevocationSet;
  assertions: AssertionSigner;
  keys: KeySet;
  recorder: Recorder;
  forwarder: Forwarder;
  websockets: WebSocketRegistry;
  /** Live identity changes laid over cached identities (SCIM, refresh, shared signals …). */
  identities: IdentityOverlay;
  /** Sessions whose identity is stale (refresh failing past refresh_max_stale): refused with 401. */
  stale: StaleIdentities;
  endpoints?: GatehouseEndpoints;
  receivers?: GatehouseReceiver[];
  /** Set by the console module when admin.console_host is configured. */
  builtin?: BuiltinApp;
}
