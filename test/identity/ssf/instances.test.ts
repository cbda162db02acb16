// Two gateways on one PostgreSQL schema, both serving the SSF receiver: a session-revoked SET pushed
// to instance A is enforced by instance B on its next request (polled with a generous bound: the
// machine is shared), and the same SET pushed again to B is a replay (the jti is in the store).
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installAdminApi } from '../../../src/admin/install.js';
import type { Gateway } from '../../../src/gateway.js';
import { loadOrCreateKeySet } from '../../../src/auth/keys.js';
import { mintSessionToken } from '../../../src/auth/session-token.js';
import { installSsf } from '../../../src/identity/ssf/install.js';
import { remoteKeys } from './transmitter.js';
import { adminFetch, request, startStack, startUpstream, type Stack } from '../../helpers/stack.js';
import { eventually, pgUrl, postgresUnavailable, testSchema } from '../../helpers/pg.js';
import { CAEP, push, receiverConfig, startTransmitter, type Transmitter } from './transmitter.js';

const unavailable = await postgresUnavailable();
if (unavailable && !process.env.CI) t.plan(0, `${unavailable}: start it (see .ci/run) or set GATEHOUSE_TEST_POSTGRES`);
else tests();

async function twoInstances(t: Test): Promise<{ a: Stack; b: Stack; tx: Transmitter }> {
  const up = await startUpstream(t);
  const tx = await startTransmitter(t);
  const keysDir = mkdtempSync(join(tmpdir(), 'gh-ssf-keys-'));
  t.teardown(() => rmSync(keysDir, { recursive: true, force: true }));
  const keysFile = join(keysDir, 'session.jwks.json');
  await loadOrCreateKeySet(keysFile);
  const schema = testSchema(t, 'gh_ssf');
  const opts = {
    apps: { wiki: { name: 'wiki', hosts: ['wiki.test'], upstream: up.url, policies: [{ name: 'editors', action: 'allow', include: [{ group: 'wiki-editors' }] }] } },
    extend: async (g: Gateway) => {
      installAdminApi(g);
      await installSsf(g, remoteKeys);
    },
    gateway: {
      store: { postgres: pgUrl({ schema }) },
      session: { cookie: 'gatehouse_session', keys: keysFile, secure_cookie: false },
      ssf_receivers: [receiverConfig(tx.jwksUri)],
    },
  };
  const a = await startStack(t, opts);
  const b = await startStack(t, opts);
  return { a, b, tx };
}

function tests(): void {
  t.test('a session-revoked SET pushed to instance A is enforced by instance B on its next request', async (t) => {
    const { a, b, tx } = await twoInstances(t);
    const minted = await mintSessionToken(a.gw.services.keys, { sub: 'ann-id', email: 'ann@corp.example', groups: ['wiki-editors'], idp: 'corp', amr: ['pwd'] }, 3_600_000);
    const get = (s: Stack) => request(s.port, { host: 'wiki.test', headers: { cookie: `gatehouse_session=${minted.token}` } });
    t.equal((await get(a)).status, 200);
    t.equal((await get(b)).status, 200, 'B has it cached');

    const set = await tx.set({ format: 'email', email: 'ann@corp.example' }, { [`${CAEP}session-revoked`]: {} }, { jti: 'pg-set-1' });
    const pushedAt = Date.now();
    t.equal((await push(a.port, set)).status, 202);
    await eventually(async () => (await get(b)).status === 401, 30_000, 20, 'B refuses the revoked session');
    t.pass(`B refused it ${Date.now() - pushedAt} ms after A accepted the SET`);

    const replay = await push(b.port, set);
    t.equal(replay.status, 400, 'the same SET at B is a replay');
    t.match(replay.json(), { err: 'invalid_request', description: /received before/ });

    const user = (await (await adminFetch(b, '/admin/users/ann@corp.example')).json()) as { history: Array<Record<string, unknown>> };
    t.match(user.history, [{ source: 'ssf', event_id: 'pg-set-1', revoked: { reason: 'ssf session-revoked' } }]);
  });
}
