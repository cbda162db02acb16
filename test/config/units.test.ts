// The small pure helpers: durations, host/path normalisation, listen addresses, typo suggestions.
import t from 'tap';
import { formatDuration, isDuration, parseDuration } from '../../src/config/duration.js';
import { checkHttpUrl, isLoopbackHost, normalizeHost, normalizePath, parseListen } from '../../src/config/hosts.js';
import { displayPath, pointerSegments } from '../../src/config/positions.js';
import { describe, levenshtein, suggest } from '../../src/config/validate.js';

t.test('parseDuration', async (t) => {
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('30s'), 30_000);
  t.equal(parseDuration('5m'), 300_000);
  t.equal(parseDuration('8h'), 28_800_000);
  t.equal(parseDuration('7d'), 604_800_000);
  t.equal(parseDuration('0s'), 0);
  for (const bad of ['', '30', 's', '1.5h', '-1s', '30 s', '1w', '30S']) t.throws(() => parseDuration(bad), RangeError, bad);
  t.throws(() => parseDuration('99999999999999999d'), /too large/);
  t.ok(isDuration('1h'));
  t.notOk(isDuration('1 h'));
  t.same([0, 250, 30_000, 90_000, 3_600_000, 86_400_000].map(formatDuration), ['0ms', '250ms', '30s', '90s', '1h', '1d']);
});

t.test('normalizeHost', async (t) => {
  t.same(normalizeHost('Wiki.Corp.Example.'), { value: 'wiki.corp.example' });
  t.same(normalizeHost('wiki.corp.example:8443'), { value: 'wiki.corp.example' });
  t.same(normalizeHost('*.corp.example'), { value: '.corp.example' });
  t.same(normalizeHost('[::1]'), { value: '[::1]' });
  t.same(normalizeHost('localhost'), { value: 'localhost' });
  for (const bad of ['', '*', '*.com', 'a..b', 'x.*', 'has space', 'under_score', '[::1', '[1.2.3.4]', 'a'.repeat(64)]) {
    t.ok('problem' in normalizeHost(bad), bad);
  }
});

t.test('normalizePath', async (t) => {
  t.same(normalizePath('/'), { value: '/' });
  t.same(normalizePath('/api/'), { value: '/api' });
  t.same(normalizePath('/a/b'), { value: '/a/b' });
  t.same(normalizePath('/%7Euser'), { value: '/%7Euser' });
  for (const bad of ['a', '/a/./b', '/a/..', '/.%2E/x', '/a\\b', '/a%5cb', '/%zz', '/a b', '/a#b', '//a']) t.ok('problem' in normalizePath(bad), bad);
});

t.test('isLoopbackHost, parseListen, checkHttpUrl', async (t) => {
  for (const h of ['localhost', 'app.localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1', 'LOCALHOST.']) t.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '10.0.0.1', 'example.com', '::', 'localhost.example.com', '']) t.notOk(isLoopbackHost(h), h);
  t.same(parseListen('[::1]:8080'), { value: { host: '::1', port: 8080 } });
  t.same(parseListen(':80'), { value: { host: '0.0.0.0', port: 80 } });
  t.ok('problem' in parseListen('[zz]:80'));
  t.ok('problem' in parseListen('host:70000'));
  t.ok('value' in checkHttpUrl('https://a.example/base/'));
});

t.test('typo suggestions and schema descriptions', async (t) => {
  t.equal(levenshtein('polices', 'policies'), 1);
  t.equal(levenshtein('', 'abc'), 3);
  t.equal(suggest('polices', ['name', 'policies', 'hosts']), 'policies');
  t.equal(suggest('HOSTS', ['name', 'policies', 'hosts']), 'hosts');
  t.equal(suggest('upstreams', ['upstream']), 'upstream');
  t.equal(suggest('frobnicate', ['name', 'policies', 'hosts']), undefined);
  t.equal(suggest('x', []), undefined);
  t.equal(describe({ type: 'array', items: { type: 'integer' } }), 'a list of whole numbers');
  t.equal(describe({ type: 'array' }), 'a list');
  t.equal(describe({ anyOf: [] }), 'a value');
  t.equal(describe({ type: 'array', items: { type: 'array' } }), 'a list of lists');
  t.equal(describe({ type: 'array', items: { type: 'object' } }), 'a list of maps');
  t.equal(describe({ type: 'null' }), 'a value');
});

t.test('JSON pointers and display paths', async (t) => {
  t.same(pointerSegments(''), []);
  t.same(pointerSegments('/policies/0/a~1b/c~0d'), ['policies', 0, 'a/b', 'c~d']);
  t.equal(displayPath(['policies', 0, 'include', 1, 'ip']), 'policies[0].include[1].ip');
  t.equal(displayPath([]), '');
});
