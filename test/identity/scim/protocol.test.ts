// The SCIM endpoint's protocol rules (routes.ts and errors.ts checklists), over HTTP: its own
// token, SCIM error bodies with the right status and scimType, bounded bodies, discovery, paging,
// projection and ETags.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN, adminFetch } from '../../helpers/stack.js';
import { ERROR_URN, filtered, GROUP_URN, PATCH_URN, SCIM_TOKEN, startScimStack, USER_URN } from './helpers.js';

t.test('tokens: the SCIM token and only it; the admin token is not a SCIM token and vice versa', async (t) => {
  const s = await startScimStack(t);
  for (const token of [null, 'wrong', ADMIN_TOKEN]) {
    const r = await s.scim('GET', '/Users', undefined, { token });
    t.match(r, { status: 401, body: { schemas: [ERROR_URN], status: '401', detail: 'missing or invalid SCIM token' } }, String(token));
    t.equal(r.headers.get('www-authenticate'), 'Bearer realm="gatehouse-scim"');
  }
  const admin = await fetch(`${s.adminUrl}/admin/users`, { headers: { authorization: `Bearer ${SCIM_TOKEN}` } });
  t.equal(admin.status, 401, 'a SCIM token opens nothing under /admin');
  t.equal((await adminFetch(s, '/admin/users')).status, 200, 'the admin token still does');
  t.equal((await s.scim('GET', '/ServiceProviderConfig')).status, 200);
});

