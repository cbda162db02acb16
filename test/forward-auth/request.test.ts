// The three ways a proxy names the request it asks about, each alone; two at once is refused.
import t from 'tap';
import { forwardedRequest, isForwardAuthPath } from '../../src/pipeline/forward-auth/request.js';

t.test('only /.gatehouse/auth and paths below it are questions', async (t) => {
  t.ok(isForwardAuthPath('/.gatehouse/auth'));
  t.ok(isForwardAuthPath('/.gatehouse/auth/app/x'));
  t.notOk(isForwardAuthPath('/.gatehouse/authx'));
  t.notOk(isForwardAuthPath('/.gatehouse/login'));
});

t.test('nginx: X-Original-URL and X-Original-Method', async (t) => {
  const r = forwardedRequest({ host: 'gatehouse:8080', 'x-original-url': 'HTTPS://Wiki.Corp.Example:8443/a/b?c=1', 'x-original-method': 'POST' }, 'GET', '/.gatehouse/auth', '');
  t.same(r, { ok: true, request: { style: 'original-url', method: 'POST', proto: 'https', authority: 'Wiki.Corp.Example:8443', target: '/a/b?c=1', upgrade: false } });
  const bare = forwardedRequest({ 'x-original-url': 'http://wiki.test?q' }, 'GET', '/.gatehouse/auth', '');
  t.match(bare, { ok: true, request: { method: 'GET', target: '/?q' } }, 'no path: "/"; no method header: the question’s own');
  t.match(forwardedRequest({ 'x-original-url': '/relative' }, 'GET', '/.gatehouse/auth', ''), { ok: false, reason: 'bad_original_url' });
  t.match(forwardedRequest({ 'x-original-url': 'ftp://wiki.test/' }, 'GET', '/.gatehouse/auth', ''), { ok: false, reason: 'bad_original_url' });
  t.match(forwardedRequest({ 'x-original-url': 'http://wiki.test/', 'x-original-method': 'GET / HTTP/1.1' }, 'GET', '/.gatehouse/auth', ''), { ok: false, reason: 'bad_forwarded_method' });
});

t.test('Traefik and Caddy: X-Forwarded-Uri, -Host and -Method (Host when -Host is absent)', async (t) => {
  const r = forwardedRequest({ host: 'gatehouse:8080', 'x-forwarded-uri': '/x?y', 'x-forwarded-host': 'wiki.test', 'x-forwarded-method': 'DELETE' }, 'GET', '/.gatehouse/auth', '');
  t.same(r, { ok: true, request: { style: 'forwarded-uri', method: 'DELETE', proto: undefined, authority: 'wiki.test', target: '/x?y', upgrade: false } });
  t.match(forwardedRequest({ host: 'wiki.test:80', 'x-forwarded-uri': '/' }, 'GET', '/.gatehouse/auth', ''), { ok: true, request: { authority: 'wiki.test:80' } });
  t.match(forwardedRequest({ 'x-forwarded-uri': 'x' }, 'GET', '/.gatehouse/auth', ''), { ok: false, reason: 'bad_forwarded_uri' });
});

t.test('Envoy: the path after /.gatehouse/auth, the question’s own Host and method', async (t) => {
  const r = forwardedRequest({ host: 'wiki.test' }, 'PUT', '/.gatehouse/auth/api/v1', '?z=2');
  t.same(r, { ok: true, request: { style: 'path', method: 'PUT', proto: undefined, authority: 'wiki.test', target: '/api/v1?z=2', upgrade: false } });
});

t.test('WebSocket handshakes are recognised by Sec-WebSocket-Key (end-to-end) or Upgrade', async (t) => {
  t.match(forwardedRequest({ 'x-original-url': 'http://w.test/ws', 'sec-websocket-key': 'k' }, 'GET', '/.gatehouse/auth', ''), { ok: true, request: { upgrade: true } });
  t.match(forwardedRequest({ 'x-forwarded-uri': '/ws', upgrade: 'WebSocket' }, 'GET', '/.gatehouse/auth', ''), { ok: true, request: { upgrade: true } });
});

t.test('no request named, or more than one way: refused', async (t) => {
  t.match(forwardedRequest({ host: 'wiki.test' }, 'GET', '/.gatehouse/auth', ''), { ok: false, reason: 'forwarded_request_missing' });
  // A client behind nginx adds X-Forwarded-Uri, behind Traefik adds X-Original-URL: refused, never chosen.
  t.match(forwardedRequest({ 'x-original-url': 'http://a.test/', 'x-forwarded-uri': '/' }, 'GET', '/.gatehouse/auth', ''), { ok: false, reason: 'forwarded_request_ambiguous' });
  t.match(forwardedRequest({ 'x-forwarded-uri': '/' }, 'GET', '/.gatehouse/auth/x', ''), { ok: false, reason: 'forwarded_request_ambiguous' });
});
