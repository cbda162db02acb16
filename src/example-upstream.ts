// A tiny "whoami" app for the quickstart and the benchmarks: it answers with what the gateway
// told it about the caller, so a first request shows the identity headers at work.
import http from 'node:http';

export function startExampleUpstream(port = 8081, host = '127.0.0.1'): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const h = req.headers;
    const body = JSON.stringify(
      {
        app: 'whoami',
        method: req.method,
        path: req.url,
        user: { email: h['x-gatehouse-user-email'] ?? null, id: h['x-gatehouse-user-id'] ?? null, groups: h['x-gatehouse-user-groups'] ?? null },
        assertion: h['x-gatehouse-jwt-assertion'] ? 'present (verify it against /.gatehouse/certs)' : null,
        request_id: h['x-request-id'] ?? null,
        forwarded_for: h['x-forwarded-for'] ?? null,
      },
      null,
      2,
    );
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
