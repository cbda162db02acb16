// POST /admin/policy-test: evaluate an app's policies without sending a request — for a given
// identity, a user's latest recorded identity or a recorded session — and the what-if form: a
// candidate app file evaluated against everyone who used the app recently, next to the current one.
import { gatewayFactsOf, parseAppYaml } from '../config/app-text.js';
import type { AppConfig } from '../config/types.js';
import type { AdminDeps } from './deps.js';
import { evaluate } from '../policy/evaluate.js';
import type { Identity, RequestFacts } from '../policy/types.js';
import type { SessionRecord } from '../store/types.js';
import { iso, presentDecisionResult } from './present.js';
import { deviceWhatIf } from './policy-test-device.js';
import type { Static } from '@sinclair/typebox';
import { check } from './check.js';
import { IdentityIn, TEST_KEYS, WHAT_IF_KEYS } from './schemas-policy.js';
import { caughtUp, fromStore, ipParam, knownApp, objectBody, optionalString, parseSince } from './params.js';
import { HttpError, RawResponse, type AdminRouter } from './server.js';

const MODES = ['identity', 'email', 'session_id'] as const;

export function registerPolicyTest(router: AdminRouter, deps: AdminDeps): void {
  // The body's fields are those of schemas-policy.ts (published); the checks below name the field at fault.
  router.add('POST /admin/policy-test', async (r) => {
    const body = await objectBody(r);
    return body.app_yaml !== undefined ? whatIf(deps, body) : testOne(deps, body);
  });
}

function onlyKeys(body: Record<string, unknown>, allowed: readonly string[], prefix = ''): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw new HttpError(400, `unknown field "${prefix}${k}" (allowed: ${allowed.join(', ')})`, `${prefix}${k}`);
  }
}

/** A recorded session → the identity policies saw. */
export function identityOf(s: SessionRecord): Identity {
  const id: Identity = {
    kind: s.kind,
    sessionId: s.id,
    subject: s.userId,
    groups: s.groups,
    amr: s.amr,
    issuer: s.issuer,
    claims: s.claims,
    issuedAt: Math.floor(s.issuedAt / 1000),
    expiresAt: Math.floor(s.expiresAt / 1000),
  };
  if (s.email !== null) id.email = s.email;
  if (s.name !== null) id.name = s.name;
  if (s.idp !== null) id.idp = s.idp;
  if (s.kind === 'service') id.serviceToken = s.userId;
  const device = (s.liveState as { device?: Identity['device'] } | null | undefined)?.device;
  if (device) id.device = device;
  return id;
}

/** The request facts of a recorded session: its last address, login country and client certificate. */
export function factsOf(s: SessionRecord): RequestFacts {
  const facts: RequestFacts = { clientIp: s.network.lastIp ?? s.network.loginIp ?? '' };
  if (s.network.loginCountry) facts.country = s.network.loginCountry;
  if (s.device) facts.certificate = { verified: true, subject: s.device.certSubject, fingerprint: s.device.certFingerprint };
  return facts;
}

/** {"identity": {...}} → an Identity (null for {"identity": null}: an anonymous caller) and facts. */
function identityFromBody(v: unknown): { identity: Identity | null; facts: RequestFacts } {
  if (v === null) return { identity: null, facts: { clientIp: '' } };
  if (typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'identity must be an object (or null for an anonymous caller)', 'identity');
  check(IdentityIn, v, 'field', 'identity.');
  // Checked: each field of IdentityIn or absent; null is the same as absent.
  const b = v as Static<typeof IdentityIn>;
  const str = (k: 'email' | 'name' | 'sub' | 'idp' | 'issuer' | 'service_token' | 'country') => b[k] ?? undefined;
  const kind = b.kind ?? 'session';
  const groups = b.groups ?? [];
  const amr = b.amr ?? b.auth_methods ?? [];
  const email = str('email');
  const sub = str('sub') ?? str('service_token') ?? email ?? 'policy-test';
  const given = { sub, email, name: str('name'), groups, idp: str('idp'), amr };
  const claims: Record<string, unknown> = Object.fromEntries(Object.entries(given).filter(([, x]) => x !== undefined));
  Object.assign(claims, b.claims ?? {});
  const now = Math.floor(Date.now() / 1000);
  const identity: Identity = { kind, sessionId: 'policy-test', subject: sub, groups, amr, issuer: str('issuer') ?? (kind === 'service' ? 'service_token' : 'gatehouse'), claims, issuedAt: now, expiresAt: now + 3600 };
  for (const k of ['email', 'name', 'idp'] as const) if (given[k] !== undefined) identity[k] = given[k];
  if (kind === 'service') identity.serviceToken = str('service_token') ?? sub;
  const facts: RequestFacts = { clientIp: b.ip === undefined ? '' : ipParam(b.ip, 'identity.ip') };
  const country = str('country');
  if (country !== undefined) facts.country = country.toUpperCase();
  const cert = b.certificate;
  if (cert !== undefined) facts.certificate = { verified: cert.verified !== false, subject: cert.subject ?? undefined, fingerprint: cert.fingerprint ?? undefined };
  return { identity, facts };
}

