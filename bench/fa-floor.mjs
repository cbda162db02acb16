// The floor for a forward-auth answer from Node: a bare node:http server that answers every
// sub-request with the 200 and the identity headers Gatehouse answered for the same cookie (read
// from --headers, a JSON file the harness writes), and nothing else: no routing, no credential, no
// policy, no recording. bench/run.js puts it behind the same nginx recipe as Gatehouse
// (case nginx-fa-floor): what nginx auth_request → a Node process can reach on this machine.
// Prints one JSON line {"msg":"listening","port":N} on stdout when ready.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { headers: { type: 'string' }, port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } } });
const given = values.headers ? JSON.parse(readFileSync(values.headers, 'utf8')) : {};
// Gatehouse's answer minus what Node adds itself and the request id, which is the asker's.
const fixed = [];
for (const [name, value] of Object.entries(given)) {
  if (name === 'date' || name === 'connection' || name === 'keep-alive' || name === 'content-length' || name === 'x-request-id') continue;
  fixed.push(name, String(value));
}

// One flat array, reused: writeHead copies it out synchronously, so only the id slot changes.
const head = ['x-request-id', '', 'content-length', '0', ...fixed];

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const id = req.headers['x-request-id'];
  head[1] = typeof id === 'string' ? id : '-';
  res.writeHead(200, head);
  res.end();
});
server.listen(Number(values.port), values.host, () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
