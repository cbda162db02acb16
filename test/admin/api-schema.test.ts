// The admin API's published schemas (schema/admin-api.schema.json) are the route table's, the docs
// list exactly the routes of the table, and a real gateway's answers match the published schemas.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { apiSchemaJson, API_SCHEMA_FILE, responsePointer, routePointer, writeApiSchema } from '../../src/admin/api-schema.js';
import { installAdminApi } from '../../src/admin/install.js';
import { ADMIN_ROUTES, ROUTE_KEYS, splitKey, type RouteKey } from '../../src/admin/routes.js';
import { installDevices } from '../../src/devices/install.js';
import { installLogin, loginModuleOf } from '../../src/login/install.js';
import type { DeviceRecord } from '../../src/store/device-types.js';
import { ADMIN_TOKEN, docsApp, startAdminStack, wikiApp, type AdminStack } from './helpers.js';
import { startUpstream } from '../helpers/stack.js';
import { usersYaml } from '../login/helpers/users.js';

const root = resolve(import.meta.dirname, '../..');
const published = JSON.parse(readFileSync(resolve(root, 'schema', API_SCHEMA_FILE), 'utf8')) as { definitions: Record<string, Record<string, unknown>> };

/** `GET /admin/sessions/{id}` → `GET /admin/sessions/:id`. */
const asKey = (route: string) => route.replace(/\{([a-z_]+)\}/g, ':$1');

/** The routes docs/admin-api.md lists in its table, and those its sections describe (### `METHOD /path`). */
export function documentedRoutes(markdown: string): { table: string[]; sections: string[] } {
  const route = /`((?:GET|POST|PUT|PATCH|DELETE) \/[^`\s]*)`/g;
  const table = markdown.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => [...(l.split('|')[1] ?? '').matchAll(route)].map((m) => asKey(m[1] as string)));
  const sections = [...markdown.matchAll(/^###+ `((?:GET|POST|PUT|PATCH|DELETE) \/[^`\s]*)`/gm)].map((m) => asKey(m[1] as string));
  return { table, sections };
}

t.test('schema/admin-api.schema.json is what the route table makes (run `npm run schema` after editing src/admin/routes.ts or schemas*.ts)', async (t) => {
  t.equal(readFileSync(resolve(root, 'schema', API_SCHEMA_FILE), 'utf8'), apiSchemaJson());
  const dir = t.testdir({});
  const path = await writeApiSchema(`${dir}/out`);
  t.equal(readFileSync(path, 'utf8'), apiSchemaJson(), 'writeApiSchema writes the same text');
  t.same(Object.keys(published.definitions).filter((k) => k.includes(' ')), ROUTE_KEYS, 'every route of the table, in order');
  // Plain draft-07: a strict ajv (unknown keywords are errors) compiles every part of every route.
  const strict = new Ajv();
  addFormats.default(strict);
  strict.addSchema(published, 'admin-api');
  for (const key of ROUTE_KEYS) t.type(strict.getSchema(`admin-api${routePointer(key)}`), 'function', `${key}: compiles strictly`);
  for (const key of ROUTE_KEYS) {
    const spec = ADMIN_ROUTES[key] as { params?: { properties: object } };
    const names = [...splitKey(key).path.matchAll(/:([a-z_]+)/g)].map((m) => m[1]);
    t.same(Object.keys(spec.params?.properties ?? {}), names, `${key}: params schema names the path's parameters`);
  }
});

