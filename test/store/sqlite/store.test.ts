import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { silentLogger } from '../../../src/log.js';
import { SQLITE_MIGRATIONS } from '../../../src/store/sqlite/migrations.js';
import { DEFAULT_BUSY_TIMEOUT_MS, openSqliteStore, StoreCorruptError } from '../../../src/store/sqlite/store.js';
import { RecordWriter } from '../../../src/audit/writer.js';
import { storeConformance } from '../conformance.js';
import { T0, decision, emptyBatch, session, within } from '../records.js';
import { recordTimers } from '../../helpers/timers.js';

let n = 0;
t.test('conformance: sqlite', async (t) => {
  const dir = t.testdir();
  storeConformance(t, () => openSqliteStore(join(dir, `store-${++n}.db`)));
});

async function openIn(t: Test, name = 'gatehouse.db', opts?: { busyTimeoutMs?: number }) {
  const file = join(t.testdir(), name);
  const store = await openSqliteStore(file, opts);
  t.teardown(() => store.close());
  return { file, store };
}

t.test('pragmas: WAL, synchronous=NORMAL, foreign keys, short busy timeout', async (t) => {
  const { store } = await openIn(t, 'nested/dirs/made/gatehouse.db');
  t.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(store.db.pragma('synchronous', { simple: true }), 1);
  t.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
  t.equal(store.db.pragma('busy_timeout', { simple: true }), 50);
  t.equal(store.kind, 'sqlite');
  const other = await openIn(t, 'other.db', { busyTimeoutMs: 80 });
  t.equal(other.store.db.pragma('busy_timeout', { simple: true }), 80);
  // Revocations commit with synchronous=FULL, then the connection is back to NORMAL.
  await store.writeBatch({ ...emptyBatch(), sessions: [session('s1')] });
  const seen: unknown[] = [];
  const pragma = store.db.pragma.bind(store.db);
  store.db.pragma = ((source: string, o?: Database.PragmaOptions) => (seen.push(source), pragma(source, o))) as typeof store.db.pragma;
  t.equal(await store.revokeSession('s1', 'admin', 'x', T0), true);
  store.db.pragma = pragma;
  t.same(seen, ['synchronous = FULL', 'synchronous = NORMAL']);
  t.equal(store.db.pragma('synchronous', { simple: true }), 1);
});

t.test('migrations run once and reopening is idempotent', async (t) => {
  const file = join(t.testdir(), 'gatehouse.db');
  for (let i = 0; i < 3; i++) {
    const store = await openSqliteStore(file);
    if (i === 0) await store.writeBatch({ ...emptyBatch(), sessions: [session('s1')] });
    t.equal(store.db.prepare('SELECT count(*) FROM schema_migrations').pluck().get(), SQLITE_MIGRATIONS.length);
    t.equal(store.db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.at(-1)?.version);
    t.equal((await store.getSession('s1'))?.email, 'ada@example.com');
    await store.close();
    await store.close();
  }
  const raw = new Database(file);
  raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('from the future');
  raw.close();
  await t.rejects(openSqliteStore(file), { message: new RegExp(`${file} has schema version 99, newer than this Gatehouse knows`) });
});

t.test('a corrupt file refuses to open, naming the file and what to do', async (t) => {
  const dir = t.testdir();
  const garbage = join(dir, 'garbage.db');
  writeFileSync(garbage, 'this is not a sqlite database, it is a text file that got in the way\n'.repeat(100));
  const expected = (file: string) => ({
    name: 'StoreCorruptError',
    message: new RegExp(`SQLite store ${file} is corrupt.*forget every revocation.*Restore ${file} from a backup.*move it aside`),
  });
  await t.rejects(openSqliteStore(garbage), expected(garbage));
  t.equal(readFileSync(garbage, 'utf8').slice(0, 9), 'this is n', 'the corrupt file is left as it was');

  // A real database with damaged pages in the middle.
  const damaged = join(dir, 'damaged.db');
  const store = await openSqliteStore(damaged);
  await store.writeBatch({ ...emptyBatch(), decisions: Array.from({ length: 3000 }, () => decision({ reasons: ['x'.repeat(200)] })) });
  await store.close();
  t.notOk(existsSync(`${damaged}-wal`), 'checkpointed on close');
  const size = statSync(damaged).size;
  const fd = openSync(damaged, 'r+');
  writeSync(fd, randomBytes(4096 * 8), 0, 4096 * 8, Math.floor(size / 2 / 4096) * 4096);
  closeSync(fd);
  const err = await openSqliteStore(damaged).then(
    () => null,
    (e: unknown) => e,
  );
  t.type(err, StoreCorruptError);
  t.match(err, expected(damaged));
});