t.test('tokens from scim.tokens_file, reloaded with the config; none at all: SCIM is disabled', async (t) => {
  const saved = process.env.GATEHOUSE_SCIM_TOKEN;
  delete process.env.GATEHOUSE_SCIM_TOKEN;
  t.teardown(() => void (process.env.GATEHOUSE_SCIM_TOKEN = saved));
  const off = await startScimStack(t);
  t.match(await off.scim('GET', '/Users'), { status: 401, body: { detail: /SCIM is disabled: set GATEHOUSE_SCIM_TOKEN or scim.tokens_file/ } });
  const missing = await startScimStack(t, { scim: { tokens_file: './scim.tokens' } }).catch((err: Error) => err);
  t.match(missing, Error, 'a missing tokens file refuses to start (fail closed)');

  const s = await startScimStack(t, { scim: { tokens_file: './scim.tokens' } }, { 'scim.tokens': '# SCIM connectors\nokta: okta-token-0123456789\n' });
  t.equal((await s.scim('GET', '/Users', undefined, { token: 'okta-token-0123456789' })).status, 200);
  writeFileSync(join(s.dir, 'scim.tokens'), 'entra: entra-token-0123456789\n');
  // A reload (any change to gateway.yaml) reads the tokens file again.
  writeFileSync(join(s.dir, 'gateway.yaml'), `${readFileSync(join(s.dir, 'gateway.yaml'), 'utf8')}\n# reload\n`);
  await until(async () => (await s.scim('GET', '/Users', undefined, { token: 'entra-token-0123456789' })).status === 200);
  t.equal((await s.scim('GET', '/Users', undefined, { token: 'okta-token-0123456789' })).status, 401, 'the old token is gone');
  const created = await s.scim('POST', '/Users', { schemas: [USER_URN], userName: 'x@corp.example' }, { token: 'entra-token-0123456789' });
  t.equal(created.status, 201);
});

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('errors are SCIM error bodies naming the field; never a 500', async (t) => {
  const s = await startScimStack(t);
  const user = await s.scim('POST', '/Users', { schemas: [USER_URN], userName: 'ann@corp.example' });
  const id = user.body.id as string;
  const cases: Array<[string, string, unknown, number, string | undefined, RegExp]> = [
    ['POST', '/Users', { schemas: [USER_URN], userName: 'ANN@corp.example' }, 409, 'uniqueness', /^userName: "ANN@corp.example" is already taken/],
    ['POST', '/Users', { schemas: [USER_URN] }, 400, 'invalidValue', /^userName: is required/],
    ['POST', '/Users', { userName: 'x' }, 400, 'invalidValue', /^schemas:/],
    ['POST', '/Users', '{"schemas": [', 400, 'invalidSyntax', /not valid JSON/],
    ['POST', '/Users', '[1]', 400, 'invalidSyntax', /JSON object/],
    ['POST', '/Groups', { schemas: [GROUP_URN] }, 400, 'invalidValue', /^displayName: is required/],
    ['POST', '/Groups', { schemas: [GROUP_URN], displayName: 'g', members: [{ display: 'x' }] }, 400, 'invalidValue', /^members\[0\]\.value/],
    ['GET', filtered('Users', 'userName eq'), undefined, 400, 'invalidFilter', /^filter: expected a value/],
    ['GET', filtered('Users', 'title eq "x"'), undefined, 400, 'invalidFilter', /^filter: filtering on "title" is not supported/],
    ['GET', '/Users?count=ten', undefined, 400, 'invalidValue', /^count: must be an integer/],
    ['GET', '/Users/nope', undefined, 404, undefined, /User "nope" not found/],
    ['PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations: [{ op: 'remove' }] }, 400, 'noTarget', /Operations\[0\]/],
    ['PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'emails[', value: 1 }] }, 400, 'invalidPath', /Operations\[0\]\.path/],
    ['PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'meta', value: 1 }] }, 400, 'mutability', /read-only/],
    ['PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'active', value: 'perhaps' }] }, 400, 'invalidValue', /^active: must be true or false/],
    ['PUT', `/Users/${id}`, { schemas: [USER_URN], userName: 'x', emails: [{ value: 1 }] }, 400, 'invalidValue', /^emails\[0\]\.value/],
    ['DELETE', '/Groups/nope', undefined, 404, undefined, /Group "nope" not found/],
    ['GET', '/Bulk', undefined, 404, undefined, /no such SCIM endpoint/],
    ['GET', `/Users/${id}/x`, undefined, 404, undefined, /no such SCIM endpoint/],
    ['DELETE', '/Users', undefined, 405, undefined, /use GET, POST/],
    ['GET', '/Schemas/urn:x', undefined, 404, undefined, /Schema "urn:x" not found/],
  ];
  for (const [method, path, body, status, scimType, detail] of cases) {
    const r = await s.scim(method, path, body);
    t.match(r, { status, body: { schemas: [ERROR_URN], status: String(status), detail } }, `${method} ${path}`);
    t.equal(r.body.scimType, scimType, `${method} ${path} scimType`);
  }
  t.match(await s.scim('POST', '/Users', { schemas: [USER_URN], userName: 'x' }, { headers: { 'content-type': 'text/plain' } }), { status: 415, body: { detail: /application\/scim\+json/ } });
  t.match(await s.scim('POST', '/Users', { schemas: [USER_URN], userName: 'y' }, { headers: { 'content-type': 'application/json; charset=utf-8' } }), { status: 201 }, 'application/json is fine');
  const big = JSON.stringify({ schemas: [USER_URN], userName: 'z', title: 'x'.repeat(1024 * 1024) });
  t.match(await s.scim('POST', '/Users', big), { status: 413, body: { status: '413', detail: /larger than 1048576 bytes/ } });
  t.equal((await s.scim('GET', filtered('Users', 'userName eq "z"'))).body.totalResults, 0, 'nothing of it was written');
});

t.test('discovery, paging, projection and ETags', async (t) => {
  const s = await startScimStack(t);
  t.match(await s.scim('GET', '/ServiceProviderConfig'), { status: 200, body: { patch: { supported: true }, filter: { supported: true, maxResults: 200 }, bulk: { supported: false }, etag: { supported: true } } });
  t.match(await s.scim('GET', '/ResourceTypes'), { body: { totalResults: 2, Resources: [{ id: 'User', endpoint: '/Users' }, { id: 'Group', endpoint: '/Groups' }] } });
  t.match(await s.scim('GET', '/ResourceTypes/Group'), { body: { schema: GROUP_URN } });
  t.match(await s.scim('GET', `/Schemas/${USER_URN}`), { body: { id: USER_URN, attributes: [{ name: 'userName', required: true, uniqueness: 'server' }] } });
  t.match(await s.scim('GET', '/Schemas'), { body: { totalResults: 3 } });

  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await s.scim('POST', '/Users', { schemas: [USER_URN], userName: `u${i}@corp.example`, title: 'Eng' })).body.id as string);
  const page = await s.scim('GET', '/Users?startIndex=2&count=2');
  t.match(page.body, { totalResults: 5, startIndex: 2, itemsPerPage: 2 });
  t.same((page.body.Resources as Array<{ id: string }>).map((u) => u.id), ids.slice(1, 3));
  t.match(await s.scim('GET', '/Users?startIndex=0&count=-3'), { body: { totalResults: 5, startIndex: 1, itemsPerPage: 0 } }, 'out-of-range values are clamped (RFC 7644 §3.4.2.4)');
  const slim = await s.scim('GET', `/Users/${ids[0]}?attributes=userName`);
  t.same(Object.keys(slim.body).sort(), ['id', 'meta', 'schemas', 'userName']);
  t.notOk('title' in (await s.scim('GET', `/Users/${ids[0]}?excludedAttributes=title`)).body);

  const first = await s.scim('GET', `/Users/${ids[0]}`);
  t.equal(first.headers.get('etag'), 'W/"1"');
  const stale = await s.scim('PUT', `/Users/${ids[0]}`, { schemas: [USER_URN], userName: 'u0@corp.example' }, { headers: { 'if-match': 'W/"7"' } });
  t.match(stale, { status: 412, body: { scimType: 'invalidVers' } });
  t.match(await s.scim('PUT', `/Users/${ids[0]}`, { schemas: [USER_URN], userName: 'u0@corp.example' }, { headers: { 'if-match': 'W/"1"' } }), { status: 200, body: { meta: { version: 'W/"2"' } } });
  t.notOk('title' in (await s.scim('GET', `/Users/${ids[0]}`)).body, 'PUT replaces: an attribute not sent is gone');

  // Concurrent PATCHes on one user: each is applied, none lost (the version guard retries).
  const adds = Array.from({ length: 6 }, (_, i) => s.scim('PATCH', `/Users/${ids[1]}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'emails', value: [{ value: `alias${i}@corp.example` }] }] }));
  t.same((await Promise.all(adds)).map((r) => r.status), [200, 200, 200, 200, 200, 200]);
  t.equal(((await s.scim('GET', `/Users/${ids[1]}`)).body.emails as unknown[]).length, 6);
  t.ok((await s.scim('GET', '/Users')).headers.get('x-request-id'), 'every answer carries the event id its changes are recorded with');
});