t.test("the published body of POST /admin/policy-test accepts what the route takes and refuses what it refuses for its shape", async (t) => {
  const ajv = new Ajv({ allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(published, 'admin-api');
  const body = ajv.getSchema(`admin-api${routePointer('POST /admin/policy-test')}/properties/body`) as ValidateFunction;
  const yaml = 'name: wiki\nhosts: [wiki.test]\nupstream: http://127.0.0.1:1\npolicies: []\n';
  for (const ok of [
    { app: 'wiki', identity: { email: 'hank@corp.example', groups: ['staff', 'contractors'], amr: ['pwd'] } },
    { app: 'wiki', identity: null },
    { app: 'wiki', identity: { groups: ['staff'], ip: '10.1.2.3', country: 'de', kind: 'service', service_token: 'ci', claims: { a: 1 }, certificate: { subject: 'CN=x' } } },
    { app: 'wiki', email: 'jo@corp.example', ip: '10.0.0.1', country: 'DE' },
    { app: 'docs', session_id: 'abc' },
    { app: 'wiki', email: 'jo@corp.example', device: { approved: true, name: 'x' }, posture: { disk_encrypted: true }, user_agent: 'Mozilla/5.0' },
    { app: 'wiki', email: 'jo@corp.example', device: null },
    { app_yaml: yaml, since: '1h' },
    { app: 'wiki', app_yaml: yaml, since: '2026-11-20T10:00:00Z' },
  ]) t.ok(body(ok), `accepts ${JSON.stringify(ok)}: ${ajv.errorsText(body.errors)}`);
  for (const bad of [
    { identity: {} },
    { app: 7, identity: {} },
    { app: 'wiki', identity: { groups: 'staff' } },
    { app: 'wiki', identity: { grups: ['staff'] } },
    { app: 'wiki', identity: { kind: 'robot' } },
    { app: 'wiki', identity: { claims: [] } },
    { app: 'wiki', identity: 'alice' },
    { app: 'wiki', email: '' },
    { app: 'wiki', identity: {}, colour: 'red' },
    { app: 'wiki', email: 'a@b.c', device: { approved: 'yes' } },
    [1, 2],
    { app_yaml: 42 },
    { app_yaml: yaml, since: 'last week' },
  ]) t.notOk(body(bad), `refuses ${JSON.stringify(bad)}`);
});

t.test('docs/admin-api.md lists exactly the routes of the table', async (t) => {
  const { table, sections } = documentedRoutes(readFileSync(resolve(root, 'docs/admin-api.md'), 'utf8'));
  t.ok(table.length > 10, `the docs' route table parses (${table.length} routes)`);
  t.same(table.filter((r) => !(r in ADMIN_ROUTES)), [], 'every documented route is in the route table');
  t.same(ROUTE_KEYS.filter((k) => !table.includes(k)), [], 'every route of the table is documented');
  t.equal(new Set(table).size, table.length, 'each route listed once');
  t.same(sections.filter((r) => !(r in ADMIN_ROUTES)), [], 'every section describes a route of the table');
});

/** Ajv over the published document: each route's `response` by JSON pointer (its $refs resolve in the document). */
function validators(): (key: RouteKey) => ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv, ['date-time']);
  ajv.addSchema(published, 'admin-api');
  return (key) => ajv.getSchema(`admin-api${responsePointer(key)}`) as ValidateFunction;
}

