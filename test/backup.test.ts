// `gatehouse backup`: a copy of the SQLite store taken while another connection keeps writing,
// including the pages still in the -wal file (a plain cp of gatehouse.db would miss them).
import t from 'tap';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { gatehouse } from './cli-run.js';

const run = (args: string[], cwd: string) => gatehouse(args, { cwd });

const GATEWAY = (store: string) => `listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
session:
  cookie: gh
  keys: ./keys.json
store:
  ${store}
apps: ./apps
`;

t.test('backs up a live WAL database whole, mode 0600; refuses to overwrite', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': GATEWAY('sqlite: ./data.db'), apps: {} });
  const live = new Database(join(dir, 'data.db'));
  t.teardown(() => live.close());
  live.pragma('journal_mode = WAL');
  live.pragma('wal_autocheckpoint = 0'); // keep every committed row in the -wal file
  live.exec('CREATE TABLE decisions (request_id TEXT)');
  const insert = live.prepare('INSERT INTO decisions VALUES (?)');
  for (let i = 0; i < 500; i++) insert.run(`r-${i}`);

  const done = await run(['backup', '--config', 'gateway.yaml', '--out', 'copy.db'], dir);
  t.equal(done.code, 0, done.stderr);
  t.match(done.stdout, /^copy\.db: backup of .*data\.db \(\d+ pages\)\n$/);
  t.equal(statSync(join(dir, 'copy.db')).mode & 0o777, 0o600);
  const copy = new Database(join(dir, 'copy.db'), { readonly: true });
  t.teardown(() => copy.close());
  t.equal((copy.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n, 500);

  const again = await run(['backup', '--config', 'gateway.yaml', '--out', 'copy.db'], dir);
  t.equal(again.code, 2);
  t.match(again.stderr, /^gatehouse backup: copy\.db exists: give a new file name/);
});

t.test('a PostgreSQL store is pointed at pg_dump', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': GATEWAY('postgres: postgres://gatehouse@127.0.0.1:1/gatehouse'), apps: {} });
  const r = await run(['backup', '--config', 'gateway.yaml', '--out', 'x.db'], dir);
  t.equal(r.code, 2);
  t.match(r.stderr, /the store is PostgreSQL: back it up with pg_dump/);
});
