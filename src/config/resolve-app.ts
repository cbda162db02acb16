// One app file → AppConfig: hosts, paths, upstream and the policies' semantic rules. Checks that need
// the gateway (provider ids, issuers, service tokens, session duration) use GatewayFacts and are
// skipped when the gateway file itself did not validate.
import { IDENTITY_SELECTORS } from '../policy/evaluate.js';
import { cidrProblem } from '../policy/ip.js';
import type { PolicyConfig, RuleConfig } from '../policy/types.js';
import { formatDuration } from './duration.js';
import { DEFAULTS } from './resolve-gateway.js';
import { checkHttpUrl, normalizeHost, normalizePath } from './hosts.js';
import { AppFile, Rule, type AppFileT, type PolicyFile } from './schema.js';
import { suggest } from './validate.js';
import type { Path, Scope } from './scope.js';
import type { AppConfig } from './types.js';

// max_in_flight: half of an upstream origin's 256 pooled connections, so one app (a bypass app
// under a slow-client attack, say) cannot take every connection from the apps sharing the upstream.
export const APP_DEFAULTS = { timeoutMs: 30_000, connectTimeoutMs: 5_000, idleTimeoutMs: 60_000, maxInFlight: 128 };

/** What app files may refer to in gateway.yaml; a missing field means "unknown, don't check". */
export interface GatewayFacts {
  /** limits.request_timeout, the default of an app's request_timeout. */
  requestTimeoutMs?: number;
  sessionDurationMs?: number;
  providerIds?: ReadonlySet<string>;
  issuers?: ReadonlySet<string>;
  serviceTokens?: ReadonlySet<string>;
  clientCa?: boolean;
  countryHeader?: boolean;
  /** trusted_proxies is set: forward_auth apps can be asked about. */
  trustedProxies?: boolean;
}

const CLAUSES = ['include', 'require', 'exclude'] as const;
const IDENTITY: readonly string[] = IDENTITY_SELECTORS;
const SELECTORS = Object.keys(Rule.properties) as Array<keyof RuleConfig>;

/** AppConfig before policy compilation (done once the whole configuration is known to be valid). */
export type ResolvedApp = Omit<AppConfig, 'compiled'>;

