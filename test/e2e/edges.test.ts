// The header and path edges of issue 17: identity headers of other gateways, Connection-nominated
// framing headers, dot segments with parameters, double-encoded and overlong characters, too many
// header fields and transfer codings the forwarder would lose.
import t from 'tap';
import net from 'node:net';
import { bypassApp, rawRequest, request, startStack, startUpstream } from '../helpers/stack.js';

type Echo = { url: string; headers: Record<string, string> };

t.test("other gateways' identity headers never reach the upstream", async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });
  const spoofed: Record<string, string> = {
    'X-Forwarded-User': 'admin',
    'X-Forwarded-Email': 'admin@corp.example',
    'X-Forwarded-Groups': 'admins',
    'X-Forwarded-Preferred-Username': 'admin',
    'X-Forwarded-Access-Token': 'forged',
    'X-Auth-Request-User': 'admin',
    'Remote-User': 'admin',
    'X-Remote-User': 'admin',
    'Remote-Groups': 'admins',
    'Remote-Email': 'admin@corp.example',
    'Remote-Name': 'Admin',
    'X-WEBAUTH-USER': 'admin',
    'X-Amzn-Oidc-Identity': 'admin',
    'X-Amzn-Oidc-Data': 'forged',
    'X-Goog-Authenticated-User-Email': 'accounts.google.com:admin@corp.example',
    'X-MS-CLIENT-PRINCIPAL-NAME': 'admin',
    'X-MS-CLIENT-PRINCIPAL': 'e30=',
  };
  const r = await request(s.port, { headers: { ...spoofed, 'x-kept': 'yes', 'x-forwarded-prefix': '/kept' } });
  t.equal(r.status, 200);
  const h = r.json<Echo>().headers;
  for (const name of Object.keys(spoofed)) t.notOk(name.toLowerCase() in h, `${name} is not forwarded`);
  t.equal(h['x-kept'], 'yes', 'other headers pass');
  t.equal(h['x-forwarded-prefix'], '/kept', 'X-Forwarded-* headers that carry no identity pass');
});

t.test("strip_headers adds an app's own names and prefixes", async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: bypassApp(up.url, { strip_headers: ['X-Tenant-Id', 'x-internal-*'] }) } });
  const r = await request(s.port, { headers: { 'x-tenant-id': 'other', 'X-Internal-Role': 'root', 'x-internalx': 'root', 'x-tenant-idx': 'kept' } });
  const h = r.json<Echo>().headers;
  t.notOk('x-tenant-id' in h, 'an exact name');
  t.notOk('x-internal-role' in h, 'a prefix');
  t.equal(h['x-internalx'], 'root', 'x-internal-* does not match x-internalx');
  t.equal(h['x-tenant-idx'], 'kept', 'exact names match exactly');
});

t.test('Connection cannot remove Host or the body framing', async (t) => {
  const up = await startUpstream(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
  });
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });
  const r = await request(s.port, { method: 'POST', body: 'hello', headers: { connection: 'keep-alive, Host, Content-Length, x-hop', 'x-hop': 'dropped' } });
  t.equal(r.status, 200);
  const seen = r.json<{ headers: Record<string, string>; body: string }>();
  t.equal(seen.headers.host, 'app.test', 'Host is sent upstream');
  t.equal(seen.headers['content-length'], '5', 'Content-Length is sent upstream');
  t.equal(seen.body, 'hello');
  t.notOk('x-hop' in seen.headers, 'other nominated headers are still dropped');
});

t.test('dot segments with parameters, double-encoded and overlong characters are refused', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: bypassApp(up.url, { paths: ['/public'] }) } });
  for (const path of ['/public/..;/admin', '/public/..;jsessionid=x/admin', '/public/.;/x', '/public/..%3b/admin', '/public/%2e%2e;/admin', '/public/.%2E%3B/admin', '/public/%252e%252e/admin', '/public/%252F/admin', '/public/%c0%ae%c0%ae/admin', '/public/%C1%9C', '/public/%e0%80%ae']) {
    const before = up.seen.length;
    const r = await request(s.port, { path });
    t.equal(r.status, 400, `${path} is refused`);
    t.equal(up.seen.length, before, `${path} never reaches the upstream`);
  }
  const ok = await request(s.port, { path: '/public/a;v=1/b.;x/..x;y/%c3%a9' });
  t.equal(ok.status, 200, 'parameters on ordinary segments and real UTF-8 pass');
  t.equal(ok.json<Echo>().url, '/public/a;v=1/b.;x/..x;y/%c3%a9');
});

t.test('more header fields than Node keeps are refused with 431, not truncated', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `x-h${i}: 1\r\n`).join('');
  const many = await rawRequest(s.port, `GET / HTTP/1.1\r\nhost: app.test\r\n${fields(2100)}connection: close\r\n\r\n`);
  t.match(many, /^HTTP\/1\.1 431 /, '2,100 header fields: 431');
  t.match(many, /x-request-id: /i);
  t.equal(up.seen.length, 0, 'never forwarded');
  const fine = await rawRequest(s.port, `GET / HTTP/1.1\r\nhost: app.test\r\n${fields(1990)}connection: close\r\n\r\n`);
  t.match(fine, /^HTTP\/1\.1 200 /, '1,990 header fields are fine');
});

t.test('a transfer coding other than chunked is refused with 501', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });
  const r = await rawRequest(s.port, 'POST / HTTP/1.1\r\nhost: app.test\r\ntransfer-encoding: gzip, chunked\r\nconnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  t.match(r, /^HTTP\/1\.1 501 /);
  t.equal(up.seen.length, 0, 'never forwarded');
  const chunked = await rawRequest(s.port, 'POST / HTTP/1.1\r\nhost: app.test\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  t.match(chunked, /^HTTP\/1\.1 200 /, 'chunked alone is forwarded');
});

t.test('header bytes above 0x7F reach the upstream as the same bytes', async (t) => {
  let raw = Buffer.alloc(0);
  const up = net.createServer((sock) => {
    sock.on('data', (d: Buffer) => {
      raw = Buffer.concat([raw, d]);
      if (raw.includes('\r\n\r\n')) sock.end('HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n');
    });
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
  t.teardown(() => up.close());
  const s = await startStack(t, { apps: { app: bypassApp(`http://127.0.0.1:${(up.address() as net.AddressInfo).port}`) } });
  const sent = Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nhost: app.test\r\nx-nbsp: a'), Buffer.from([0xa0, 0xe9]), Buffer.from('b\r\nconnection: close\r\n\r\n')]);
  const reply = await new Promise<string>((resolve) => {
    const c = net.connect((s.port), '127.0.0.1', () => c.write(sent));
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString('latin1')));
    c.on('close', () => resolve(got));
  });
  t.match(reply, /^HTTP\/1\.1 204 /);
  t.ok(raw.includes(Buffer.from([0x61, 0xa0, 0xe9, 0x62])), 'a A0 E9 b, not re-encoded as UTF-8');
});
