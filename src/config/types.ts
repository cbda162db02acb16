// The validated, resolved, frozen configuration the gateway runs on. Built once per (re)load by
// config/load.ts; everything request-time code needs is precomputed here (durations in ms, paths
// absolute, CIDRs parsed, policies compiled) so that no request rebuilds what the config determined.
import type { PolicyConfig } from '../policy/types.js';
import type { CompiledPolicies } from '../policy/evaluate.js';
import type { IpMatcher } from '../policy/ip.js';

export interface ListenAddr {
  host: string;
  port: number;
}

export interface AppConfig {
  name: string;
  /** Absolute path of the app's YAML file (for messages). */
  file: string;
  /** Lowercased exact hosts and wildcard suffixes (`*.corp.example` → ".corp.example"). */
  hosts: string[];
  /** Path prefixes, each starting with "/", no trailing slash except "/" itself; default ["/"]. */
  paths: string[];
  /** Where proxy mode forwards; absent only when the app is served in forward_auth mode alone. */
  upstream?: URL;
  /** How requests reach the app (mode): forwarded by Gatehouse, and/or decided for a proxy in front. */
  modes: { proxy: boolean; forwardAuth: boolean };
  /** PEM contents of the upstream CA, when `ca` is set. */
  ca?: string;
  /** No response headers within this → 504 (default 30s). A response already streaming is not cut by it. */
  timeoutMs: number;
  /** TCP/TLS connect to the upstream (default 5s). */
  connectTimeoutMs: number;
  /** No bytes either way on an upstream connection for this long → abort (default 60s; SSE heartbeats must be faster). */
  idleTimeoutMs: number;
  /** Receiving the whole request body (request_timeout; default limits.request_timeout). */
  requestTimeoutMs: number;
  /** Requests forwarded at once (default 128); more get 503 at once. */
  maxInFlight: number;
  /** strip_headers: exact lowercased names and prefixes (from `name*`); null when unset. */
  stripHeaders: { names: ReadonlySet<string>; prefixes: string[] } | null;
  policies: PolicyConfig[];
  compiled: CompiledPolicies;
  showDenialReasons: boolean;
  identityHeaders?: 'cloudflare' | 'pomerium' | 'oauth2-proxy';
  passCredentials: boolean;
  /** Send the signed assertion upstream (jwt_assertion, default true). */
  jwtAssertion: boolean;
  /** `aud` of the assertion sent upstream: `audience` or the app name. */
  audience: string;
  sessionDurationMs?: number;
  identityProviders?: string[];
  websocketOrigins: string[];
  /** Served by Gatehouse itself instead of an upstream (the console on admin.console_host). */
  builtin?: 'console';
}

export interface TokenIssuerConfig {
  issuer: string;
  jwksFile?: string;
  jwksUri?: string;
  secret?: string;
  audience: string[];
  algorithms: string[];
  groupsClaim: string;
  emailClaim: string;
  clockToleranceSec: number;
  jwksCooldownMs: number;
}

export interface ServiceTokenConfig {
  name: string;
  clientId: string;
  secretHash: string;
  /** Epoch ms, when set. */
  expiresAt?: number;
}

export interface IdentityProviderConfig {
  id: string;
  type: 'oidc' | 'local_users';
  name: string;
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  scopes: string[];
  groupsClaim: string;
  endSession: boolean;
  /** Absolute path of the users file (local_users); its existence is checked by the login module, not here. */
  file?: string;
  /** OIDC Back-Channel Logout 1.0 at /.gatehouse/backchannel-logout/{id}. */
  backchannelLogout: boolean;
  /** Refresh the identity of sessions in use this often; unset: never. */
  refreshMs?: number;
  /** How long the last identity stays valid while refreshes fail (the IdP unreachable). */
  refreshMaxStaleMs: number;
}

/** A Shared Signals (SSF/CAEP) transmitter that pushes SETs to /.gatehouse/ssf/{id} (identity/ssf/). */
export interface SsfReceiverConfig {
  id: string;
  issuer: string;
  /** Exactly one of these two. */
  jwksUri?: string;
  jwksFile?: string;
  audience: string[];
  maxAgeMs: number;
  clockToleranceSec: number;
}

