// The PostgreSQL store against the machine's real server (no mocks): the shared conformance suite,
// then what only a shared store has — racing migrations, the revocation feed between instances,
// outages (through a TCP proxy the test cuts), dead connections and concurrent writers.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { silentLogger } from '../../../src/log.js';
import { openStore } from '../../../src/store/open.js';
import { MAX_INDEXED_CHARS } from '../../../src/store/postgres/batch.js';
import { POSTGRES_MIGRATIONS } from '../../../src/store/postgres/migrations.js';
import { connectionFromUrl, openPostgresStore, type PostgresStore, type PostgresStoreOptions } from '../../../src/store/postgres/store.js';
import { revocationNotices } from '../../../src/store/postgres/notify.js';
import type { RevocationState } from '../../../src/store/types.js';
import { RecordWriter } from '../../../src/audit/writer.js';
import { eventually, pgExec, pgUrl, startTcpProxy, testSchema } from '../../helpers/pg.js';
import { needsPostgres } from '../../helpers/machine.js';
import { storeConformance } from '../conformance.js';
import { HOUR, T0, decision, emptyBatch, session, within } from '../records.js';

if (await needsPostgres(t, 'the PostgreSQL store tests (conformance, revocation feed, outages)')) {
  t.test('conformance: postgres', async (t) => {
    // Each case opens a store of its own in a schema of its own (migrations and all): they wait on
    // PostgreSQL far more than they compute, so four run at once.
    t.jobs = 4;
    storeConformance(t, () => openPostgresStore(pgUrl({ schema: testSchema(t) })));
  });
  storeTests();
}

async function open(t: Test, url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const store = await openPostgresStore(url, { revocationPollMs: 200, maxBackoffMs: 200, ...opts });
  t.teardown(() => store.close());
  return store;
}

/** Collects what a store's revocation feed reports. */
function feed(store: PostgresStore) {
  const updates: RevocationState[] = [];
  store.watchRevocations((u) => updates.push(u));
  return {
    updates,
    ids: () => new Set(updates.flatMap((u) => u.sessionIds)),
    cutoff: (app: string) => updates.reduce<number | undefined>((max, u) => Math.max(max ?? 0, u.appCutoffs[app] ?? 0) || max, undefined),
  };
}

