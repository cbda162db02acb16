// The baseline: a bare http-proxy-3 proxy, run as its own process, with the same upstream agent
// settings Gatehouse's forwarder used on http-proxy-3 (it now uses undici for plain HTTP): keepAlive, maxSockets 256,
// maxFreeSockets 64, LIFO scheduling. Nothing else: no routing, no auth, no headers work.
//   --mode native  http-proxy-3's node:http path (what Gatehouse used before its undici forwarder)
//   --mode fetch   http-proxy-3's fetch path with an undici Agent as dispatcher
// Prints one JSON line {"msg":"listening","port":N} on stdout when ready.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { createProxyServer } from 'http-proxy-3';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    target: { type: 'string' },
    mode: { type: 'string', default: 'native' },
  },
});
if (!values.target) {
  console.error('usage: bare-proxy.mjs --target http://127.0.0.1:PORT [--port N] [--mode native|fetch]');
  process.exit(2);
}

let proxy;
if (values.mode === 'fetch') {
  const { Agent, fetch } = await import('undici');
  const dispatcher = new Agent({ connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });
  proxy = createProxyServer({ target: values.target, xfwd: false, fetch, fetchOptions: { requestOptions: { dispatcher } } });
} else {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' });
  proxy = createProxyServer({ target: values.target, xfwd: false, agent });
}
proxy.on('error', (err, _req, res) => {
  if (res && typeof res.writeHead === 'function' && !res.headersSent) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`bad gateway: ${err.message}\n`);
  } else res?.destroy?.();
});

const server = http.createServer((req, res) => proxy.web(req, res));
server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ msg: 'listening', port: server.address().port, mode: values.mode }) + '\n');
});
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
