// The SSF/CAEP receiver against a real gateway (SQLite) and a test transmitter whose JWKS is served
// over HTTP: each CAEP event type and each subject format changes the live sessions it names on
// their next request, recorded in the identity history with source ssf and the SET's jti; forged,
// replayed, expired, wrong-audience, wrong-issuer and malformed SETs get 400 with the RFC 8935 code,
// change nothing, and are recorded (decision) and counted (metrics).
import t, { type Test } from 'tap';
import { installAdminApi } from '../../../src/admin/install.js';
import { mintSessionToken } from '../../../src/auth/session-token.js';
import type { Gateway } from '../../../src/gateway.js';
import { installSsf } from '../../../src/identity/ssf/install.js';
import { remoteKeys } from './transmitter.js';
import { adminFetch, request, startStack, startUpstream, type Stack } from '../../helpers/stack.js';
import { AUDIENCE, CAEP, ISSUER, push, receiverConfig, startTransmitter, type Transmitter } from './transmitter.js';

const OIDC_ISSUER = 'https://corp-idp.test';

async function setup(t: Test): Promise<{ s: Stack; tx: Transmitter }> {
  const up = await startUpstream(t);
  const tx = await startTransmitter(t);
  const editors = { name: 'editors', action: 'allow', include: [{ group: 'wiki-editors' }] };
  const s = await startStack(t, {
    apps: {
      wiki: { name: 'wiki', hosts: ['wiki.test'], upstream: up.url, policies: [editors] },
      ops: { name: 'ops', hosts: ['ops.test'], upstream: up.url, policies: [{ ...editors, require: [{ auth_method: 'mfa' }] }] },
    },
    gateway: {
      ssf_receivers: [receiverConfig(tx.jwksUri)],
      identity_providers: [{ id: 'corp', type: 'oidc', issuer: OIDC_ISSUER, client_id: 'gatehouse', client_secret: 'client-secret-0123456789' }],
    },
    extend: async (g: Gateway) => {
      installAdminApi(g);
      await installSsf(g, remoteKeys);
    },
  });
  return { s, tx };
}

/** A signed-in session of Ann (through the `corp` provider), recorded by a first request. */
async function session(t: Test, s: Stack, claims: Record<string, unknown> = {}): Promise<{ id: string; get(host?: string): Promise<number> }> {
  const minted = await mintSessionToken(
    s.gw.services.keys,
    { sub: 'ann-id', email: 'ann@corp.example', groups: ['wiki-editors'], idp: 'corp', amr: ['pwd', 'mfa'], ...claims },
    3_600_000,
  );
  const get = async (host = 'wiki.test') => (await request(s.port, { host, headers: { cookie: `gatehouse_session=${minted.token}` } })).status;
  t.equal(await get(), 200);
  return { id: minted.jti, get };
}

async function history(s: Stack, id: string): Promise<Array<Record<string, unknown>>> {
  await s.gw.writer.flush();
  return ((await (await adminFetch(s, `/admin/sessions/${id}`)).json()) as { identity_history: Array<Record<string, unknown>> }).identity_history;
}

const email = { format: 'email', email: 'ann@corp.example' };

t.test('session-revoked by email, iss_sub and opaque session id: refused on the next request', async (t) => {
  const { s, tx } = await setup(t);
  const [a, b, c] = [await session(t, s), await session(t, s), await session(t, s)];

  const opaque = await tx.set({ format: 'opaque', id: a.id }, { [`${CAEP}session-revoked`]: { initiating_entity: 'policy', reason_admin: { en: 'Landspeed policy violation' } } });
  const res = await push(s.port, opaque);
  t.equal(res.status, 202, res.body);
  t.equal(res.body, '');
  t.equal(await a.get(), 401, 'the named session is refused');
  t.equal(await b.get(), 200, 'the other sessions stay');
  t.match(await history(s, a.id), [{ source: 'ssf', revoked: { reason: 'ssf session-revoked (Landspeed policy violation)' } }]);

  t.equal((await push(s.port, await tx.set({ format: 'iss_sub', iss: OIDC_ISSUER, sub: 'ann-id' }, { [`${CAEP}session-revoked`]: {} }))).status, 202);
  t.equal(await b.get(), 401, 'iss_sub: every session of that subject at that issuer');
  t.equal(await c.get(), 401);

  const d = await session(t, s);
  const set = await tx.set(email, { [`${CAEP}session-revoked`]: {} }, { jti: 'set-email-1' });
  t.equal((await push(s.port, set)).status, 202);
  t.equal(await d.get(), 401, 'email: every session of the user');
  t.match(await history(s, d.id), [{ source: 'ssf', event_id: 'set-email-1' }]);
});

