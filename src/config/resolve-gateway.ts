// gateway.yaml → the gateway-wide part of GatewayConfig: semantic checks (reported with positions)
// and defaults. Each section is read only when it passed the schema (scope.ok), so one bad section
// does not hide the problems of the others. The result is only used when no problem was reported.
import { cidrProblem, IpMatcher } from '../policy/ip.js';
import { isLoopbackHost, normalizeHost, parseListen } from './hosts.js';
import { resolveDevices } from './resolve-devices.js';
import { resolveIdentityProviders, resolveServiceTokens, resolveTokenIssuers } from './resolve-auth.js';
import { resolveSsfReceivers } from './resolve-ssf.js';
import type { GatewayFileT } from './schema.js';
import type { Scope } from './scope.js';
import type { GatewayConfig, ListenAddr } from './types.js';

/** Everything of GatewayConfig that gateway.yaml alone determines. */
export type GatewayCore = Omit<GatewayConfig, 'file' | 'hash' | 'loadedAt' | 'apps'>;

export const DEFAULTS = {
  workers: 1,
  limits: {
    headersTimeoutMs: 15_000,
    // Whole request, body included. 60 s (Traefik v3's readTimeout default) instead of 15 min:
    // a client sending just above min_body_rate could otherwise hold an upstream connection for 15
    // minutes; apps that take large uploads raise it with their own request_timeout. 0s disables it.
    requestTimeoutMs: 60_000,
    keepAliveTimeoutMs: 5_000,
    maxHeaderSize: 16_384,
    maxConnections: 10_000,
    drainTimeoutMs: 10_000,
    drainDelayMs: 0,
    // 1 KiB/s over 10 s, like nginx's client_body_timeout and send_timeout but by rate: a client
    // trickling one byte every few seconds, or never reading, frees its upstream connection.
    minBodyRate: 1024,
    // Below an app's max_in_flight (128), so one address cannot take an app's whole share.
    maxInFlightPerIp: 64,
  },
  sessionDurationMs: 12 * 3_600_000,
  cache: { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024, maxTtlMs: 3_600_000 },
  queueLimit: 10_000,
  logLevel: 'info',
  audit: { recordAllowed: 'aggregate' as const, retentionMs: 7 * 86_400_000 },
  login: { lockoutThreshold: 5, lockoutWindowMs: 15 * 60_000, lockoutDurationMs: 15 * 60_000 },
} as const;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export async function resolveGateway(raw: GatewayFileT, s: Scope): Promise<GatewayCore> {
  const listen = s.ok('listen') ? listenAddr(s, ['listen'], raw.listen) : undefined;
  const adminListen = s.ok('admin', 'listen') ? listenAddr(s, ['admin', 'listen'], raw.admin.listen) : undefined;
  if (listen && adminListen && listen.port !== 0 && listen.port === adminListen.port && listen.host === adminListen.host) {
    s.problem(['admin', 'listen'], 'must differ from listen');
  }

  let tls: GatewayConfig['tls'];
  if (raw.tls && s.ok('tls')) {
    const [cert, key, clientCa] = await Promise.all([
      s.pem(['tls', 'cert'], raw.tls.cert),
      s.pem(['tls', 'key'], raw.tls.key),
      raw.tls.client_ca === undefined ? undefined : s.pem(['tls', 'client_ca'], raw.tls.client_ca),
    ]);
    tls = { cert: cert ?? '', key: key ?? '', ...(clientCa ? { clientCa } : {}) };
  }
  if (raw.tls && raw.public_url_scheme === 'http') {
    s.problem(['public_url_scheme'], 'http contradicts tls (the listener speaks https)');
  }
  const publicScheme = raw.tls || raw.public_url_scheme === 'https' ? 'https' : 'http';

  let trustedProxies = IpMatcher.none;
  if (raw.trusted_proxies && s.shape('trusted_proxies')) {
    const valid = raw.trusted_proxies.filter((_, i) => s.ok('trusted_proxies', i));
    const bad = cidrProblems(s, ['trusted_proxies'], raw.trusted_proxies, (i) => s.ok('trusted_proxies', i));
    if (!bad && s.ok('trusted_proxies')) trustedProxies = IpMatcher.parse(valid);
  }

  let countryHeader: string | undefined;
  if (raw.country_header !== undefined && s.ok('country_header')) {
    if (!TOKEN.test(raw.country_header)) s.problem(['country_header'], 'must be a header name, e.g. cf-ipcountry');
    countryHeader = raw.country_header.toLowerCase();
  }

  const l = s.ok('limits') ? (raw.limits ?? {}) : {};
  const d = DEFAULTS.limits;
  const limits = {
    headersTimeoutMs: s.ms(l.headers_timeout, d.headersTimeoutMs),
    requestTimeoutMs: s.ms(l.request_timeout, d.requestTimeoutMs),
    keepAliveTimeoutMs: s.ms(l.keep_alive_timeout, d.keepAliveTimeoutMs),
    maxHeaderSize: l.max_header_size ?? d.maxHeaderSize,
    maxConnections: l.max_connections ?? d.maxConnections,
    drainTimeoutMs: s.ms(l.drain_timeout, d.drainTimeoutMs),
    drainDelayMs: s.ms(l.drain_delay, d.drainDelayMs),
    minBodyRate: l.min_body_rate ?? d.minBodyRate,
    maxInFlightPerIp: l.max_in_flight_per_ip ?? d.maxInFlightPerIp,
  };
  if (limits.headersTimeoutMs === 0) s.problem(['limits', 'headers_timeout'], 'must be more than 0 (it holds off slowloris)');
  if (limits.requestTimeoutMs !== 0 && limits.requestTimeoutMs < limits.headersTimeoutMs) {
    s.problem(['limits', 'request_timeout'], 'must be at least headers_timeout (or 0s for none)');
  }

  const session = s.ok('session') ? resolveSession(raw, s, listen) : undefined;
  const store = s.ok('store') ? await resolveStore(raw.store, s) : undefined;
  const audit = s.ok('audit') ? raw.audit : undefined;
  const login = s.ok('login') ? raw.login : undefined;
  let loginHost: string | undefined;
  if (login?.host !== undefined) {
    const h = normalizeHost(login.host);
    if ('problem' in h || h.value.startsWith('.')) s.problem(['login', 'host'], 'must be one host name, e.g. login.corp.example (an app must serve it)');
    else loginHost = h.value;
  }
  const [tokenIssuers, serviceTokens, identityProviders, ssfReceivers] = await Promise.all([
    resolveTokenIssuers((s.shape('token_issuers') && raw.token_issuers) || [], s),
    resolveServiceTokens((s.shape('service_tokens') && raw.service_tokens) || [], s),
    resolveIdentityProviders((s.shape('identity_providers') && raw.identity_providers) || [], s),
    resolveSsfReceivers((s.shape('ssf_receivers') && raw.ssf_receivers) || [], s),
  ]);

  return {
    listen: listen as ListenAddr,
    ...(tls ? { tls } : {}),
    publicScheme,
    workers: raw.workers ?? DEFAULTS.workers,
    trustedProxies,
    ...(countryHeader ? { countryHeader } : {}),
    limits,
    admin: {
      listen: adminListen as ListenAddr,
      ...(s.ok('admin', 'tokens_file') && raw.admin?.tokens_file ? { tokensFile: s.path(raw.admin.tokens_file) } : {}),
    },
    scim: {
      ...(s.ok('scim', 'tokens_file') && raw.scim?.tokens_file ? { tokensFile: s.path(raw.scim.tokens_file) } : {}),
      groups: (s.ok('scim', 'groups') && raw.scim?.groups) || 'merge',
    },
    session: session as GatewayConfig['session'],
    store: store as GatewayConfig['store'],
    appsDir: s.ok('apps') ? s.path(raw.apps) : '',
    logLevel: (s.ok('log') && raw.log?.level) || DEFAULTS.logLevel,
    ...(s.ok('log') && raw.log?.format ? { logFormat: raw.log.format } : {}),
    audit: {
      recordAllowed: audit?.record_allowed ?? DEFAULTS.audit.recordAllowed,
      retentionMs: s.ms(audit?.retention, DEFAULTS.audit.retentionMs),
      redactClaims: audit?.redact_claims ?? [],
    },
    tokenIssuers,
    serviceTokens,
    identityProviders,
    ssfReceivers,
    ...resolveDevices(raw, s),
    login: {
      ...(loginHost ? { host: loginHost } : {}),
      lockoutThreshold: login?.lockout_threshold ?? DEFAULTS.login.lockoutThreshold,
      lockoutWindowMs: s.ms(login?.lockout_window, DEFAULTS.login.lockoutWindowMs),
      lockoutDurationMs: s.ms(login?.lockout_duration, DEFAULTS.login.lockoutDurationMs),
    },
  };
}

