// A tiny "whoami" app for the quickstart and the benchmarks: it answers with what the gateway
// told it about the caller, so a first request shows the identity headers at work.
import http from 'node:http';

export function startExampleUpstream(port = 8081, host = '127.0.0.1'): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const h = req.headers;
    const assertion = h['x-gatehouse-jwt-assertion'];
    const body = JSON.stringify(
      {
        // Several demo apps share this upstream: the app is the one the gateway says it routed to.
        app: typeof assertion === 'string' ? assertionAudience(assertion) : null,
        host: h['x-forwarded-host'] ?? h.host ?? null,
        method: req.method,
        path: req.url,
        user: { email: h['x-gatehouse-user-email'] ?? null, id: h['x-gatehouse-user-id'] ?? null, groups: h['x-gatehouse-user-groups'] ?? null },
        assertion: assertion ? 'present (verify it against /.gatehouse/certs)' : null,
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

/**
 * The app name a gateway assertion is for (its `aud`), read without verifying it: this demo only
 * displays it. A real app verifies the assertion against /.gatehouse/certs before trusting a claim.
 */
function assertionAudience(jwt: string): string | null {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: unknown };
    const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
    return typeof aud === 'string' ? aud : null;
  } catch {
    return null;
  }
}