export interface GatewayConfig {
  /** Absolute path of gateway.yaml. */
  file: string;
  /** SHA-256 (hex, first 16 chars) over gateway.yaml and every app file, as loaded. */
  hash: string;
  loadedAt: Date;
  listen: ListenAddr;
  /**
   * PEM *contents* (not paths) of the data listener's certificate chain, key and optional client CA:
   * read at load, so a missing or unreadable file is a config error with a position. Never log them.
   */
  tls?: { cert: string; key: string; clientCa?: string };
  /** Scheme of the public URLs (redirects, rd): https when tls is set or public_url_scheme says so. */
  publicScheme: 'http' | 'https';
  workers: number;
  /** Peers whose X-Forwarded-* / X-Request-Id are believed; IpMatcher.none when unset. */
  trustedProxies: IpMatcher;
  countryHeader?: string;
  /**
   * Server limits. Defaults: headers 15s, request 15m (whole request, body included — generous for
   * uploads on slow links; 0 disables), keep-alive 5s, 16384-byte headers, 10000 connections, drain 10s,
   * drain delay 0s.
   */
  limits: {
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    maxHeaderSize: number;
    maxConnections: number;
    drainTimeoutMs: number;
    /** On SIGTERM: how long the listener keeps accepting while /readyz already fails. */
    drainDelayMs: number;
    /** Bytes/s averaged over SLOW_WINDOW_MS for request bodies and response reads; 0 = none. */
    minBodyRate: number;
    maxInFlightPerIp: number;
  };
  admin: {
    listen: ListenAddr;
    tokensFile?: string;
    /** The console on a data-listener host (served as the built-in app "gatehouse-console"). */
    consoleHost?: string;
    /** Who may use the console there: operators may act, viewers only read. */
    consolePolicies?: { operator: PolicyConfig[]; viewer: PolicyConfig[] };
  };
  /** SCIM 2.0 on the admin listener: its own tokens; how SCIM groups combine with the sign-in's. */
  scim: { tokensFile?: string; groups: 'replace' | 'merge' };
  session: {
    cookie: string;
    keysFile: string;
    durationMs: number;
    cookieDomain?: string;
    secureCookie: boolean;
    cache: { maxEntries: number; maxBytes: number; maxTtlMs: number };
  };
  /** Exactly one of sqlite (absolute path, or ":memory:") and postgres (URL); postgresTls.ca is PEM contents. */
  store: { sqlite?: string; postgres?: string; postgresTls?: { ca?: string; rejectUnauthorized: boolean }; queueLimit: number };
  appsDir: string;
  logLevel: string;
  /** Absent: pretty on a terminal, JSON lines otherwise. Read at start. */
  logFormat?: 'json' | 'pretty';
  audit: { recordAllowed: 'aggregate' | 'all'; retentionMs: number; redactClaims: string[] };
  tokenIssuers: TokenIssuerConfig[];
  serviceTokens: ServiceTokenConfig[];
  identityProviders: IdentityProviderConfig[];
  ssfReceivers: SsfReceiverConfig[];
  /** Device identity (src/devices): approval of newly enrolled devices, the WebAuthn RP id. */
  devices?: { approval: 'auto' | 'admin'; rpId?: string };
  /** Device posture reports: who may send them, how long a fact counts, custom facts' types. */
  posture?: { tokensFile?: string; maxAgeMs: number; facts: Record<string, PostureFactType> };
  login: {
    /**
     * Where sign-in happens for every app (the IdP redirect URI is <scheme>://<host>/.gatehouse/callback);
     * apps on other domains receive the session through a single-use handoff code. Unset: each app
     * host signs in on its own.
     */
    host?: string;
    lockoutThreshold: number;
    lockoutWindowMs: number;
    lockoutDurationMs: number;
  };
  apps: AppConfig[];
}

export type { PostureFactType } from '../policy/types.js';
import type { PostureFactType } from '../policy/types.js';

/** One problem found while loading: `file:line:col message`. */
export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col} ${p.message}`;
}

/** Every problem, one `file:line:col message` line each. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map(formatProblem).join('\n');
}