/** A gateway with everything on the admin listener (login, devices, the admin API) and something in each list. */
async function populated(t: Test): Promise<{ s: AdminStack; ids: Record<string, string> }> {
  const up = await startUpstream(t);
  const s = await startAdminStack(t, {
    gateway: {
      identity_providers: [{ id: 'local', type: 'local_users', file: './users.yaml' }],
      login: { lockout_threshold: 2, lockout_window: '1m', lockout_duration: '5m' },
    },
    apps: { wiki: { ...wikiApp(up.url), identity_providers: ['local'] }, docs: docsApp(up.url) },
    files: { 'users.yaml': await usersYaml([{ email: 'ann@corp.example', password: 'correct horse battery', groups: ['staff'] }]) },
    extend: async (g) => {
      await installLogin(g);
      await installDevices(g);
      installAdminApi(g);
    },
  });
  const kim = await s.mint({ sub: 'u-kim', email: 'kim@corp.example', groups: ['staff'] });
  const max = await s.mint({ sub: 'u-max', email: 'max@corp.example', groups: ['contractors'] });
  t.equal((await s.get('wiki.test', kim.token)).status, 200);
  t.equal((await s.get('wiki.test', max.token)).status, 403);
  t.equal((await s.get('docs.test', await s.idp.sign({ sub: 'u-ext', email: 'ext@partner.example' }), { bearer: true })).status, 200);
  const throttle = loginModuleOf(s.gw)?.throttle;
  for (let i = 0; i < 2; i++) await throttle?.fail('lou@corp.example', '192.0.2.9');
  const now = Date.now();
  const device: DeviceRecord = {
    id: 'dev-1', owner: 'kim@corp.example', email: 'kim@corp.example', name: 'Kim’s laptop', credentialId: 'cred-1', publicKey: 'pk', counter: 0, transports: ['internal'],
    aaguid: '00000000-0000-0000-0000-000000000000', attachment: 'platform', state: 'pending', enrolledAt: now, approvedAt: null, approvedBy: null, revokedAt: null,
    revokedBy: null, lastAssertionAt: null, posture: {}, postureAt: null,
  };
  await s.gw.store.devices.create(device);
  return { s, ids: { id: kim.jti, email: 'kim@corp.example', name: 'wiki', kind: 'user', key: 'lou@corp.example' } };
}

