// One object per request, created by the pipeline, read and written by the stages in order.
// Nobody hangs ad-hoc properties on `req`.
import type { IncomingMessage } from 'node:http';
import type { AppConfig, GatewayConfig } from './config/types.js';
import type { Decision, Identity, RequestFacts } from './policy/types.js';
import type { Rejection, TokenReason } from './errors.js';

/** How the identity on this request was presented. */
export type CredentialSource = 'cookie' | 'bearer' | 'service_token';

export interface RequestContext {
  readonly requestId: string;
  readonly startedAt: number;
  /** The config snapshot this request runs on from start to finish, even across a reload. */
  readonly config: GatewayConfig;
  readonly req: IncomingMessage;
  /** true for a WebSocket upgrade. */
  readonly upgrade: boolean;
  /** Lowercased host without port or trailing dot. */
  host: string;
  /** Normalised path (dot segments resolved) — the path routed, evaluated and forwarded. */
  path: string;
  /** Query string including the leading "?", or "". */
  query: string;
  /** "http" or "https" as the client sees us (through trusted proxies). */
  proto: 'http' | 'https';
  /** Client address as resolved through trusted_proxies. */
  clientIp: string;
  facts: RequestFacts;
  app?: AppConfig;
  identity?: Identity;
  credentialSource?: CredentialSource;
  /** Why no identity: set by authenticate when a credential was absent or bad. */
  credentialError?: TokenReason;
  /** A verified identity refused because its session is revoked (recorded, never evaluated). */
  revokedIdentity?: Identity;
  /** true when authenticate answered from the verified-token cache. */
  cacheHit?: boolean;
  decision?: Decision;
  /** Set when a stage refused the request (for the access log and metrics). */
  rejection?: Rejection;
  /** Response status once known, for the access log. */
  status?: number;
  /** Bytes sent to the client (body). */
  bytes?: number;
}

/** allow | bypass | deny | unauthenticated — what the gateway decided, for logs and metrics. */
export function outcomeOf(ctx: RequestContext): string | undefined {
  if (ctx.rejection?.code === 'unauthenticated') return 'unauthenticated';
  return ctx.decision?.outcome;
}