function listenAddr(s: Scope, at: string[], v: string): ListenAddr | undefined {
  const r = parseListen(v);
  if ('problem' in r) s.problem(at, r.problem);
  return 'value' in r ? r.value : undefined;
}

/** Reports each bad CIDR of a list; true when any was bad. */
function cidrProblems(s: Scope, at: Array<string | number>, list: readonly string[], ok: (i: number) => boolean): boolean {
  let bad = false;
  list.forEach((c, i) => {
    const p = ok(i) ? cidrProblem(c) : null;
    if (p) {
      bad = true;
      s.problem([...at, i], p);
    }
  });
  return bad;
}

function resolveSession(raw: GatewayFileT, s: Scope, listen: ListenAddr | undefined): GatewayConfig['session'] {
  const r = raw.session;
  let cookieDomain: string | undefined;
  if (r.cookie_domain !== undefined) {
    const h = normalizeHost(r.cookie_domain.replace(/^\./, ''));
    if ('problem' in h || h.value.startsWith('.') || h.value.startsWith('[')) {
      s.problem(['session', 'cookie_domain'], 'must be a domain name, e.g. corp.example');
    } else cookieDomain = h.value;
  }
  const secureCookie = r.secure_cookie ?? true;
  if (!secureCookie && listen && (raw.tls || !isLoopbackHost(listen.host))) {
    s.problem(
      ['session', 'secure_cookie'],
      'false is only allowed when the data listener is plain http on a loopback address (127.0.0.1, ::1, localhost)',
    );
  }
  const c = r.cache ?? {};
  const d = DEFAULTS.cache;
  return {
    cookie: r.cookie,
    keysFile: s.path(r.keys),
    durationMs: s.ms(r.duration, DEFAULTS.sessionDurationMs),
    ...(cookieDomain ? { cookieDomain } : {}),
    secureCookie,
    cache: { maxEntries: c.max_entries ?? d.maxEntries, maxBytes: c.max_bytes ?? d.maxBytes, maxTtlMs: s.ms(c.max_ttl, d.maxTtlMs) },
  };
}

