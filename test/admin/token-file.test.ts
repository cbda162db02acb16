// Admin tokens at start: a missing tokens_file is created once with a random token (0600); short or
// well-known tokens are warned about by name, never by value.
import t from 'tap';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { AdminTokens } from '../../src/admin/server.js';
import { ensureAdminTokenFile, weakTokenReason } from '../../src/admin/token-file.js';

t.test('a missing tokens file is created once, 0600, with a long random token', async (t) => {
  const file = join(t.testdir({}), 'data', 'admin-token');
  const token = await ensureAdminTokenFile(file);
  t.match(token, /^[A-Za-z0-9_-]{43}$/);
  t.equal(readFileSync(file, 'utf8'), `${token}\n`);
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.equal(await ensureAdminTokenFile(file), null, 'an existing file is kept');
  t.equal(readFileSync(file, 'utf8'), `${token}\n`);
  t.equal(weakTokenReason(token as string), null);
  const tokens = await AdminTokens.load(file, {});
  t.equal(tokens.check(`Bearer ${token}`), 'token-1', 'the gateway accepts it');
});

t.test('short and well-known tokens are warned about at load, without their value', async (t) => {
  t.equal(weakTokenReason('change-me'), 'a well-known value');
  t.equal(weakTokenReason('CHANGEME'), 'a well-known value');
  t.equal(weakTokenReason('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), 'a well-known value');
  t.equal(weakTokenReason('s3cr3t-but-short'), 'shorter than 24 characters');
  const file = join(t.testdir({}), 'tokens');
  writeFileSync(file, 'ops: hunter2\nci: 9c1b0f6e3a7d4e2b8f5a6c0d1e2f3a4b\n');
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  const tokens = (await AdminTokens.load(file, { GATEHOUSE_ADMIN_TOKEN: 'change-me' })).warnWeak(pino(sink));
  t.same(tokens.weak, [
    { name: 'env', reason: 'a well-known value' },
    { name: 'ops', reason: 'shorter than 24 characters' },
  ]);
  t.equal(lines.length, 2);
  t.match(lines[0], { level: 40, name: 'env', msg: /^admin token "env" is a well-known value: .*use a long random one/ });
  t.notMatch(JSON.stringify(lines), /change-me|hunter2/, 'the values are never logged');
});