export async function resolveApp(raw: AppFileT, s: Scope, file: string, gw: GatewayFacts): Promise<ResolvedApp> {
  const hosts: string[] = [];
  if (s.shape('hosts')) {
    raw.hosts.forEach((h, i) => {
      if (!s.ok('hosts', i)) return;
      const r = normalizeHost(h);
      if ('problem' in r) s.problem(['hosts', i], r.problem);
      else if (hosts.includes(r.value)) s.problem(['hosts', i], `"${h}" is listed twice`);
      else hosts.push(r.value);
    });
  }
  const paths: string[] = [];
  if (s.shape('paths')) {
    (raw.paths ?? ['/']).forEach((p, i) => {
      if (!s.ok('paths', i)) return;
      const r = normalizePath(p);
      if ('problem' in r) s.problem(['paths', i], r.problem);
      else if (paths.includes(r.value)) s.problem(['paths', i], `"${p}" is listed twice`);
      else paths.push(r.value);
    });
  }
  const modes = resolveModes(raw, s, gw);
  let upstream: URL | undefined;
  if (raw.upstream !== undefined && s.ok('upstream')) {
    const r = checkHttpUrl(raw.upstream);
    if ('problem' in r) s.problem(['upstream'], r.problem);
    else upstream = r.value;
  } else if (raw.upstream === undefined && modes.proxy && s.shape() && !misspelled(raw, 'upstream')) {
    s.problem([], 'missing required key "upstream" (Gatehouse forwards to it in mode proxy, the default; only an app with mode: forward_auth alone needs none)');
  }
  // The gateway's own session tokens are iss = aud = "gatehouse": an upstream assertion with that
  // audience would verify as a session token, so an app that saw one could replay it everywhere.
  if ((raw.audience ?? raw.name) === 'gatehouse') {
    s.problem([raw.audience === undefined ? 'name' : 'audience'], raw.audience === undefined ? 'the app name "gatehouse" is reserved (it would be the audience of its assertions, which is the gateway\'s own session audience): rename the app or set audience' : 'audience "gatehouse" is reserved for the gateway\'s own session tokens: choose another');
  }
  let ca: string | undefined;
  if (raw.ca !== undefined && s.ok('ca')) {
    if (upstream && upstream.protocol !== 'https:') s.problem(['ca'], 'applies only to an https:// upstream', 'key');
    ca = await s.pem(['ca'], raw.ca);
  }
  let sessionDurationMs: number | undefined;
  if (raw.session_duration !== undefined && s.ok('session_duration')) {
    sessionDurationMs = s.ms(raw.session_duration, 0);
    if (gw.sessionDurationMs !== undefined && sessionDurationMs > gw.sessionDurationMs) {
      s.problem(['session_duration'], `may only shorten session.duration (${formatDuration(gw.sessionDurationMs)})`);
    }
  }
  if (raw.identity_providers && s.ok('identity_providers') && gw.providerIds) {
    const known = gw.providerIds;
    raw.identity_providers.forEach((id, i) => {
      if (!known.has(id)) {
        s.problem(['identity_providers', i], `no identity provider "${id}" in gateway.yaml (configured: ${[...known].join(', ') || 'none'})`);
      }
    });
  }
  const websocketOrigins: string[] = [];
  if (raw.websocket_origins && s.ok('websocket_origins')) {
    raw.websocket_origins.forEach((o, i) => {
      const r = checkHttpUrl(o);
      if ('problem' in r || (r.value.pathname !== '/' && r.value.pathname !== '')) {
        s.problem(['websocket_origins', i], `"${o}" is not an origin like https://app.corp.example`);
      } else websocketOrigins.push(r.value.origin);
    });
  }

  const policies = s.shape('policies') ? checkPolicies(raw.policies, s, gw) : [];
  return {
    name: raw.name,
    file,
    hosts,
    paths,
    ...(upstream ? { upstream } : {}),
    modes,
    ...(ca ? { ca } : {}),
    timeoutMs: s.ms(s.ok('timeout') ? raw.timeout : undefined, APP_DEFAULTS.timeoutMs),
    connectTimeoutMs: s.ms(s.ok('connect_timeout') ? raw.connect_timeout : undefined, APP_DEFAULTS.connectTimeoutMs),
    idleTimeoutMs: s.ms(s.ok('idle_timeout') ? raw.idle_timeout : undefined, APP_DEFAULTS.idleTimeoutMs),
    requestTimeoutMs: s.ms(s.ok('request_timeout') ? raw.request_timeout : undefined, gw.requestTimeoutMs ?? DEFAULTS.limits.requestTimeoutMs),
    maxInFlight: raw.max_in_flight ?? APP_DEFAULTS.maxInFlight,
    stripHeaders: raw.strip_headers?.length && s.ok('strip_headers') ? stripHeaders(raw.strip_headers) : null,
    policies,
    showDenialReasons: raw.show_denial_reasons ?? false,
    ...(raw.identity_headers ? { identityHeaders: raw.identity_headers } : {}),
    passCredentials: raw.pass_credentials ?? false,
    jwtAssertion: raw.jwt_assertion ?? true,
    audience: raw.audience ?? raw.name,
    ...(sessionDurationMs !== undefined ? { sessionDurationMs } : {}),
    ...(raw.identity_providers ? { identityProviders: raw.identity_providers } : {}),
    websocketOrigins,
  };
}

function stripHeaders(list: string[]): NonNullable<AppConfig['stripHeaders']> {
  const lower = list.map((h) => h.toLowerCase());
  return { names: new Set(lower.filter((h) => !h.endsWith('*'))), prefixes: lower.filter((h) => h.endsWith('*')).map((h) => h.slice(0, -1)) };
}

function resolveModes(raw: AppFileT, s: Scope, gw: GatewayFacts): AppConfig['modes'] {
  if (raw.mode === undefined || !s.ok('mode')) return { proxy: true, forwardAuth: false };
  const list = Array.isArray(raw.mode) ? raw.mode : [raw.mode];
  const modes = { proxy: list.includes('proxy'), forwardAuth: list.includes('forward_auth') };
  if (modes.forwardAuth && gw.trustedProxies === false) {
    s.problem(['mode'], 'forward_auth needs trusted_proxies in gateway.yaml: only those peers may ask /.gatehouse/auth');
  }
  return modes;
}

