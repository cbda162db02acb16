// loadConfig: gateway.yaml + every app file → one validated, resolved, frozen GatewayConfig, or a
// ConfigError listing every problem of every file with its position. Nothing is half-applied.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { compilePolicies } from '../policy/evaluate.js';
import { substituteEnv } from './env.js';
import { normalizeHost } from './hosts.js';
import { FileReport, parseYaml, YAML_LIMITS } from './positions.js';
import { consoleApp, resolveConsole } from './console-app.js';
import { resolveApp, type GatewayFacts, type ResolvedApp } from './resolve-app.js';
import { resolveGateway } from './resolve-gateway.js';
import type { AppFileT, GatewayFileT } from './schema.js';
import { ioReason, Scope } from './scope.js';
import { ConfigError, type AppConfig, type ConfigProblem, type GatewayConfig } from './types.js';
import { appSchema, gatewaySchema, validateSchema, type SchemaResult } from './validate.js';

export { formatProblems } from './types.js';

const APP_FILE = /^[^.].*\.ya?ml$/;

interface Loaded {
  report: FileReport;
  data: unknown;
  schema: SchemaResult | null;
}

export async function loadConfig(gatewayFile: string, env: NodeJS.ProcessEnv = process.env): Promise<GatewayConfig> {
  const file = resolve(gatewayFile);
  const baseDir = dirname(file);
  const problems: ConfigProblem[] = [];
  const order: string[] = [];
  const display = (abs: string) => relative(baseDir, abs) || basename(abs);

  const gwRaw = await readFile(file).catch((err: unknown) => {
    throw new ConfigError([{ file: display(file), line: 1, col: 1, message: `cannot read ${file}: ${ioReason(err)}` }]);
  });
  const gw = analyse(file, display(file), gwRaw, gatewaySchema, env, problems);
  order.push(gw.report.file.display);
  const gwScope = gw.schema ? new Scope(gw.report, gw.schema, baseDir) : null;
  const gwData = gw.data as GatewayFileT;
  const core = gwScope ? await resolveGateway(gwData, gwScope) : null;

  // The app files.
  const appFiles: Array<{ path: string; raw: Buffer }> = [];
  if (core?.appsDir) {
    let names: string[] = [];
    try {
      names = (await readdir(core.appsDir, { withFileTypes: true }))
        .filter((d) => (d.isFile() || d.isSymbolicLink()) && APP_FILE.test(d.name))
        .map((d) => d.name)
        .sort();
    } catch (err) {
      gwScope?.problem(['apps'], `cannot read directory ${core.appsDir}: ${ioReason(err)}`);
    }
    for (const name of names) {
      const path = join(core.appsDir, name);
      try {
        appFiles.push({ path, raw: await readFile(path) });
      } catch (err) {
        problems.push({ file: display(path), line: 1, col: 1, message: `cannot read ${path}: ${ioReason(err)}` });
      }
    }
  }
  const facts = gatewayFacts(gwData, core, gwScope);
  if (core && gwScope) {
    const c = resolveConsole(gwData.admin, gwScope, facts);
    if (c.host || c.policies.operator.length || c.policies.viewer.length) core.admin = { ...core.admin, ...(c.host ? { consoleHost: c.host } : {}), consolePolicies: c.policies };
  }
  const apps: Array<{ app: ResolvedApp; raw: AppFileT; scope: Scope }> = [];
  for (const f of appFiles) {
    const a = analyse(f.path, display(f.path), f.raw, appSchema, env, problems);
    order.push(a.report.file.display);
    if (!a.schema) continue;
    const scope = new Scope(a.report, a.schema, dirname(f.path));
    const raw = a.data as AppFileT;
    apps.push({ app: await resolveApp(raw, scope, f.path, facts), raw, scope });
  }
  crossCheckApps(apps);

  if (problems.length === 0 && core) {
    const compiled: AppConfig[] = [];
    for (const { app, scope } of apps) {
      try {
        compiled.push({ ...app, compiled: compilePolicies(app.policies) });
      } catch (err) {
        scope.problem(['policies'], (err as Error).message);
      }
    }
    addConsoleApp(compiled, { file, ...core }, gwScope);
    if (problems.length === 0) {
      const hash = createHash('sha256').update(gwRaw);
      for (const f of appFiles) hash.update(`\0${basename(f.path)}\0`).update(f.raw);
      return deepFreeze({ file, hash: hash.digest('hex').slice(0, 16), loadedAt: new Date(), ...core, apps: compiled });
    }
  }
  const rank = (p: ConfigProblem) => order.indexOf(p.file);
  problems.sort((a, b) => rank(a) - rank(b) || a.line - b.line || a.col - b.col);
  throw new ConfigError(problems);
}