t.test("a real gateway's answers match the published schemas", async (t) => {
  const { s, ids } = await populated(t);
  t.same(s.gw.adminRouter.keys().sort(), [...ROUTE_KEYS].sort(), 'a fully installed gateway has a handler for every route of the table');
  const validate = validators();
  const sessions = validate('GET /admin/sessions');
  t.notOk(sessions({ sessions: [{ id: 'x' }], next_cursor: null }), 'the validators have teeth: a session without its fields fails');
  t.notOk(validate('GET /admin/users')({ users: [], next_cursor: null, extra: 1 }), 'so does a field the schema does not list');
  const target = (key: RouteKey, values: Record<string, string>) => splitKey(key).path.replace(/:([a-z_]+)/g, (_m, k: string) => encodeURIComponent(values[k] ?? ''));
  const check = async (key: RouteKey, path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${s.gw.adminUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await res.text();
    if ((ADMIN_ROUTES[key] as { contentType?: string }).contentType) {
      t.equal(res.status, 200, `${key}: 200`);
      t.match(res.headers.get('content-type'), /^text\/plain/, `${key}: text`);
      return null;
    }
    const body = JSON.parse(text) as Record<string, unknown>;
    t.ok([200, 201].includes(res.status) || key === 'GET /readyz', `${key} (${path}): ${res.status} ${res.status >= 300 ? text : ''}`);
    const v = validate(key);
    t.ok(v(body), `${key} (${path}) matches its response schema: ${JSON.stringify(v.errors?.slice(0, 3))}`);
    return body;
  };

  // Every documented GET route, with values that exist (and the variants of its answer).
  const { table } = documentedRoutes(readFileSync(resolve(root, 'docs/admin-api.md'), 'utf8'));
  const gets = table.filter((k): k is RouteKey => k.startsWith('GET ') && k in ADMIN_ROUTES);
  t.ok(gets.length >= 14, `${gets.length} documented GET routes`);
  const devicesPath = (id: string) => `/admin/devices/${id}`;
  for (const key of gets) await check(key, target(key, { ...ids, id: key.startsWith('GET /admin/devices') ? 'dev-1' : ids.id as string }));
  await check('GET /admin/decisions', '/admin/decisions?request_id=never-seen');
  await check('GET /admin/sessions', '/admin/sessions?limit=1&active=true');
  await check('GET /admin/users/:email', '/admin/users/max%40corp.example');

  // The other routes' answers, too.
  await check('POST /admin/policy-test', '/admin/policy-test', { method: 'POST', body: { app: 'wiki', email: 'kim@corp.example', posture: { disk_encrypted: true }, device: { approved: true } } });
  await check('POST /admin/policy-test', '/admin/policy-test', { method: 'POST', body: { app: 'wiki', identity: { groups: ['staff'], certificate: { subject: 'CN=x' } } } });
  await check('POST /admin/policy-test', '/admin/policy-test', { method: 'POST', body: { app: 'wiki', identity: null } });
  await check('POST /admin/policy-test', '/admin/policy-test', { method: 'POST', body: { app_yaml: 'name: wiki\nhosts: [wiki.test]\nupstream: http://127.0.0.1:1\npolicies: []\n', since: '1h' } });
  const reported = await check('PUT /admin/devices/:id/posture', `${devicesPath('dev-1')}/posture`, { method: 'PUT', body: { disk_encrypted: true, os_version: '14.2' } });
  t.match(reported, { posture: { disk_encrypted: { value: true, stale: false } } }, 'a posture report is in the answer checked');
  await check('POST /admin/devices/:id/approve', `${devicesPath('dev-1')}/approve`, { method: 'POST' });
  await check('GET /admin/sessions/:id', `/admin/sessions/${ids.id}`);
  await check('POST /admin/devices/:id/revoke', `${devicesPath('dev-1')}/revoke`, { method: 'POST' });
  await check('POST /admin/apps/:name/revoke', '/admin/apps/docs/revoke', { method: 'POST' });
  await check('GET /admin/apps/:name/sessions', '/admin/apps/docs/sessions');
  await check('DELETE /admin/login/lockouts/:kind/:key', '/admin/login/lockouts/user/lou%40corp.example', { method: 'DELETE' });
  await check('DELETE /admin/sessions/:id', `/admin/sessions/${ids.id}?reason=test`, { method: 'DELETE' });
  await check('DELETE /admin/users/:email/sessions', '/admin/users/max%40corp.example/sessions', { method: 'DELETE', body: { reason: 'test' } });
  await check('GET /admin/sessions/:id', `/admin/sessions/${ids.id}`);
  await check('GET /admin/users/:email', '/admin/users/kim%40corp.example');
  const actions = await check('GET /admin/actions', '/admin/actions');
  t.ok(((actions?.actions as unknown[]) ?? []).length >= 5, 'the actions just taken are in the audit, each checked');

  // Errors match the published error shape.
  const errorOf = new Ajv({ strict: false }).compile(published.definitions.Error as object);
  for (const [method, path, status, token = ADMIN_TOKEN] of <Array<[string, string, number, string?]>>[
    ['GET', '/admin/sessions?limit=0', 400],
    ['GET', '/admin/sessions/nope', 404],
    ['DELETE', '/admin/login/lockouts/robot/x', 400],
    ['GET', '/admin/devices?state=lost', 400],
    ['GET', '/admin/sessions', 401, 'wrong'],
    ['GET', '/admin/nope', 404],
    ['PUT', '/admin/decisions', 405],
    ['POST', '/admin/devices/nope/approve', 404],
  ]) {
    const res = await fetch(`${s.gw.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as Record<string, unknown>;
    t.equal(res.status, status, `${method} ${path}: ${status}`);
    t.ok(errorOf(body), `${method} ${path}: the error answer (${JSON.stringify(body)})`);
  }
});

t.test('path parameters, queries and policy-test identities are checked with their schemas: a 400 naming the field', async (t) => {
  const s = await startAdminStack(t);
  for (const [path, param, error] of <Array<[string, string, RegExp]>>[
    ['/admin/sessions?limit=1e2', 'limit', /^limit must be a whole number from 1 to 500$/],
    ['/admin/sessions?limit=0x10', 'limit', /^limit must be a whole number from 1 to 500$/],
    ['/admin/sessions?active=yes', 'active', /^active must be true or false$/],
    ['/admin/sessions?emial=x&limit=0', 'emial', /^unknown query parameter "emial" \(allowed: email, user, app, idp, group, country, device, since, active, count, limit, cursor\)$/],
    ['/admin/decisions?outcome=maybe', 'outcome', /^outcome must be one of allow, deny, bypass, unauthenticated, not_found, error$/],
    ['/admin/decisions?since=5x', 'since', /^since must be a duration like 30m/],
    ['/admin/users?limit=501', 'limit', /limit must be/],
    ['/admin/users/x%ZZ', 'email', /bad percent-encoding/],
  ]) {
    const res = await s.admin<Record<string, unknown>>('GET', path);
    t.equal(res.status, 400, path);
    t.match(res.body, { code: 'invalid_parameter', param, error }, path);
  }
  for (const path of ['/admin/sessions?limit=010', '/admin/sessions?limit=500&active=1', '/admin/sessions?email=&limit=', '/admin/users?cursor=', '/admin/sessions?active=0&active=maybe']) {
    t.equal((await s.admin('GET', path)).status, 200, `${path}: empty values are absent, the first of repeated ones counts`);
  }
  // A policy test's identity and device are checked with their published schemas: the same sentences as before.
  for (const [body, param, error] of <Array<[unknown, string, RegExp]>>[
    [{ app: 'wiki', identity: { groups: 'staff' } }, 'identity.groups', /^identity\.groups must be a list of strings$/],
    [{ app: 'wiki', identity: { groups: ['staff', 7] } }, 'identity.groups', /^identity\.groups must be a list of strings$/],
    [{ app: 'wiki', identity: { email: 7 } }, 'identity.email', /^identity\.email must be a string$/],
    [{ app: 'wiki', identity: { kind: 'robot' } }, 'identity.kind', /^identity\.kind must be one of session, token, service$/],
    [{ app: 'wiki', identity: { claims: [] } }, 'identity.claims', /^identity\.claims must be an object$/],
    [{ app: 'wiki', identity: { ip: 7 } }, 'identity.ip', /^identity\.ip must be an IPv4 or IPv6 address$/],
    [{ app: 'wiki', identity: { ip: 'nope' } }, 'identity.ip', /^identity\.ip must be an IPv4 or IPv6 address$/],
    [{ app: 'wiki', identity: { certificate: 'CN=x' } }, 'identity.certificate', /^identity\.certificate must be an object like \{"subject": "CN=…"\}$/],
    [{ app: 'wiki', identity: { certificate: { subject: 1 } } }, 'identity.certificate.subject', /^identity\.certificate\.subject must be a string$/],
    [{ app: 'wiki', identity: { grups: [] } }, 'identity.grups', /^unknown field "identity\.grups" \(allowed: email, name, sub, idp, issuer, kind, groups, amr, auth_methods, claims, service_token, ip, country, certificate\)$/],
    [{ app: 'wiki', identity: {}, device: { colour: 'red' } }, 'device.colour', /^unknown field "device\.colour" \(allowed: approved, name\)$/],
    [{ app: 'wiki', identity: {}, device: { approved: 'yes' } }, 'device.approved', /^device\.approved must be true or false$/],
    [{ app: 'wiki', identity: {}, device: { name: 1 } }, 'device.name', /^device\.name must be a string$/],
  ]) {
    const res = await s.admin<Record<string, unknown>>('POST', '/admin/policy-test', body);
    t.equal(res.status, 400, JSON.stringify(body));
    t.match(res.body, { code: 'invalid_parameter', param, error }, JSON.stringify(body));
  }
  const nulls = await s.admin<Record<string, unknown>>('POST', '/admin/policy-test', { app: 'wiki', identity: { email: null, groups: null, claims: null, kind: null, country: null, certificate: { subject: null } } });
  t.match(nulls.body, { outcome: 'deny', identity: { kind: 'session', email: null, groups: [] } }, 'null is the same as absent');

  const schema = await s.admin('GET', '/admin/schema');
  t.same(schema.body, published, 'GET /admin/schema serves the published document');
});
