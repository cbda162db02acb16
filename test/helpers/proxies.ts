// Real nginx and Caddy in front of a gateway (Debian's /usr/sbin/nginx and /usr/bin/caddy; .ci/run
// installs them): each started on a free 127.0.0.1 port with a config written to a test dir, the
// forward-auth recipes of docs/forward-auth/ included as written.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import type { Test } from 'tap';
import { CADDY, NGINX } from './machine.js';

export const RECIPES = resolve(import.meta.dirname, '../../docs/forward-auth');

export interface Proxy {
  port: number;
  /** What the proxy wrote to its error log / stderr so far (for failure messages). */
  log(): string;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolvePort(port));
    });
  });
}

/**
 * nginx (one worker, foreground) with the forward-auth recipe: every host on one server, whose
 * location / asks Gatehouse and proxies to `upstreamPort` (WebSocket upgrades included). Its
 * connections leave from `bindAddress`, so Gatehouse can tell nginx from a client on 127.0.0.1.
 */
export async function startNginx(t: Test, opts: { gatehousePort: number; upstreamPort: number; bindAddress: string }): Promise<Proxy> {
  const dir = t.testdir({});
  // nginx writes request bodies and buffered responses here (Debian's defaults are under /var/lib/nginx).
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => {
    mkdirSync(join(dir, 'tmp', kind), { recursive: true });
    return `${kind}_temp_path ${dir}/tmp/${kind};`;
  });
  const port = await freePort();
  const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
events { worker_connections 256; }
http {
  access_log off;
  ${temp.join('\n  ')}
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream gatehouse { server 127.0.0.1:${opts.gatehousePort}; keepalive 8; }
  upstream app { server 127.0.0.1:${opts.upstreamPort}; keepalive 8; }
  # both.test (mode: [proxy, forward_auth]): WebSocket upgrades through Gatehouse, as docs/forward-auth.md says.
  map $http_upgrade $both_backend { default app; ~*^websocket$ gatehouse; }
  server {
    listen 127.0.0.1:${port};
    proxy_bind ${opts.bindAddress};
    include ${RECIPES}/nginx-endpoints.conf;
    location / {
      include ${RECIPES}/nginx-auth.conf;
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }
  }
  server {
    listen 127.0.0.1:${port};
    server_name both.test;
    proxy_bind ${opts.bindAddress};
    include ${RECIPES}/nginx-endpoints.conf;
    location / {
      include ${RECIPES}/nginx-auth.conf;
      proxy_pass http://$both_backend;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const errorLog = join(dir, 'error.log');
  const child = spawn(NGINX, ['-p', dir, '-e', errorLog, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${dir}/nginx.pid; error_log ${errorLog} info;`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = () => readText(errorLog);
  return started(t, child, port, log);
}

/**
 * Caddy with the forward-auth snippet imported in one site on `port` for every host: admin off,
 * no automatic HTTPS, its storage and HOME in the test dir.
 */
export async function startCaddy(t: Test, opts: { gatehousePort: number; upstreamPort: number }): Promise<Proxy> {
  const dir = t.testdir({});
  const port = await freePort();
  const caddyfile = `{
	admin off
	auto_https off
	storage file_system ${dir}/data
}

http://:${port} {
	bind 127.0.0.1
	import ${RECIPES}/gatehouse.caddy 127.0.0.1:${opts.gatehousePort}
	# both.test (mode: [proxy, forward_auth]): WebSocket upgrades through Gatehouse, as docs/forward-auth.md says.
	@websocket {
		host both.test
		header Connection *Upgrade*
		header Upgrade websocket
	}
	reverse_proxy @websocket 127.0.0.1:${opts.gatehousePort}
	reverse_proxy 127.0.0.1:${opts.upstreamPort}
}
`;
  writeFileSync(join(dir, 'Caddyfile'), caddyfile);
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
  const child = spawn(CADDY, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { stdio: ['ignore', 'ignore', 'pipe'], env, cwd: dir });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-20_000);
  });
  return started(t, child, port, () => stderr);
}

async function started(t: Test, child: ChildProcess, port: number, log: () => string): Promise<Proxy> {
  let exited = false;
  child.stderr?.resume();
  child.once('exit', () => (exited = true));
  t.teardown(
    () =>
      new Promise<void>((done) => {
        if (exited) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  );
  const deadline = Date.now() + 15_000;
  while (!(await connects(port))) {
    if (exited) throw new Error(`proxy exited before listening on ${port}: ${log()}`);
    if (Date.now() > deadline) throw new Error(`proxy not listening on ${port} after 15 s: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, log };
}

function connects(port: number): Promise<boolean> {
  return new Promise((done) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      done(true);
    });
    sock.once('error', () => done(false));
  });
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-20_000);
  } catch {
    return '';
  }
}