/** The console's built-in app on admin.console_host, which no app file may claim. */
function addConsoleApp(apps: AppConfig[], config: Parameters<typeof consoleApp>[0], s: Scope | null): void {
  let app: AppConfig | null;
  try {
    app = consoleApp(config);
  } catch (err) {
    s?.problem(['admin', 'console_policies'], (err as Error).message);
    return;
  }
  if (!app) return;
  const host = app.hosts[0] as string;
  const taken = apps.find((a) => a.hosts.includes(host));
  if (taken) s?.problem(['admin', 'console_host'], `${host} is also claimed by app "${taken.name}" in ${taken.file}`);
  else apps.push(app);
}

/** Parse, substitute the environment and validate one file against its schema. */
function analyse(path: string, shown: string, raw: Buffer, schema: typeof appSchema, env: NodeJS.ProcessEnv, sink: ConfigProblem[]): Loaded {
  const report = new FileReport(parseYaml(path, shown, raw), sink);
  if (report.reportSyntax()) return { report, data: undefined, schema: null };
  const doc = report.file.doc;
  if (doc.contents === null) {
    report.atOffset(0, 'the file is empty');
    return { report, data: undefined, schema: null };
  }
  substituteEnv(doc, env, report);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: YAML_LIMITS.maxAliasCount });
  } catch (err) {
    report.atOffset(0, `YAML: ${(err as Error).message}`);
    return { report, data: undefined, schema: null };
  }
  return { report, data, schema: validateSchema(data, schema, report) };
}

function gatewayFacts(raw: GatewayFileT, core: Awaited<ReturnType<typeof resolveGateway>> | null, s: Scope | null): GatewayFacts {
  if (!core || !s) return {};
  const facts: GatewayFacts = {};
  if (s.ok('session')) facts.sessionDurationMs = core.session.durationMs;
  if (s.ok('limits')) facts.requestTimeoutMs = core.limits.requestTimeoutMs;
  if (s.ok('identity_providers')) facts.providerIds = new Set(core.identityProviders.map((p) => p.id));
  if (s.ok('token_issuers')) facts.issuers = new Set(core.tokenIssuers.map((t) => t.issuer));
  if (s.ok('service_tokens')) facts.serviceTokens = new Set(core.serviceTokens.map((t) => t.name));
  if (s.ok('tls')) facts.clientCa = raw.tls?.client_ca !== undefined;
  if (s.ok('country_header')) facts.countryHeader = raw.country_header !== undefined;
  if (s.ok('trusted_proxies')) facts.trustedProxies = (raw.trusted_proxies ?? []).length > 0;
  return facts;
}

/** Unique app names; no two apps claim the same host + path prefix. */
function crossCheckApps(apps: Array<{ app: ResolvedApp; raw: AppFileT; scope: Scope }>): void {
  const names = new Map<string, string>();
  const claims = new Map<string, { file: string; name: string }>();
  for (const { app, raw, scope } of apps) {
    const here = scope.report.file.display;
    if (scope.ok('name')) {
      const prior = names.get(app.name);
      if (prior !== undefined) scope.problem(['name'], `app name "${app.name}" is already used by ${prior}`);
      else names.set(app.name, here);
    }
    if (!scope.ok('hosts') || !scope.ok('paths')) continue;
    raw.hosts.forEach((h, i) => {
      const host = normalizeHost(h);
      if (!('value' in host)) return;
      for (const path of app.paths) {
        const key = `${host.value} ${path}`;
        const prior = claims.get(key);
        const shown = `${host.value.startsWith('.') ? '*' : ''}${host.value}${path}`;
        if (prior && prior.file !== here) {
          scope.problem(['hosts', i], `${shown} is claimed by two apps: "${prior.name}" in ${prior.file} and "${app.name}" in ${here}`);
        } else if (!prior) claims.set(key, { file: here, name: app.name });
      }
    });
  }
}

/** Freeze plain objects and arrays, recursively; class instances (URL, IpMatcher, compiled policies) keep their own rules. */
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (Array.isArray(v) || proto === Object.prototype || proto === null) {
      Object.freeze(v);
      for (const child of Object.values(v)) deepFreeze(child);
    }
  }
  return v;
}
