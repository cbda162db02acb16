// IdentityChanges against a running gateway: a change made through the one entry point decides the
// very next request (a cache hit), for every match kind the channels use.
import t, { type Test } from 'tap';
import net from 'node:net';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { request, startStack, startUpstream, type Stack } from '../helpers/stack.js';
import { liveIdentity, patchState } from '../../src/identity/overlay.js';
import type { Identity } from '../../src/policy/types.js';

const HOUR = 3_600_000;

async function editorsStack(t: Test): Promise<Stack> {
  const up = await startUpstream(t);
  up.server.on('upgrade', (_req, socket: net.Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
  });
  return startStack(t, {
    apps: {
      wiki: {
        name: 'wiki',
        hosts: ['wiki.test'],
        upstream: up.url,
        policies: [
          { name: 'editors', action: 'allow', include: [{ group: 'wiki-editors' }] },
          { name: 'mfa', action: 'allow', include: [{ claim: { name: 'department', value: 'docs' } }] },
        ],
      },
    },
  });
}

async function signIn(s: Stack, claims: Record<string, unknown> = {}, expected = 200) {
  const minted = await mintSessionToken(
    s.gw.services.keys,
    { sub: 'ann-id', email: 'ann@corp.example', name: 'Ann', groups: ['wiki-editors', 'staff'], idp: 'corp', amr: ['pwd'], ...claims },
    HOUR,
  );
  const get = () => request(s.port, { host: 'wiki.test', headers: { cookie: `gatehouse_session=${minted.token}` } });
  if ((await get()).status !== expected) throw new Error('the first request was not decided as expected');
  return { id: minted.jti, token: minted.token, get };
}

t.test('a group replaced by email is decided on at the next request, which is a cache hit', async (t) => {
  const s = await editorsStack(t);
  const ann = await signIn(s);
  t.equal(await s.gw.identityChanges.update({ email: 'ANN@corp.example' }, { groups: { mode: 'replace', values: ['staff'] } }, 'scim', 'evt-1'), 1);
  const res = await ann.get();
  t.equal(res.status, 403, 'wiki-editors removed: denied');
  t.equal(s.gw.services.identities.version(ann.id), 1, 'version 1');
  t.equal(await s.gw.identityChanges.update({ email: 'ann@corp.example' }, { groups: { mode: 'replace', values: ['staff'] } }, 'scim'), 0, 'the same groups again: nothing changed');
  t.equal(s.gw.services.identities.version(ann.id), 1, 'no new version for no change');
  t.equal(await s.gw.identityChanges.update({ email: 'ann@corp.example' }, { claims: { department: 'docs' } }, 'refresh'), 1);
  t.equal((await ann.get()).status, 200, 'allowed again by the claim rule');
  t.equal(s.gw.services.identities.version(ann.id), 2);
});

t.test('merge adds a source’s groups; a later merge from that source replaces its contribution', async (t) => {
  const s = await editorsStack(t);
  const ann = await signIn(s, { groups: ['staff'] }, 403);
  t.equal(await s.gw.identityChanges.update({ sessionId: ann.id }, { groups: { mode: 'merge', values: ['wiki-editors'] } }, 'scim'), 1);
  t.equal((await ann.get()).status, 200, 'SCIM made her an editor');
  t.equal(await s.gw.identityChanges.update({ sessionId: ann.id }, { groups: { mode: 'merge', values: [] } }, 'scim'), 1);
  t.equal((await ann.get()).status, 403, 'SCIM took it back; her IdP groups stay');
});

