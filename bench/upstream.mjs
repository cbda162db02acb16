// A minimal upstream for the benchmarks, run as its own process.
//   GET  /             → 200 "ok\n" (small, keep-alive): the request-rate cases
//   GET  /echo         → 200 JSON of the request headers (probes check what the proxy forwarded)
//   GET  /bytes/<n>    → 200 with n bytes streamed from one reused 64 KiB buffer, with backpressure
//   POST|PUT (any path)→ the body is consumed and counted; 200 {"received": n}
// Prints one JSON line {"msg":"listening","port":N} on stdout when ready.
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } } });

const OK = Buffer.from('ok\n');
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

const server = http.createServer((req, res) => {
  if (req.method === 'POST' || req.method === 'PUT') {
    let received = 0;
    req.on('data', (c) => (received += c.length));
    req.on('end', () => {
      const body = JSON.stringify({ received });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    return;
  }
  const url = req.url ?? '/';
  if (url.startsWith('/bytes/')) {
    const total = Number(url.slice('/bytes/'.length).split('?')[0]);
    if (!Number.isSafeInteger(total) || total < 0) {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
    let left = total;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        const more = res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
        if (!more) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
    return;
  }
  if (url.startsWith('/echo')) {
    const body = JSON.stringify({ method: req.method, url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': OK.length });
  res.end(OK);
});
// Proxies keep idle pooled connections between rounds: do not close them under their feet.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.requestTimeout = 0;

server.listen(Number(values.port), values.host, () => {
  process.stdout.write(JSON.stringify({ msg: 'listening', port: server.address().port }) + '\n');
});
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