t.test('a raw token never reaches the database file', async (t) => {
  const { file, store } = await openIn(t);
  const token = `eyJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
  const id = createHash('sha256').update(token).digest('hex');
  const writer = new RecordWriter(store, { queueLimit: 100, logger: silentLogger });
  writer.session(session(id, { kind: 'token', issuer: 'https://idp.example.com', claims: { sub: 'x' } }));
  writer.activity(id, 'wiki', '/', T0);
  writer.decision(decision({ sessionId: id }));
  await writer.close();
  await store.revokeSession(id, 'admin', 'leaked', T0);
  const bytes = Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));
  t.ok(bytes.includes(id), 'the session id (its SHA-256) is there');
  t.notOk(bytes.includes(token), 'the token is not');
  t.notOk(bytes.includes(token.split('.')[2] ?? token), 'nor its signature');
});

t.test('a locked database neither blocks writes for long nor loses records', async (t) => {
  const { file, store } = await openIn(t);
  await store.writeBatch({ ...emptyBatch(), sessions: [session('s1')] });
  const other = new Database(file, { timeout: 0 });
  t.teardown(() => other.close());
  other.exec('BEGIN EXCLUSIVE');
  other.prepare('UPDATE heartbeat SET at = 1').run();

  // better-sqlite3 blocks the event loop while it waits for a lock: the store waits at most its
  // short busy timeout, once, and leaves retrying to the RecordWriter's timers.
  t.equal(store.db.pragma('busy_timeout', { simple: true }), DEFAULT_BUSY_TIMEOUT_MS, 'a short busy timeout');
  const delays = recordTimers(t, (ms) => ms === 5000);
  await t.rejects(store.writeBatch({ ...emptyBatch(), decisions: [decision()] }), { code: 'SQLITE_BUSY' });
  await t.rejects(store.ping(), { code: 'SQLITE_BUSY' });
  t.same(delays, [], 'writeBatch and ping give up at once, without retrying');
  t.equal((await store.getSession('s1'))?.id, 's1', 'reads still work (WAL)');

  const writer = new RecordWriter(store, { queueLimit: 100, logger: silentLogger, flushIntervalMs: 20, maxBackoffMs: 100 });
  t.teardown(() => writer.close());
  writer.session(session('s2'));
  writer.decision(decision({ requestId: 'while-locked' }));
  const [err] = await within(writer, 'flush-error');
  t.match(err, { code: 'SQLITE_BUSY' });
  t.match(writer.stats(), { healthy: false, lastError: /locked/, queued: 2 });
  writer.decision(decision({ requestId: 'later' }));
  await within(writer, 'flush-error');
  t.equal((await store.getSession('s1'))?.id, 's1', 'between retries the event loop serves reads');
  t.equal((await store.listDecisions({ limit: 10 })).items.length, 0);

  other.exec('COMMIT');
  await within(writer, 'recovered');
  t.match(writer.stats(), { healthy: true, queued: 0, written: 3 });
  t.same((await store.listDecisions({ limit: 10 })).items.map((d) => d.requestId).sort(), ['later', 'while-locked']);
  t.ok(await store.getSession('s2'));
});

t.test('revokeSession retries a busy database briefly, then fails', async (t) => {
  const { file, store } = await openIn(t);
  await store.writeBatch({ ...emptyBatch(), sessions: [session('s1'), session('s2')] });
  const other = new Database(file, { timeout: 0 });
  t.teardown(() => other.close());
  other.exec('BEGIN EXCLUSIVE');
  other.prepare('UPDATE heartbeat SET at = 1').run();
  const delays = recordTimers(t);
  await t.rejects(store.revokeSession('s1', 'admin', 'x', T0), { code: 'SQLITE_BUSY' });
  t.same(delays, [25, 75, 200], 'three short retries, then it gives up');
  t.equal((await store.getSession('s1'))?.revokedAt, null);
  // Released while it waits: the retry succeeds.
  const revoking = store.revokeSession('s1', 'admin', 'x', T0);
  other.exec('COMMIT');
  t.equal(await revoking, true);
  t.same(delays.slice(3), [25], 'released during its first wait: one retry was enough');
  t.equal((await store.getSession('s1'))?.revokedAt, T0);
});

t.test('records survive kill -9 once flushed', async (t) => {
  const file = join(t.testdir(), 'gatehouse.db');
  // The suite's own TypeScript loader (test/helpers/ts-cache.mjs: modules transpiled once, cached
  // on disk), not tap's ts-node one: 0.2 s of CPU for the child instead of 1.3 s.
  const child = spawn(process.execPath, [`--import=${new URL('../../helpers/ts-cache.mjs', import.meta.url).href}`, fileURLToPath(new URL('fixtures/kill-child.ts', import.meta.url)), file], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: string) => (out += d).includes('flushed\n') && resolve());
    child.on('exit', (code) => reject(new Error(`child exited with ${code} before flushing: ${out}`)));
  });
  await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  const [, signal] = await once(child, 'exit');
  t.equal(signal, 'SIGKILL');
  const store = await openSqliteStore(file);
  t.teardown(() => store.close());
  t.equal((await store.listSessions({ limit: 1000 })).items.length, 100);
  const decisions = (await store.listDecisions({ limit: 1000 })).items.filter((d) => d.requestId.startsWith('kill-'));
  t.equal(decisions.length, 100);
  t.equal((await store.sessionActivity('k7'))[0]?.count, 1);
  t.same((await store.loadRevocations()).sessionIds, ['k1']);
  t.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
});