async function resolveStore(r: GatewayFileT['store'], s: Scope): Promise<GatewayConfig['store'] | undefined> {
  const kinds = (['sqlite', 'postgres'] as const).filter((k) => r[k] !== undefined);
  if (kinds.length !== 1) {
    s.problem(['store'], kinds.length ? 'set exactly one of sqlite or postgres, not both' : 'set one of sqlite (a file path) or postgres (a connection URL)');
    return undefined;
  }
  if (r.postgres !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(r.postgres) || !URL.canParse(r.postgres)) {
      s.problem(['store', 'postgres'], 'must be a postgres:// or postgresql:// connection URL');
    }
  }
  if (r.postgres_tls && r.postgres === undefined) s.problem(['store', 'postgres_tls'], 'applies only with store.postgres');
  let postgresTls: NonNullable<GatewayConfig['store']['postgresTls']> | undefined;
  if (r.postgres_tls) {
    const ca = r.postgres_tls.ca === undefined ? undefined : await s.pem(['store', 'postgres_tls', 'ca'], r.postgres_tls.ca);
    postgresTls = { ...(ca ? { ca } : {}), rejectUnauthorized: r.postgres_tls.reject_unauthorized ?? true };
  }
  return {
    ...(r.sqlite !== undefined ? { sqlite: r.sqlite === ':memory:' ? r.sqlite : s.path(r.sqlite) } : {}),
    ...(r.postgres !== undefined ? { postgres: r.postgres } : {}),
    ...(postgresTls ? { postgresTls } : {}),
    queueLimit: r.queue_limit ?? DEFAULTS.queueLimit,
  };
}
