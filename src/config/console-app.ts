// admin.console_host → the built-in app "gatehouse-console": routed, signed in, authorized and
// recorded like any app (so a refused admin gets the usual 403 page with a request id), and served
// by the console instead of an upstream. console_policies use the app policy language; who matches
// an operator policy may act, who matches only a viewer policy may read.
import { compilePolicies } from '../policy/evaluate.js';
import { normalizeHost } from './hosts.js';
import { APP_DEFAULTS, checkPolicies, type GatewayFacts } from './resolve-app.js';
import type { GatewayFileT } from './schema.js';
import type { Scope } from './scope.js';
import type { AppConfig, GatewayConfig } from './types.js';

export const CONSOLE_APP = 'gatehouse-console';

type Admin = GatewayFileT['admin'];

/** The checked console settings of gateway.yaml (policies empty when there are none). */
type Policies = NonNullable<GatewayConfig['admin']['consolePolicies']>;

export function resolveConsole(raw: Admin, s: Scope, facts: GatewayFacts): { host?: string; policies: Policies } {
  const policies: Policies = { operator: [], viewer: [] };
  if (!s.ok('admin')) return { policies };
  let host: string | undefined;
  if (raw.console_host !== undefined) {
    const h = normalizeHost(raw.console_host);
    if ('problem' in h || h.value.startsWith('.')) s.problem(['admin', 'console_host'], 'must be one host name, e.g. console.corp.example');
    else host = h.value;
  }
  for (const role of ['operator', 'viewer'] as const) {
    const list = raw.console_policies?.[role];
    if (list && s.shape('admin', 'console_policies', role)) policies[role] = checkPolicies(list, s, facts, ['admin', 'console_policies', role]);
  }
  const names = new Set(policies.operator.map((p) => p.name));
  policies.viewer.forEach((p, i) => {
    if (names.has(p.name)) s.problem(['admin', 'console_policies', 'viewer', i, 'name'], `policy name "${p.name}" is already used by an operator policy`);
  });
  if (host && policies.operator.length + policies.viewer.length === 0) {
    s.problem(['admin', 'console_host'], 'needs admin.console_policies (operator and/or viewer): without them nobody could use the console');
  }
  return { ...(host ? { host } : {}), policies };
}

/** The built-in app serving the console on console_host; null when there is none. */
export function consoleApp(config: Pick<GatewayConfig, 'file' | 'admin' | 'limits'>): AppConfig | null {
  const host = config.admin.consoleHost;
  if (!host) return null;
  // Viewers' and operators' policies together decide who gets in; the operators' alone who may act.
  const { operator = [], viewer = [] } = config.admin.consolePolicies ?? {};
  const policies = [...operator, ...viewer];
  return {
    name: CONSOLE_APP,
    file: config.file,
    hosts: [host],
    paths: ['/'],
    modes: { proxy: true, forwardAuth: false },
    timeoutMs: APP_DEFAULTS.timeoutMs,
    connectTimeoutMs: APP_DEFAULTS.connectTimeoutMs,
    idleTimeoutMs: APP_DEFAULTS.idleTimeoutMs,
    requestTimeoutMs: config.limits.requestTimeoutMs,
    maxInFlight: APP_DEFAULTS.maxInFlight,
    stripHeaders: null,
    policies,
    compiled: compilePolicies(policies),
    showDenialReasons: false,
    passCredentials: false,
    jwtAssertion: false,
    audience: CONSOLE_APP,
    websocketOrigins: [],
    builtin: 'console',
  };
}