function storeTests(): void {
  t.test('connection URL: schema, password kept out of the target, TLS options', async (t) => {
    const plain = connectionFromUrl('postgres://gate:s3cret@db.internal:6543/audit');
    t.equal(plain.schema, 'public');
    t.equal(plain.target, 'postgres://gate@db.internal:6543/audit');
    t.notOk(plain.config.ssl);
    const tls = connectionFromUrl('postgresql://gate:pw@db/audit?schema=gh_prod&sslmode=require&application_name=gw', {
      ca: '-----BEGIN CERTIFICATE-----\n…',
      rejectUnauthorized: true,
    });
    t.equal(tls.schema, 'gh_prod');
    t.equal(tls.target, 'postgresql://gate@db/audit?application_name=gw&schema=gh_prod');
    t.same(tls.config.ssl, { rejectUnauthorized: true, ca: '-----BEGIN CERTIFICATE-----\n…' });
    t.equal(tls.config.connectionString, 'postgresql://gate:pw@db/audit?application_name=gw', 'sslmode replaced by postgres_tls, schema removed');
    t.throws(() => connectionFromUrl('postgres://db/x?schema=bad-name;drop'), { message: /schema "bad-name;drop" must be a plain identifier/ });
    await t.rejects(openPostgresStore(pgUrl({ port: 1 }), { timeouts: { connectMs: 1000 } }), {
      message: /cannot open PostgreSQL store postgres:\/\/.*127\.0\.0\.1:1\/.*ECONNREFUSED/,
    });
  });

  t.test('openStore loads the PostgreSQL store when store.postgres is set', async (t) => {
    const logged: unknown[] = [];
    const logger = Object.assign(Object.create(silentLogger) as typeof silentLogger, { info: (o: unknown) => logged.push(o) });
    const schema = testSchema(t);
    const store = await openStore({ postgres: pgUrl({ schema }), queueLimit: 1000 }, logger);
    t.teardown(() => store.close());
    t.equal(store.kind, 'postgres');
    await store.ping();
    t.match(logged, [{ store: 'postgres', schema, target: new RegExp(`schema=${schema}`) }]);
  });

  t.test('migrations: instances starting at once apply each migration once', async (t) => {
    const schema = testSchema(t);
    const url = pgUrl({ schema });
    const stores = await Promise.all(Array.from({ length: 4 }, () => open(t, url)));
    t.equal(stores.length, 4, 'every instance opened');
    const rows = await pgExec<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
    t.same(rows.map((r) => r.version), POSTGRES_MIGRATIONS.map((m) => m.version));
    await stores[0]?.writeBatch({ ...emptyBatch(), sessions: [session('s1')] });
    const again = await open(t, url);
    t.equal((await again.getSession('s1'))?.email, 'ada@example.com', 'reopening keeps the data');
    await pgExec(`INSERT INTO "${schema}".schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)`);
    await t.rejects(openPostgresStore(url), { message: /has schema version 99, newer than this Gatehouse knows/ });
  });

  t.test('revocations reach the other instances within a second, and only on their schema', async (t) => {
    const schema = testSchema(t);
    const a = await open(t, pgUrl({ schema }));
    // No polling to speak of: whatever b hears within the test, it hears through NOTIFY.
    const b = await open(t, pgUrl({ schema }), { revocationPollMs: 60_000 });
    const other = await open(t, pgUrl({ schema: testSchema(t) }));
    const longIds = Array.from({ length: 300 }, (_, i) => `${String(i).padStart(4, '0')}-${'f'.repeat(60)}`);
    await a.writeBatch({ ...emptyBatch(), sessions: [session('s1'), session('s2'), ...longIds.map((id) => session(id, { email: 'bob@example.com' }))] });
    await other.writeBatch({ ...emptyBatch(), sessions: [session('elsewhere')] });
    const seen = feed(b);
    await eventually(() => b.revocationFeedUp && seen.updates.length > 0, 30_000, 10, 'feed up with a first snapshot');

    let started = performance.now();
    t.equal(await a.revokeSession('s1', 'admin', 'stolen', T0), true);
    await eventually(() => seen.ids().has('s1'), 30_000, 2, 's1 announced');
    t.comment(`session revocation heard after ${(performance.now() - started).toFixed(1)} ms`);

    started = performance.now();
    await a.revokeApp('wiki', T0 + HOUR);
    await eventually(() => seen.cutoff('wiki') === T0 + HOUR, 30_000, 2, 'app cutoff announced');
    await a.revokeApp('wiki', T0);
    await eventually(() => seen.updates.at(-1)?.appCutoffs.wiki === T0 + HOUR, 30_000, 2, 'an earlier cutoff announces the kept one');

    // 300 ids do not fit one NOTIFY payload: they arrive in several.
    t.same((await a.revokeUser('BOB@example.com', 'admin', 'offboarded', T0)).length, 300);
    await eventually(() => longIds.every((id) => seen.ids().has(id)), 30_000, 5, 'every id of a large revokeUser');
    t.ok(revocationNotices(schema, { sessionIds: longIds }).length > 1, 'sent as several notices');

    // An id too large for a notice is announced as "resync": the listeners reload the state.
    t.same(revocationNotices(schema, { sessionIds: [`h${'x'.repeat(9000)}`] }), [JSON.stringify({ schema, resync: true })]);
    await pgExec(`UPDATE "${schema}".sessions SET revoked_at = 1 WHERE id = 's2'`);
    await pgExec(`SELECT pg_notify('gatehouse_revocations', $1)`, [JSON.stringify({ schema, resync: true })]);
    await eventually(() => seen.ids().has('s2'), 30_000, 5, 'state reloaded on a resync notice');

    // A batch revocation (a SCIM deactivation's 100 sessions) is one notice, heard as one update.
    const batch = Array.from({ length: 100 }, (_, i) => `batch-${i}`);
    await a.writeBatch({ ...emptyBatch(), sessions: batch.map((id) => session(id, { email: 'cara@example.com' })) });
    const before = seen.updates.length;
    t.same((await a.revokeSessions(batch, 'scim', 'deactivated', T0)).length, 100);
    await eventually(() => batch.every((id) => seen.ids().has(id)), 30_000, 2, 'every id of a batch revocation');
    t.equal(seen.updates.slice(before).filter((u) => u.sessionIds.some((id) => id.startsWith('batch-'))).length, 1, 'in one notification');

    await other.revokeSession('elsewhere', 'admin', 'x', T0);
    await new Promise((r) => setTimeout(r, 300));
    t.notOk(seen.ids().has('elsewhere'), 'another schema’s revocations are not ours');
    t.notOk(b.revocationFeedUp && (await b.getSession('elsewhere')), 'nor its sessions');
  });

  t.test('outage: queued records wait, revocations reject, the feed catches up on reconnect', async (t) => {
    const schema = testSchema(t);
    const proxy = await startTcpProxy(t);
    const direct = await open(t, pgUrl({ schema }));
    const store = await open(t, pgUrl({ schema, port: proxy.port }));
    await store.writeBatch({ ...emptyBatch(), sessions: [session('before')] });
    const seen = feed(store);
    await eventually(() => store.revocationFeedUp, 30_000, 10, 'feed up');
    const writer = new RecordWriter(store, { queueLimit: 100, logger: silentLogger, flushIntervalMs: 20, maxBackoffMs: 200 });
    t.teardown(() => writer.close());

    proxy.cut();
    let started = performance.now();
    await t.rejects(store.ping(), { message: new RegExp(`^PostgreSQL postgres://[^:]*@[^/]*:${proxy.port}/.*schema=${schema}: `) }, 'ping names the store');
    await t.rejects(store.revokeSession('before', 'admin', 'x', T0), 'a revocation is never a false success');
    t.comment(`both failed after ${Math.round(performance.now() - started)} ms`);
    t.equal((await direct.getSession('before'))?.revokedAt, null, 'and nothing was revoked');

    writer.session(session('during-1'));
    writer.decision(decision({ requestId: 'during-outage' }));
    await within(writer, 'flush-error');
    writer.session(session('during-2'));
    t.match(writer.stats(), { healthy: false, queued: 3 });
    // Revoked elsewhere while this instance cannot hear it.
    await direct.writeBatch({ ...emptyBatch(), sessions: [session('revoked-meanwhile')] });
    await direct.revokeSession('revoked-meanwhile', 'admin', 'x', T0);
    await new Promise((r) => setTimeout(r, 300));
    t.notOk(seen.ids().has('revoked-meanwhile'));
    t.notOk(store.revocationFeedUp);

    started = performance.now();
    proxy.restore();
    await within(writer, 'recovered', 5000);
    t.match(writer.stats(), { healthy: true, queued: 0 });
    await eventually(() => seen.ids().has('revoked-meanwhile'), 30_000, 10, 'snapshot after reconnect');
    t.comment(`writer and feed recovered ${Math.round(performance.now() - started)} ms after the proxy came back`);
    t.ok(await direct.getSession('during-1'));
    t.ok(await direct.getSession('during-2'));
    t.equal((await direct.listDecisions({ limit: 10, requestId: 'during-outage' })).items.length, 1);
    await store.ping();
    t.equal(await store.revokeSession('during-1', 'admin', 'x', T0), true);
  });

  t.test('connections killed by the server: no crash, replaced on next use', async (t) => {
    const app = `gh_kill_${process.pid}_${Date.now()}`;
    const store = await open(t, pgUrl({ schema: testSchema(t), params: { application_name: app } }));
    const seen = feed(store);
    await eventually(() => store.revocationFeedUp, 30_000, 10, 'feed up');
    await Promise.all([store.ping(), store.getSession('x'), store.listUsers({ now: T0, limit: 10 })]);
    const killed = await pgExec('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app]);
    t.ok(killed.length >= 2, `terminated ${killed.length} connections (pool and feed)`);
    await new Promise((r) => setTimeout(r, 100));
    await eventually(() => store.ping().then(() => true), 30_000, 20, 'ping after termination');
    const before = seen.updates.length;
    await eventually(() => store.revocationFeedUp && seen.updates.length > before, 30_000, 20, 'feed reconnected with a snapshot');
    t.pass('still alive');
  });

  t.test('values PostgreSQL refuses (NUL, lone surrogates, unindexable lengths, fractions) never poison a batch', async (t) => {
    const store = await open(t, pgUrl({ schema: testSchema(t) }));
    const odd = session('odd\0id', {
      name: 'nul\0name',
      claims: { weird: 'a\u0000b', lone: '\ud800x', pair: '😀', 'key\0': 1, esc: '\\u0000 stays text' },
      network: { loginIp: '192.0.2.1', loginUserAgent: 'ua\0', loginCountry: null, lastIp: null, lastUserAgent: null },
    });
    await store.writeBatch({ sessions: [odd], activity: [], decisions: [decision({ path: '/a\0b', reasons: ['r\0'] })] });
    const got = await store.getSession('odd\0id');
    t.equal(got?.id, 'odd\uFFFDid');
    t.equal(got?.name, 'nul\uFFFDname');
    t.same(got?.claims, { weird: 'a\uFFFDb', lone: '\uFFFDx', pair: '😀', 'key\uFFFD': 1, esc: '\\u0000 stays text' });
    t.equal((await store.listDecisions({ limit: 1 })).items[0]?.path, '/a\uFFFDb');
    t.equal(await store.revokeSession('odd\0id', 'admin', 'x\0', T0), true);
    // Values too long for a B-tree index entry (~2.7 kB): the session is left out, others are cut.
    const long = (n: number) => randomBytes(n).toString('hex');
    const [hugeId, hugeSub, hugeReq] = [long(3000), long(3000), long(3000)];
    await store.writeBatch({
      sessions: [session(hugeId), session('long-sub', { userId: hugeSub, email: `${long(2000)}@example.com` })],
      activity: [{ sessionId: hugeId, app: 'wiki', count: 1, firstSeenAt: T0, lastSeenAt: T0, lastPath: '/' }],
      decisions: [decision({ requestId: hugeReq, sessionId: hugeId })],
    });
    t.equal(await store.getSession(hugeId), null);
    t.equal((await store.getSession('long-sub'))?.userId, hugeSub.slice(0, MAX_INDEXED_CHARS));
    t.equal((await store.listDecisions({ limit: 1, requestId: hugeReq.slice(0, MAX_INDEXED_CHARS) })).items.length, 1);
    // A fractional JWT iat (legal) makes a fractional millisecond time: truncated, not refused.
    await store.writeBatch({ ...emptyBatch(), sessions: [session('frac', { issuedAt: T0 + 0.4, expiresAt: T0 + HOUR + 0.9 })] });
    t.match(await store.getSession('frac'), { issuedAt: T0, expiresAt: T0 + HOUR });
  });

  t.test('two instances writing the same sessions at once: no deadlock, no failed batch', async (t) => {
    const schema = testSchema(t);
    const a = await open(t, pgUrl({ schema }));
    const b = await open(t, pgUrl({ schema }));
    const ids = Array.from({ length: 60 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    const batch = (order: string[], round: number) => ({
      sessions: order.map((id) => session(id, { lastSeenAt: T0 + round })),
      activity: order.map((id) => ({ sessionId: id, app: 'wiki', count: 1, firstSeenAt: T0 + round, lastSeenAt: T0 + round, lastPath: '/' })),
      decisions: [],
    });
    for (let round = 1; round <= 8; round++) {
      await Promise.all([a.writeBatch(batch(ids, round)), b.writeBatch(batch([...ids].reverse(), round)), a.revokeUser('nobody@example.com', 'x', 'y', T0)]);
    }
    const activity = await a.sessionActivity('c007');
    t.equal(activity[0]?.count, 16, 'every request counted once');
    t.equal((await a.getSession('c059'))?.lastSeenAt, T0 + 8);
    t.equal((await a.listSessions({ limit: 1000 })).items.length, 60, 'each session inserted once');
  });
}