t.test('earlier CAEP drafts: the subject inside the event (subject_type, iss-sub)', async (t) => {
  const { s, tx } = await setup(t);
  const a = await session(t, s);
  const set = await tx.set(undefined, { [`${CAEP}session-revoked`]: { subject: { subject_type: 'iss-sub', iss: OIDC_ISSUER, sub: 'ann-id' } } });
  t.equal((await push(s.port, set)).status, 202);
  t.equal(await a.get(), 401);
});

t.test('token-claims-change: new groups and claims decide the next request', async (t) => {
  const { s, tx } = await setup(t);
  const a = await session(t, s);
  const set = await tx.set(email, { [`${CAEP}token-claims-change`]: { claims: { groups: ['wiki-readers'], department: 'sales', email: 'mallory@evil.example' } } }, { jti: 'claims-1' });
  t.equal((await push(s.port, set)).status, 202);
  t.equal(await a.get(), 403, 'no longer in wiki-editors');
  t.match(await history(s, a.id), [{ source: 'ssf', event_id: 'claims-1', version: 1, groups: { added: ['wiki-readers'], removed: ['wiki-editors'] }, claims_changed: ['department'] }]);
  const live = s.gw.services.identities.state(a.id);
  t.notOk(live?.claims && 'email' in live.claims, 'who the session is (email, sub …) is never changed by a claims change');
});

t.test('assurance-level-change (RFC8176 amr) and credential-change', async (t) => {
  const { s, tx } = await setup(t);
  const a = await session(t, s);
  t.equal(await a.get('ops.test'), 200, 'ops requires mfa: the session has it');
  const level = { namespace: 'RFC8176', current_level: 'pwd', previous_level: 'mfa', change_direction: 'decrease' };
  t.equal((await push(s.port, await tx.set(email, { [`${CAEP}assurance-level-change`]: level }))).status, 202);
  t.equal(await a.get('ops.test'), 403, 'amr is now [pwd]: ops refuses');
  t.equal(await a.get(), 200, 'wiki does not require mfa');
  t.match(await history(s, a.id), [{ source: 'ssf', auth_methods: { before: ['pwd', 'mfa'], after: ['pwd'] } }]);

  t.equal((await push(s.port, await tx.set(email, { [`${CAEP}credential-change`]: { credential_type: 'fido2-roaming', change_type: 'create' } }))).status, 202);
  t.equal(await a.get(), 200, 'a new credential leaves the sessions alone');
  t.equal((await push(s.port, await tx.set(email, { [`${CAEP}credential-change`]: { credential_type: 'password', change_type: 'update' } }))).status, 202);
  t.equal(await a.get(), 401, 'a changed password ends the sessions');
  t.match(await history(s, a.id), [{ source: 'ssf', revoked: { reason: 'ssf credential-change password update' } }]);
});

t.test('device-compliance-change: stored per user and device, in the identity history', async (t) => {
  const { s, tx } = await setup(t);
  const a = await session(t, s);
  const subject = { format: 'complex', user: email, device: { format: 'opaque', id: 'laptop-7' } };
  const event = (current_status: string) => ({ [`${CAEP}device-compliance-change`]: { current_status, previous_status: 'compliant' } });
  t.equal((await push(s.port, await tx.set(subject, event('not-compliant'), { jti: 'dev-1' }))).status, 202);
  t.match(await history(s, a.id), [{ source: 'ssf', event_id: 'dev-1', device: { id: 'opaque laptop-7', before: null, after: 'not-compliant' } }]);
  t.match(await s.gw.store.events.deviceCompliance('email ann@corp.example'), [{ device: 'opaque laptop-7', status: 'not-compliant', source: 'ssf', eventId: 'dev-1' }]);
  t.equal(await a.get(), 200, 'recorded for policies; no policy reads it yet');
  t.equal((await push(s.port, await tx.set(subject, event('compliant')))).status, 202);
  t.match((await history(s, a.id))[0], { device: { before: 'not-compliant', after: 'compliant' } });
});

