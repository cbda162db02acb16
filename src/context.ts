// One object per request, created by the pipeline, read and written by the stages in order.
// Nobody hangs ad-hoc properties on `req`.
import type { IncomingMessage } from 'node:http';
import type { AppConfig, GatewayConfig } from './config/types.js';
import type { Decision, Identity, RequestFacts } from './policy/types.js';
import type { Rejection, TokenReason } from './errors.js';

/**
 * How a forward-auth question names the request: X-Original-URL (nginx auth_request),
 * X-Forwarded-Uri/-Host/-Method (Traefik ForwardAuth, Caddy forward_auth), or the path after
 * /.gatehouse/auth (Envoy ext_authz's path_prefix).
 */
export type ForwardAuthStyle = 'original-url' | 'forwarded-uri' | 'path';

/** How the identity on this request was presented. */
export type CredentialSource = 'cookie' | 'bearer' | 'service_token';

export interface RequestContext {
  readonly requestId: string;
  readonly startedAt: number;
  /** The config snapshot this request runs on from start to finish, even across a reload. */
  readonly config: GatewayConfig;
  readonly req: IncomingMessage;
  /** The peer is in trusted_proxies: its X-Forwarded-* headers (and forward-auth questions) are believed. */
  readonly trustedPeer: boolean;
  /**
   * Set by route when a proxy in front asks /.gatehouse/auth about a request it holds: which
   * headers described that request. The fields below then describe the proxy's request, not ours.
   */
  forwardAuth: ForwardAuthStyle | undefined;
  /** The request method (in forward-auth: the forwarded one). */
  method: string;
  /** true for a WebSocket upgrade. */
  upgrade: boolean;
  /** The Host as the client sent it (port included), for URLs the client is sent back to. */
  authority: string;
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

/**
 * The context once `route` passed: the app is known. Every stage after route takes this type, so
 * none needs a cast or a check that cannot fail.
 */
export interface RoutedContext extends RequestContext {
  app: AppConfig;
}

export function isRouted(ctx: RequestContext): ctx is RoutedContext {
  return ctx.app !== undefined;
}

/** allow | bypass | deny | unauthenticated — what the gateway decided, for logs and metrics. */
export function outcomeOf(ctx: RequestContext): string | undefined {
  if (ctx.rejection?.code === 'unauthenticated') return 'unauthenticated';
  return ctx.decision?.outcome;
}

/** A request Node's HTTP parser refused before the pipeline saw it (400, 431 or 408). */
export interface ParserError {
  requestId: string;
  code: 'bad_request' | 'headers_too_large' | 'request_timeout';
  /** Node's code (HPE_HEADER_OVERFLOW, ERR_HTTP_REQUEST_TIMEOUT, HPE_INVALID_METHOD …) and message. */
  cause: string;
  clientIp: string;
  /** From the request line when it could be read; '' otherwise. */
  method: string;
  path: string;
}
