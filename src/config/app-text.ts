// One app file given as text (not read from the apps directory) → a validated AppConfig with compiled
// policies, or every problem as `line:col message`. Used by the admin API's what-if policy test to
// check a candidate file before it is saved. The same steps as loadConfig takes for each app file:
// YAML with positions, environment substitution, schema, resolveApp, compilePolicies.
import { join } from 'node:path';
import { compilePolicies } from '../policy/evaluate.js';
import { substituteEnv } from './env.js';
import { FileReport, parseYaml, YAML_LIMITS } from './positions.js';
import { resolveApp, type GatewayFacts } from './resolve-app.js';
import type { AppFileT } from './schema.js';
import { Scope } from './scope.js';
import type { AppConfig, ConfigProblem, GatewayConfig } from './types.js';
import { appSchema, validateSchema } from './validate.js';

export type AppTextResult = { ok: true; app: AppConfig } | { ok: false; problems: ConfigProblem[] };

const failed = (problems: ConfigProblem[]): AppTextResult => ({
  ok: false,
  problems: problems.sort((a, b) => a.line - b.line || a.col - b.col),
});

/** What an app file may refer to in the running gateway's configuration. */
export function gatewayFactsOf(config: GatewayConfig): GatewayFacts {
  return {
    sessionDurationMs: config.session.durationMs,
    requestTimeoutMs: config.limits.requestTimeoutMs,
    providerIds: new Set(config.identityProviders.map((p) => p.id)),
    issuers: new Set(config.tokenIssuers.map((t) => t.issuer)),
    serviceTokens: new Set(config.serviceTokens.map((t) => t.name)),
    clientCa: config.tls?.clientCa !== undefined,
    countryHeader: config.countryHeader !== undefined,
    trustedProxies: config.trustedProxies.size > 0,
  };
}

/**
 * Validates one app file's text. `baseDir` is where relative paths in it (ca) resolve, `display`
 * names it in problems, `facts` (see gatewayFactsOf) enables the cross-checks against gateway.yaml.
 */
export async function parseAppYaml(
  text: string,
  baseDir: string,
  opts: { display?: string; facts?: GatewayFacts; env?: NodeJS.ProcessEnv } = {},
): Promise<AppTextResult> {
  const problems: ConfigProblem[] = [];
  const display = opts.display ?? 'app.yaml';
  const path = join(baseDir, display);
  const report = new FileReport(parseYaml(path, display, Buffer.from(text, 'utf8')), problems);
  if (report.reportSyntax()) return failed(problems);
  const doc = report.file.doc;
  if (doc.contents === null) {
    report.atOffset(0, 'the file is empty');
    return failed(problems);
  }
  substituteEnv(doc, opts.env ?? process.env, report);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: YAML_LIMITS.maxAliasCount });
  } catch (err) {
    report.atOffset(0, `YAML: ${(err as Error).message}`); // "Excessive alias count indicates a resource exhaustion attack"
    return failed(problems);
  }
  const schema = validateSchema(data, appSchema, report);
  const scope = new Scope(report, schema, baseDir);
  const resolved = await resolveApp(data as AppFileT, scope, path, opts.facts ?? {});
  if (problems.length > 0) return failed(problems);
  try {
    return { ok: true, app: { ...resolved, compiled: compilePolicies(resolved.policies) } };
  } catch (err) {
    scope.problem(['policies'], (err as Error).message);
    return failed(problems);
  }
}
