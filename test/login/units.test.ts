// The login module's pure parts, alone: throttle, claim mapping, users file parsing, the take-once
// state, CSRF tokens, the form reader.
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import t from 'tap';
import { IP_FACTOR, LoginThrottle } from '../../src/login/throttle.js';
import { lookup, mapOidcClaims, EXTRA_CLAIMS_BUDGET } from '../../src/login/claims.js';
import { parseUsers } from '../../src/login/users-file.js';
import { MemorySignInState } from '../../src/login/memory-state.js';
import { Csrf, sameOrigin } from '../../src/login/csrf.js';
import { readForm } from '../../src/login/form-body.js';
import { esc } from '../../src/login/html.js';
import type { RequestContext } from '../../src/context.js';
import { hashSecret } from '../../src/auth/password.js';
import { FAST } from './helpers/users.js';

t.test('throttle: N failures in the window lock the user; addresses get more room', async (t) => {
  let now = 0;
  const th = new LoginThrottle({ lockoutThreshold: 3, lockoutWindowMs: 60_000, lockoutDurationMs: 300_000 }, new MemorySignInState(), () => now);
  t.equal(await th.fail('A@x', '10.0.0.1'), null);
  now = 70_000;
  t.equal(await th.fail('a@x', '10.0.0.1'), null, 'the first failure left the window');
  t.equal(await th.fail('a@x', '10.0.0.1'), null);
  const lock = await th.fail('a@x', '10.0.0.1');
  t.match(lock, { kind: 'user', key: 'a@x', until: 370_000, failures: 3 });
  t.match(await th.locked('a@x', '10.0.0.9'), { kind: 'user' }, 'locked from any address');
  t.same((await th.lockouts()).map((l) => l.kind), ['user']);
  now = 370_001;
  t.equal(await th.locked('a@x', '10.0.0.1'), null, 'the lock ends');
  t.equal(await th.fail('a@x', '10.0.0.1'), null, 'counting starts afresh');

  // One address trying many users: locked after IP_FACTOR × threshold.
  let ipLock = null;
  for (let i = 0; i < 3 * IP_FACTOR && !ipLock; i++) {
    const l = await th.fail(`user${i}@x`, '10.0.0.66');
    if (l?.kind === 'ip') ipLock = l;
  }
  t.match(ipLock, { kind: 'ip', key: '10.0.0.66' });
  t.match(await th.locked('someone@else', '10.0.0.66'), { kind: 'ip' });
  t.equal(await th.unlock('ip', '10.0.0.66'), true);
  t.equal(await th.unlock('ip', '10.0.0.66'), false);
  t.equal(await th.locked('someone@else', '10.0.0.66'), null);

  await th.fail('s@x', '1.1.1.1');
  await th.succeed('S@x');
  await th.fail('s@x', '1.1.1.1');
  t.equal(await th.fail('s@x', '1.1.1.1'), null, 'a success resets the user count');
});

t.test('OIDC claims → session identity', async (t) => {
  const p = { id: 'corp', groupsClaim: 'groups' };
  t.match(mapOidcClaims({ sub: 'u1', email: 'U@X.io', name: 'U', groups: ['a', 'a', 'b'], amr: ['pwd', 'mfa'] }, null, p), {
    ok: true,
    claims: { sub: 'u1', email: 'u@x.io', name: 'U', groups: ['a', 'b'], idp: 'corp', amr: ['pwd', 'mfa'] },
  });
  const r = mapOidcClaims({ sub: 'u1' }, { sub: 'u1', email: 'u@x.io', email_verified: true, groups: 'solo', given_name: 'Ann', family_name: 'Lee', department: 'R&D' }, p);
  t.match(r, { ok: true, claims: { email: 'u@x.io', groups: ['solo'], name: 'Ann Lee', amr: ['oidc'], department: 'R&D' } }, 'userinfo fills in');
  t.same(mapOidcClaims({ sub: 'u1', email: 'u@x.io', email_verified: false }, null, p), { ok: false, reason: 'email_not_verified' });
  t.same(mapOidcClaims({ email: 'u@x.io' }, null, p), { ok: false, reason: 'no_subject' });
  const kc = mapOidcClaims({ sub: 'k', realm_access: { roles: ['admin'] } }, null, { id: 'kc', groupsClaim: 'realm_access.roles' });
  t.match(kc, { ok: true, claims: { groups: ['admin'] } }, 'a dotted groups claim');
  t.equal(lookup({ 'a.b': 1, a: { b: 2 } }, 'a.b'), 1, 'a literal dotted name wins');
  const big = mapOidcClaims({ sub: 'x', blob: 'y'.repeat(EXTRA_CLAIMS_BUDGET), small: 1, nonce: 'n', iss: 'i' }, null, p);
  t.ok(big.ok && !('blob' in big.claims) && big.claims.small === 1 && !('nonce' in big.claims), 'extras are bounded; protocol claims dropped');
});