async function testOne(deps: AdminDeps, body: Record<string, unknown>) {
  onlyKeys(body, TEST_KEYS);
  const appName = optionalString(body, 'app');
  if (appName === undefined) throw new HttpError(400, 'app is required: the name of the app whose policies to test', 'app');
  const app = knownApp(deps, appName, 'app');
  const given = MODES.filter((m) => body[m] !== undefined);
  if (given.length === 0) throw new HttpError(400, 'give one of identity, email or session_id', 'identity');
  if (given.length > 1) throw new HttpError(400, `give only one of identity, email or session_id (got ${given.join(', ')})`, given[1]);

  let identity: Identity | null;
  let facts: RequestFacts;
  let source: { from: (typeof MODES)[number]; session_id?: string; issued_at?: string; last_seen_at?: string };
  if (given[0] === 'identity') {
    ({ identity, facts } = identityFromBody(body.identity));
    source = { from: 'identity' };
  } else {
    const mode = given[0] as 'email' | 'session_id';
    const session = await recorded(deps, body, mode);
    identity = identityOf(session);
    facts = factsOf(session);
    source = { from: mode, session_id: session.id, issued_at: iso(session.issuedAt), last_seen_at: iso(session.lastSeenAt) };
  }
  if (body.ip !== undefined) facts.clientIp = ipParam(body.ip, 'ip');
  const country = optionalString(body, 'country');
  if (country !== undefined) facts.country = country.toUpperCase();

  const device = deviceWhatIf(identity, facts, body, deps.config());
  const decision = evaluate(app.compiled, identity, facts, { explain: true });
  return {
    app: app.name,
    config_hash: deps.config().hash,
    ...presentDecisionResult(decision, identity),
    identity: identity && { kind: identity.kind, sub: identity.subject, email: identity.email ?? null, groups: identity.groups, idp: identity.idp ?? null, amr: identity.amr, issuer: identity.issuer },
    facts: { ip: facts.clientIp || null, country: facts.country ?? null, certificate: facts.certificate ?? null, ...device },
    source,
  };
}

/** The session for {"email"} (the user's newest) or {"session_id"}, or 404. */
async function recorded(deps: AdminDeps, body: Record<string, unknown>, mode: 'email' | 'session_id'): Promise<SessionRecord> {
  const key = optionalString(body, mode) ?? '';
  if (key === '') throw new HttpError(400, `${mode} must be a non-empty string`, mode);
  await caughtUp(deps);
  if (mode === 'email') {
    const sessions = await fromStore('read the user', () => deps.store.userSessions(key, 1));
    const latest = sessions[0];
    if (!latest) throw new HttpError(404, `no sessions recorded for "${key}"`, 'email');
    return latest;
  }
  const session = await fromStore('read the session', () => deps.store.getSession(key));
  if (!session) throw new HttpError(404, `no session with id "${key}"`, 'session_id');
  return session;
}