t.test('revoke by issuer + subject and by session; active:false revokes; nothing matched is []', async (t) => {
  const s = await editorsStack(t);
  const ann = await signIn(s);
  t.same(await s.gw.identityChanges.revoke({ email: 'nobody@corp.example' }, 'admin', 'test'), []);
  t.same(await s.gw.identityChanges.revoke({ issuer: 'https://elsewhere.example', subject: 'ann-id' }, 'ssf', 'test'), [], 'another issuer: not hers');
  t.same(await s.gw.identityChanges.revoke({ issuer: 'gatehouse', subject: 'ann-id' }, 'ssf', 'session-revoked', 'set-1'), [ann.id]);
  const res = await ann.get();
  t.equal(res.status, 401);
  t.match(res.body, /revoked/);
  const rec = await s.gw.store.getSession(ann.id);
  t.equal(rec?.revokedBy, 'ssf');
  t.equal(rec?.revokeReason, 'session-revoked');

  const bob = await signIn(s, { sub: 'bob-id', email: 'bob@corp.example' });
  t.equal(await s.gw.identityChanges.update({ sessionId: bob.id }, { active: false }, 'scim'), 1);
  t.equal((await bob.get()).status, 401, 'deactivated');
  t.equal((await s.gw.store.getSession(bob.id))?.revokeReason, 'deactivated');
  t.same(await s.gw.identityChanges.revoke({ sessionId: bob.id }, 'admin', 'again'), [], 'already revoked: not live');
});

t.test('liveIdentity: claims follow the identity fields; null removes a claim', async (t) => {
  const base: Identity = {
    kind: 'session', sessionId: 's', subject: 'u', groups: ['a'], amr: ['pwd'], issuer: 'gatehouse',
    claims: { sub: 'u', groups: ['a'], department: 'x', amr: ['pwd'] }, issuedAt: 1, expiresAt: 2,
  };
  let state = patchState({ version: 0 }, { groups: { mode: 'replace', values: ['b', 'b'] }, claims: { department: null }, amr: ['pwd', 'mfa'] }, 'ssf');
  state = patchState(state, { groups: { mode: 'merge', values: ['c'] } }, 'scim');
  const live = liveIdentity(base, state);
  t.same(live.groups, ['b', 'c']);
  t.same(live.claims, { sub: 'u', groups: ['b', 'c'], amr: ['pwd', 'mfa'] });
  t.same(live.amr, ['pwd', 'mfa']);
  t.same(base.claims.department, 'x', 'the cached identity is untouched');
  t.same(Object.keys(live), Object.keys(base), 'same members, same order');
});

/** An open WebSocket through the gateway; resolves `closed` with what the gateway sent after the 101. */
async function openSocket(t: Test, s: Stack, token: string) {
  const sock = net.connect(s.port, '127.0.0.1');
  t.teardown(() => sock.destroy());
  sock.on('error', () => undefined);
  let buf = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
  const closed = new Promise<Buffer>((resolve) => sock.on('close', () => resolve(buf.subarray(buf.indexOf('\r\n\r\n') + 4))));
  sock.write(`GET /ws HTTP/1.1\r\nHost: wiki.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  await new Promise<void>((resolve) => sock.once('data', () => resolve()));
  t.match(buf.toString(), /^HTTP\/1\.1 101/);
  return { closed };
}

t.test('an open WebSocket no longer allowed after a change is closed with 4403 at once; one still allowed stays', async (t) => {
  const s = await editorsStack(t);
  const ann = await signIn(s);
  const bob = await signIn(s, { sub: 'bob-id', email: 'bob@corp.example' });
  const annWs = await openSocket(t, s, ann.token);
  let bobClosed = false;
  void (await openSocket(t, s, bob.token)).closed.then(() => (bobClosed = true));
  await s.gw.identityChanges.update({ sessionId: bob.id }, { claims: { department: 'sales' } }, 'scim');
  await s.gw.identityChanges.update({ email: 'ann@corp.example' }, { groups: { mode: 'replace', values: ['staff'] } }, 'scim');
  const frame = await annWs.closed;
  t.equal(frame[0], 0x88, 'a close frame');
  t.equal(frame.readUInt16BE(2), 4403, 'code 4403');
  t.notOk(bobClosed, 'a change that still allows leaves the connection open');
});