t.test('users file: entries validated one by one', async (t) => {
  const hash = await hashSecret('pw', FAST);
  const { users, problems } = parseUsers(`users:
  - {email: Ann@X.io, name: Ann, groups: [staff], password_hash: '${hash}', totp_secret: 'JBSW Y3DP EHPK 3PXP JBSW Y3DP'}
  - {email: ann@x.io, password_hash: '${hash}'}
  - {email: nope, password_hash: '${hash}'}
  - {email: b@x.io, password_hash: plain-text}
  - {email: c@x.io, password_hash: '${hash}', totp_secret: '!!'}
  - {email: d@x.io, password_hash: '${hash}', role: admin}
  - {email: e@x.io, password_hash: '${hash}', groups: staff}
`);
  t.same([...users.keys()], ['ann@x.io']);
  t.equal(users.get('ann@x.io')?.totpSecret, 'JBSWY3DPEHPK3PXPJBSWY3DP');
  t.equal(problems.length, 6);
  t.match(problems.join('\n'), /duplicate email[\s\S]*email must be an address[\s\S]*hash-password[\s\S]*base32[\s\S]*unknown key "role"[\s\S]*groups must be a list/);
  t.same(parseUsers('').users.size, 0);
  t.same(parseUsers('users: nope').problems, ['"users" must be a list']);
  t.throws(() => parseUsers('users: [ {'), 'bad YAML throws (the caller keeps the last good users)');
});

t.test('in-memory sign-in state: taken once, expires; marks only move forward', async (t) => {
  const s = new MemorySignInState();
  await s.putOnce('a', 'v1', 2_000);
  t.equal(await s.takeOnce('a', 1_000), 'v1');
  t.equal(await s.takeOnce('a', 1_000), null, 'single use');
  await s.putOnce('b', 'v2', 2_000);
  t.equal(await s.takeOnce('b', 2_000), null, 'expired');
  t.ok(await s.advance('m', 5, 10_000, 1_000));
  t.notOk(await s.advance('m', 5, 10_000, 1_000), 'the same value again');
  t.notOk(await s.advance('m', 4, 10_000, 1_000), 'an older one');
  t.ok(await s.advance('m', 4, 20_000, 10_000), 'an expired mark is gone');
});

t.test('CSRF tokens are bound to the cookie', async (t) => {
  const csrf = new Csrf();
  const ctx = (cookie?: string, extra: Record<string, string> = {}) =>
    ({ req: { headers: { host: 'app.test', ...(cookie ? { cookie } : {}), ...extra } }, config: { session: { secureCookie: true } } }) as unknown as RequestContext;
  const first = csrf.issue(ctx());
  t.ok(first.cookie);
  const value = /gatehouse_csrf=([^;]+)/.exec(first.cookie as string)?.[1] as string;
  const withCookie = ctx(`gatehouse_csrf=${value}`);
  const again = csrf.issue(withCookie);
  t.equal(again.cookie, undefined, 'the existing cookie is kept');
  t.equal(again.token, first.token);
  t.ok(csrf.verify(withCookie, first.token));
  t.notOk(csrf.verify(withCookie, undefined));
  t.notOk(csrf.verify(withCookie, first.token.slice(1)));
  t.notOk(csrf.verify(ctx(`gatehouse_csrf=${'x'.repeat(43)}`), first.token), 'another cookie');
  t.notOk(csrf.verify(ctx(), first.token), 'no cookie');
  t.notOk(new Csrf().verify(withCookie, first.token), 'another random key');
  const secret = Buffer.from('signing-key-material');
  const token = new Csrf(secret).issue(withCookie).token;
  t.ok(new Csrf(secret).verify(withCookie, token), 'workers sharing the signing key accept each other’s forms');
  t.ok(sameOrigin(ctx(undefined, { origin: 'http://app.test' })));
  t.notOk(sameOrigin(ctx(undefined, { origin: 'https://evil.test' })));
  t.notOk(sameOrigin(ctx(undefined, { origin: 'null' })));
  t.ok(sameOrigin(ctx()), 'no Origin: left to the token');
});

t.test('form reader: type and size checked', async (t) => {
  const req = (type: string, body: string, length?: number) => {
    const s = new PassThrough() as unknown as IncomingMessage;
    (s as unknown as { headers: Record<string, string> }).headers = { 'content-type': type, ...(length !== undefined ? { 'content-length': String(length) } : {}) };
    (s as unknown as PassThrough).end(body);
    return s;
  };
  const ok = await readForm(req('application/x-www-form-urlencoded; charset=utf-8', 'a=1&b=%20x'));
  t.ok(ok.ok && ok.fields.get('b') === ' x');
  t.same(await readForm(req('text/plain', 'a=1')), { ok: false, status: 415 });
  t.same(await readForm(req('application/x-www-form-urlencoded', 'a=1', 100_000)), { ok: false, status: 413 });
  t.same(await readForm(req('application/x-www-form-urlencoded', 'a='.padEnd(9000, 'x')), 8192), { ok: false, status: 413 });
});

t.test('HTML escaping', async (t) => {
  t.equal(esc(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  t.equal(esc(undefined), '');
});