/** An unknown key that is a typo of `key` (already reported as such: "did you mean …?"). */
function misspelled(raw: AppFileT, key: string): boolean {
  const known = Object.keys(AppFile.properties);
  return Object.keys(raw).some((k) => !known.includes(k) && suggest(k, known) === key);
}

/** The policies' semantic checks; `base`: where the list is in its file (admin.console_policies.viewer …). */
export function checkPolicies(list: PolicyFile[], s: Scope, gw: GatewayFacts, base: Path = ['policies']): PolicyConfig[] {
  const names = new Map<string, number>();
  list.forEach((p, i) => {
    const at: Path = [...base, i];
    if (!s.shape(...at)) return;
    if (s.ok(...at, 'name')) {
      const prior = names.get(p.name);
      if (prior !== undefined) s.problem([...at, 'name'], `policy name "${p.name}" is already used by ${String(base[base.length - 1])}[${prior}]`);
      else names.set(p.name, i);
    }
    const action = s.ok(...at, 'action') ? p.action : undefined;
    if (s.shape(...at, 'include') && !p.include?.length) {
      s.problem(p.include ? [...at, 'include'] : at, 'a policy needs a non-empty include (use "- everyone: true" to match everyone)');
    }
    if (p.issuers !== undefined && s.ok(...at, 'issuers')) {
      if (action && action !== 'service_auth') s.problem([...at, 'issuers'], 'applies only to action service_auth', 'key');
      const known = gw.issuers;
      if (known) {
        p.issuers.forEach((iss, j) => {
          if (!known.has(iss)) s.problem([...at, 'issuers', j], `issuer "${iss}" is not in token_issuers of gateway.yaml`);
        });
      }
    }
    for (const clause of CLAUSES) {
      if (!p[clause] || !s.shape(...at, clause)) continue;
      p[clause].forEach((rule, j) => {
        if (s.shape(...at, clause, j)) checkRule(rule, [...at, clause, j], action, s, gw);
      });
    }
  });
  return list as PolicyConfig[];
}

function checkRule(rule: RuleConfig, at: Path, action: string | undefined, s: Scope, gw: GatewayFacts): void {
  const selectors = SELECTORS.filter((k) => rule[k] !== undefined);
  if (selectors.length !== 1) {
    s.problem(at, selectors.length ? `a rule has exactly one selector, found ${selectors.join(', ')} (write one rule per selector)` : 'a rule needs a selector (everyone, email, group, ip, …)');
    return;
  }
  const sel = selectors[0]!;
  if (action === 'bypass' && IDENTITY.includes(sel)) {
    s.problem([...at, sel], `a bypass policy cannot use ${sel} (bypassed requests carry no identity); use everyone, ip, country or valid_certificate`, 'key');
  }
  if (!s.ok(...at, sel)) return;
  const values = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const item = (v: unknown, j: number): Path => (Array.isArray(v) ? [...at, sel, j] : [...at, sel]);
  if (sel === 'ip') {
    values(rule.ip).forEach((c, j) => {
      const problem = cidrProblem(c);
      if (problem) s.problem(item(rule.ip, j), problem);
    });
  } else if (sel === 'service_token' && gw.serviceTokens) {
    const known = gw.serviceTokens;
    values(rule.service_token).forEach((n, j) => {
      if (!known.has(n)) s.problem(item(rule.service_token, j), `no service token named "${n}" in gateway.yaml`);
    });
  } else if (sel === 'country') {
    values(rule.country).forEach((c, j) => {
      if (!/^[A-Za-z0-9]{2}$/.test(c)) s.problem(item(rule.country, j), `country "${c}" is not a two-letter code like DE`);
    });
    if (gw.countryHeader === false) s.problem([...at, sel], 'country rules need country_header in gateway.yaml', 'key');
  } else if (sel === 'valid_certificate' && gw.clientCa === false) {
    s.problem([...at, sel], 'needs tls.client_ca in gateway.yaml', 'key');
  }
}
