// Two gateways on one PostgreSQL schema: an identity change or a revocation made through one
// instance's IdentityChanges decides the other's next request (a cache hit there) within a second
// (polled with a generous bound: the machine is shared), and both record it in the history.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installAdminApi } from '../../src/admin/install.js';
import type { Gateway } from '../../src/gateway.js';
import { loadOrCreateKeySet } from '../../src/auth/keys.js';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { adminFetch, request, startStack, startUpstream, type Stack } from '../helpers/stack.js';
import { eventually, pgUrl, testSchema } from '../helpers/pg.js';
import { needsPostgres } from '../helpers/machine.js';

if (await needsPostgres(t, 'the live-identity propagation test (two instances on one PostgreSQL)')) tests();

async function twoInstances(t: Test): Promise<{ a: Stack; b: Stack }> {
  const up = await startUpstream(t);
  // Outside the test dir, which each startStack() re-creates (both instances read the same config).
  const keysDir = mkdtempSync(join(tmpdir(), 'gh-live-keys-'));
  t.teardown(() => rmSync(keysDir, { recursive: true, force: true }));
  const keysFile = join(keysDir, 'session.jwks.json');
  await loadOrCreateKeySet(keysFile);
  const schema = testSchema(t, 'gh_live');
  const opts = {
    apps: { wiki: { name: 'wiki', hosts: ['wiki.test'], upstream: up.url, policies: [{ name: 'editors', action: 'allow', include: [{ group: 'wiki-editors' }] }] } },
    extend: (g: Gateway) => installAdminApi(g),
    gateway: { store: { postgres: pgUrl({ schema }) }, session: { cookie: 'gatehouse_session', keys: keysFile, secure_cookie: false } },
  };
  const a = await startStack(t, opts);
  const b = await startStack(t, opts);
  return { a, b };
}

function tests(): void {
  t.test('a group change and a revocation through instance A reach instance B on its next request', async (t) => {
    const { a, b } = await twoInstances(t);
    const minted = await mintSessionToken(a.gw.services.keys, { sub: 'ann-id', email: 'ann@corp.example', groups: ['wiki-editors'], idp: 'corp', amr: ['pwd'] }, 3_600_000);
    const get = (s: Stack) => request(s.port, { host: 'wiki.test', headers: { cookie: `gatehouse_session=${minted.token}` } });
    t.equal((await get(a)).status, 200);
    const fromB = await get(b);
    t.equal(fromB.status, 200, 'B has it cached too');

    const changedAt = Date.now();
    t.equal(await a.gw.identityChanges.update({ email: 'ann@corp.example' }, { groups: { mode: 'replace', values: [] } }, 'scim', 'scim-req-1'), 1);
    await eventually(async () => (await get(b)).status === 403, 30_000, 20, 'B denies on the new identity');
    t.pass(`B decided on version 1 after ${Date.now() - changedAt} ms`);
    t.equal(b.gw.services.identities.version(minted.jti), 1);

    await a.gw.writer.flush();
    await b.gw.writer.flush();
    const res = await adminFetch(b, `/admin/sessions/${minted.jti}`);
    const body = (await res.json()) as { identity_version: number; identity_history: Array<Record<string, unknown>>; decisions: Array<{ identity_version: number | null; outcome: string }> };
    t.equal(body.identity_version, 1);
    t.match(body.identity_history, [{ source: 'scim', version: 1, event_id: 'scim-req-1', groups: { added: [], removed: ['wiki-editors'] } }]);
    t.ok(body.decisions.some((d) => d.outcome === 'deny' && d.identity_version === 1), 'the denial records the version it was decided on');

    await b.gw.identityChanges.revoke({ sessionId: minted.jti }, 'backchannel', 'idp_logout', 'jti-1');
    await eventually(async () => (await get(a)).status === 401, 30_000, 20, 'A refuses the revoked session');
    const user = (await (await adminFetch(a, '/admin/users/ann@corp.example')).json()) as { history: Array<Record<string, unknown>> };
    t.match(user.history, [{ source: 'backchannel', event_id: 'jti-1', revoked: { reason: 'idp_logout' } }, { source: 'scim', version: 1 }]);
  });
}
