// Refresh across instances, against a real provider (oidc-provider) and two gateways on one
// PostgreSQL schema: Ann's session is in use on both; a group is removed in the provider's account
// store; one instance refreshes her identity (the lease gives the session to one of them: the
// metrics say which); the OTHER instance's next request is decided on the new groups — it learns
// the new identity version through the store's notification, with no refresh of its own.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installAdminApi } from '../../src/admin/install.js';
import { loadOrCreateKeySet } from '../../src/auth/keys.js';
import type { Gateway } from '../../src/gateway.js';
import { installLogin } from '../../src/login/install.js';
import { needsPostgres } from '../helpers/machine.js';
import { eventually, pgUrl, testSchema } from '../helpers/pg.js';
import { adminFetch, request, startStack, startUpstream, type Stack } from '../helpers/stack.js';
import { Browser } from '../login/helpers/browser.js';
import { startOidc, walkIdp } from '../login/helpers/flows.js';
import { startIdp, type IdpAccount } from '../login/helpers/idp.js';

if (await needsPostgres(t, 'the refresh-across-instances test (two instances on PostgreSQL)')) {
  t.test('a refresh on one instance: the other decides on the new groups on its next request', async (t) => {
    const upstream = await startUpstream(t);
    const keysDir = mkdtempSync(join(tmpdir(), 'gh-refresh-keys-'));
    t.teardown(() => rmSync(keysDir, { recursive: true, force: true }));
    const keysFile = join(keysDir, 'session.jwks.json');
    await loadOrCreateKeySet(keysFile);
    const accounts: Record<string, IdpAccount> = { ann: { email: 'ann@corp.example', email_verified: true, groups: ['staff', 'wiki-editors'] } };
    const idp = await startIdp(t, { redirectUris: ['http://wiki.test/.gatehouse/callback'], accounts, refreshTokens: true });
    const schema = testSchema(t, 'gh_refresh');
    const provider = { id: 'corp', type: 'oidc', issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret, scopes: ['openid', 'email', 'profile', 'groups'] };
    // One test directory, one gateway.yaml: both instances run the same config (as in production).
    const stackOf = () =>
      startStack(t, {
        apps: { wiki: { name: 'wiki', hosts: ['wiki.test'], upstream: upstream.url, policies: [{ name: 'editors', action: 'allow', include: [{ group: 'wiki-editors' }] }] } },
        gateway: {
          store: { postgres: pgUrl({ schema }) },
          session: { cookie: 'gatehouse_session', keys: keysFile, secure_cookie: false },
          identity_providers: [{ ...provider, refresh: '1s' }],
        },
        extend: async (g: Gateway) => {
          await installLogin(g);
          installAdminApi(g);
        },
      });
    const a = await stackOf();
    const b = await stackOf();
    const get = (s: Stack, token: string) => request(s.port, { host: 'wiki.test', headers: { cookie: `gatehouse_session=${token}` } });

    const br = new Browser({ 'wiki.test': a.port });
    await br.request(await walkIdp(br, await startOidc(br, 'http://wiki.test/'), 'ann'));
    const token = br.cookie('gatehouse_session', 'wiki.test') as string;
    t.equal((await get(a, token)).status, 200, 'an editor on A');
    t.equal((await get(b, token)).status, 200, 'and on B (its identity cached there)');

    (accounts.ann as IdpAccount).groups = ['staff'];
    const changedOn = async (s: Stack) => /gatehouse_identity_refreshes_total\{idp="corp",outcome="changed"\} [1-9]/.test(await (await adminFetch(s, '/metrics')).text());
    let refreshedBy: Stack | null = null;
    // Used on both (refresh runs for sessions in use) until one instance has refreshed the new groups.
    await eventually(
      async () => {
        await get(a, token);
        await get(b, token);
        refreshedBy = (await changedOn(a)) ? a : (await changedOn(b)) ? b : null;
        return refreshedBy !== null;
      },
      30_000,
      100,
      'one instance refreshed Ann’s identity',
    );
    const other = refreshedBy === a ? b : a;
    t.notOk(await changedOn(other), 'only one instance refreshed it (the lease)');
    t.comment(`refreshed by instance ${refreshedBy === a ? 'A' : 'B'}`);
    // The other one never refreshed it: the new version reaches it through the store's notification.
    await eventually(async () => (await get(other, token)).status === 403, 10_000, 10, 'the other instance denies on the new groups');
    const denied = await get(other, token);
    t.equal(denied.status, 403, 'the other instance decides on the groups the refresh wrote');
    t.notOk(await changedOn(other), 'without a refresh of its own');

    await other.gw.writer.flush();
    const decisions = (await (await adminFetch(other, '/admin/decisions?email=ann%40corp.example&outcome=deny')).json()) as { decisions: Array<Record<string, unknown>> };
    t.ok(
      decisions.decisions.some((d) => d.identity_version === 1),
      'its denial is recorded with the identity version the refresh wrote',
    );
    const user = (await (await adminFetch(other, '/admin/users/ann@corp.example')).json()) as { history: Array<Record<string, unknown>> };
    t.match(
      user.history.find((h) => h.source === 'refresh'),
      { source: 'refresh', version: 1, groups: { added: [], removed: ['wiki-editors'] } },
      'one refresh, in the shared history',
    );
  });
}