/** The what-if: who would gain and who would lose access if the candidate file replaced the current one. */
async function whatIf(deps: AdminDeps, body: Record<string, unknown>) {
  onlyKeys(body, WHAT_IF_KEYS);
  const text = body.app_yaml;
  if (typeof text !== 'string' || text.trim() === '') throw new HttpError(400, 'app_yaml must be the text of an app file', 'app_yaml');
  const since = parseSince(body.since ?? '24h', 'since');
  const config = deps.config();
  const parsed = await parseAppYaml(text, config.appsDir, { display: 'app_yaml', facts: gatewayFactsOf(config) });
  if (!parsed.ok) {
    const problems = parsed.problems.map((p) => `${p.line}:${p.col} ${p.message}`);
    const out = { error: `app_yaml is not a valid app file (${problems.length} problem${problems.length === 1 ? '' : 's'})`, code: 'invalid_parameter', param: 'app_yaml', problems };
    return new RawResponse(400, 'application/json', JSON.stringify(out, null, 2) + '\n');
  }
  const candidate = parsed.app;
  const requested = optionalString(body, 'app');
  if (requested !== undefined && requested !== candidate.name) {
    throw new HttpError(400, `app is "${requested}" but app_yaml describes "${candidate.name}"`, 'app');
  }
  const current: AppConfig | undefined = config.apps.find((a) => a.name === candidate.name);
  await caughtUp(deps);
  const { sessions, truncated } = await fromStore('read the app’s recorded identities', () => usersOfApp(deps, candidate.name, since));

  type Who = { email: string | null; user_id: string; session_id: string };
  const gained: Array<Who & { policy: string | null }> = [];
  const lost: Array<Who & { previous_policy: string | null; reason: string; policy: string | null; reasons: string[] }> = [];
  let unchanged = 0;
  for (const [i, s] of sessions.entries()) {
    // Thousands of evaluations: let the event loop serve traffic between slices.
    if (i > 0 && i % 500 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const identity = identityOf(s);
    const facts = factsOf(s);
    const before = current ? evaluate(current.compiled, identity, facts) : null;
    const after = evaluate(candidate.compiled, identity, facts);
    const had = before !== null && before.outcome !== 'deny';
    const has = after.outcome !== 'deny';
    const who = { email: s.email, user_id: s.userId, session_id: s.id };
    if (!had && has) gained.push({ ...who, policy: after.policy });
    else if (had && !has) lost.push({ ...who, previous_policy: before?.policy ?? null, reason: after.reason, policy: after.policy, reasons: after.reasons });
    else unchanged++;
  }
  return {
    app: candidate.name,
    since: iso(since),
    current_config_hash: config.hash,
    new_app: current === undefined,
    evaluated: sessions.length,
    gained,
    lost,
    unchanged,
    ...(truncated ? { truncated: true as const } : {}),
  };
}

/** Users who used the app evaluated at most (the most recently seen; beyond it the answer says truncated). */
const MAX_USERS = 10_000;

/** Denied requests scanned for users who tried the app (beyond it the answer says truncated). */
const MAX_DENIALS_SCANNED = 20_000;

const userKey = (s: SessionRecord) => (s.email !== null ? s.email.toLowerCase() : `${s.issuer}\n${s.userId}`);

/**
 * The latest recorded identity of everyone who used the app since `since`: those it let in (the
 * store's appIdentities, from per-app activity) and those it denied (from the recorded denials),
 * since a what-if is mostly about who would gain access.
 */
async function usersOfApp(deps: AdminDeps, app: string, since: number): Promise<{ sessions: SessionRecord[]; truncated: boolean }> {
  const byUser = new Map<string, SessionRecord>();
  const users = await deps.store.appIdentities(app, since, MAX_USERS + 1);
  const tooMany = users.length > MAX_USERS;
  for (const s of users.slice(0, MAX_USERS)) byUser.set(userKey(s), s);
  const denied = new Set<string>();
  let cursor: string | undefined;
  let scanned = 0;
  let truncated = false;
  do {
    const page = await deps.store.listDecisions({ app, since, outcome: 'deny', limit: 500, ...(cursor ? { cursor } : {}) });
    for (const d of page.items) if (d.sessionId !== null) denied.add(d.sessionId);
    scanned += page.items.length;
    cursor = page.nextCursor ?? undefined;
    if (cursor && scanned >= MAX_DENIALS_SCANNED) truncated = true;
  } while (cursor && !truncated);
  for (const id of denied) {
    const session = await deps.store.getSession(id);
    if (!session) continue;
    const key = userKey(session);
    if (byUser.has(key)) continue;
    // Like appIdentities: the user's latest identity, which may come from a later session.
    const latest = session.email !== null ? ((await deps.store.userSessions(session.email, 1))[0] ?? session) : session;
    byUser.set(key, latest);
  }
  return { sessions: [...byUser.values()], truncated: truncated || tooMany };
}