t.test('refused SETs: 400 with the RFC 8935 code, nothing changes, recorded and counted', async (t) => {
  const { s, tx } = await setup(t);
  const a = await session(t, s);
  const revoke = { [`${CAEP}session-revoked`]: {} };
  const old = Math.floor(Date.now() / 1000) - 3600;
  const good = await tx.set(email, { [`${CAEP}token-claims-change`]: { claims: { department: 'sales' } } });
  t.equal((await push(s.port, good)).status, 202);
  const cases: Array<[string, Promise<string> | string, string, Record<string, string>?]> = [
    ['forged (signed by another key)', tx.forged(email, revoke), 'invalid_key'],
    ['replayed', good, 'invalid_request'],
    ['expired (issued an hour ago)', tx.set(email, revoke, { iat: old }), 'invalid_request'],
    ['exp in the past', tx.set(email, revoke, { exp: old }), 'invalid_request'],
    ['wrong audience', tx.set(email, revoke, { aud: 'https://someone-else.test' }), 'invalid_audience'],
    ['wrong issuer', tx.set(email, revoke, { iss: 'https://evil.test' }), 'invalid_issuer'],
    ['no jti', tx.set(email, revoke, { jti: undefined }), 'invalid_request'],
    ['no events', tx.set(email, {}), 'invalid_request'],
    ['unsupported subject format', tx.set({ format: 'phone_number', phone_number: '+1' }, revoke), 'invalid_request'],
    ['no subject', tx.set(undefined, revoke), 'invalid_request'],
    ['unsigned (alg none)', unsigned(email, revoke), 'invalid_key'],
    ['not a JWT', 'hello', 'invalid_request'],
    ['wrong content type', tx.set(email, revoke), 'invalid_request', { type: 'application/json' }],
  ];
  for (const [name, set, err, opts] of cases) {
    const res = await push(s.port, await set, opts);
    t.equal(res.status, 400, `${name}: 400`);
    t.match(res.json(), { err, description: String }, `${name}: ${res.body.trim()}`);
    t.equal(await a.get(), 200, `${name}: nothing changed`);
  }
  t.equal(s.gw.services.identities.version(a.id), 1, 'only the good SET changed the identity');
  t.equal((await push(s.port, await tx.set(email, revoke), { receiver: 'nobody' })).status, 404, 'an unknown receiver');

  await s.gw.writer.flush();
  const decisions = (await (await adminFetch(s, '/admin/decisions?outcome=error&limit=100')).json()) as { decisions: Array<{ reason: string; reasons: string[] }> };
  const refusals = decisions.decisions.filter((d) => d.reason.startsWith('ssf_'));
  t.equal(refusals.length, cases.length + 1, 'every refusal is a decision');
  t.ok(refusals.some((d) => d.reason === 'ssf_invalid_audience' && /aud "https:\/\/someone-else.test"/.test(d.reasons[0] ?? '')));
  const metrics = await (await fetch(`${s.adminUrl}/metrics`)).text();
  t.match(metrics, /gatehouse_identity_events_total\{channel="ssf",result="refused",reason="invalid_key"\} 2/);
  t.match(metrics, /gatehouse_identity_events_total\{channel="ssf",result="accepted",reason="token-claims-change"\} 1/);
});

t.test('the receiver: POST only, and its keys are pinned to the transmitter (no HMAC with the public key)', async (t) => {
  const { s, tx } = await setup(t);
  const res = await request(s.port, { host: 'wiki.test', path: '/.gatehouse/ssf/idp' });
  t.equal(res.status, 405);
  t.equal(res.headers.allow, 'POST');
  const jwks = (await (await fetch(tx.jwksUri)).json()) as { keys: Array<{ x: string }> };
  const { SignJWT } = await import('jose');
  const hmac = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, jti: 'h1', iat: Math.floor(Date.now() / 1000), events: { [`${CAEP}session-revoked`]: {} } })
    .setProtectedHeader({ alg: 'HS256', kid: 'transmitter-key-1' })
    .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
  t.match((await push(s.port, hmac)).json(), { err: 'invalid_key' });
});

function unsigned(sub_id: unknown, events: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'secevent+jwt' })}.${b64({ iss: ISSUER, aud: AUDIENCE, jti: 'none-1', iat: Math.floor(Date.now() / 1000), sub_id, events })}.`;
}
