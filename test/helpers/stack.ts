// Real parts for end-to-end tests: an upstream on 127.0.0.1:0, a config written to a test dir,
// and the gateway started in-process on port 0. Teardown sits next to creation.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Gateway, type GatewayOptions } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
import type { Test } from 'tap';

type Tap = Test;

/** The admin token every test gateway accepts (GATEHOUSE_ADMIN_TOKEN is read at start). */
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
process.env.GATEHOUSE_ADMIN_TOKEN ??= ADMIN_TOKEN;

/** fetch() against the admin listener with the admin token. */
export function adminFetch(s: { adminUrl: string }, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${s.adminUrl}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.headers ?? {}) } });
}

export interface Upstream {
  server: http.Server;
  url: string;
  port: number;
  /** Requests seen (headers and url), newest last. */
  seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An upstream that echoes what it received as JSON, unless a handler says otherwise. */
export async function startUpstream(t: Tap, handler?: Handler): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (handler) return handler(req, res);
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  // Upgraded (WebSocket) sockets leave the server's bookkeeping: track every socket ourselves.
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Once a test accepts upgrades: a connection its client ended is ended here too, as a WebSocket
  // server does; a half-open one would hold the gateway's side open until its drain_timeout at
  // teardown (10 s). (Without an 'upgrade' listener Node answers an upgrade as a plain request.)
  const endWithClient = (_req: IncomingMessage, socket: net.Socket) => socket.once('end', () => socket.end());
  let ending = false;
  server.on('newListener', (event: string) => {
    if (event !== 'upgrade' || ending) return;
    ending = true;
    server.prependListener('upgrade', endWithClient);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${port}`, port, seen };
}

export interface StackOptions {
  /** App files by name (without .yaml), as objects. */
  apps: Record<string, Record<string, unknown>>;
  /** Extra/overriding gateway.yaml keys. */
  gateway?: Record<string, unknown>;
  /** Extra files to place in the test dir (path → contents). */
  files?: Record<string, string>;
  extend?: GatewayOptions['extend'];
  /** The data listener's address (default 127.0.0.1:0). */
  listen?: string;
}

export interface Stack {
  gw: Gateway;
  dir: string;
  dataUrl: string;
  adminUrl: string;
  port: number;
  writeApp(name: string, app: Record<string, unknown> | string): void;
}

export function baseGatewayConfig(): Record<string, unknown> {
  return {
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    session: { cookie: 'gatehouse_session', keys: './keys/session.jwks.json', secure_cookie: false },
    store: { sqlite: './data/gatehouse.db' },
    apps: './apps',
    log: { level: 'silent' },
  };
}

export async function startStack(t: Tap, opts: StackOptions): Promise<Stack> {
  const dir = t.testdir({ apps: {} });
  mkdirSync(join(dir, 'apps'), { recursive: true });
  const gatewayConfig = { ...baseGatewayConfig(), ...(opts.gateway ?? {}) };
  writeFileSync(join(dir, 'gateway.yaml'), stringify(gatewayConfig));
  const writeApp = (name: string, app: Record<string, unknown> | string) =>
    writeFileSync(join(dir, 'apps', `${name}.yaml`), typeof app === 'string' ? app : stringify(app));
  for (const [name, app] of Object.entries(opts.apps)) writeApp(name, app);
  for (const [path, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const gw = await Gateway.start({
    configFile: join(dir, 'gateway.yaml'),
    logger: silentLogger,
    listen: { data: opts.listen ?? '127.0.0.1:0', admin: '127.0.0.1:0' },
    ...(opts.extend ? { extend: opts.extend } : {}),
  });
  t.teardown(() => {
    // The test is over: keep-alive connections its clients left idle (Node's global agent, fetch)
    // are closed now, not after keep_alive_timeout (5 s), which the drain would otherwise wait for.
    gw.dataServer.closeIdleConnections();
    return gw.close();
  });
  const port = Number(new URL(gw.dataUrl).port);
  return { gw, dir, dataUrl: gw.dataUrl, adminUrl: gw.adminUrl, port, writeApp };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

/** One HTTP/1.1 request with full control over headers (Host included). */
export function request(
  port: number,
  opts: { method?: string; path?: string; host?: string; headers?: Record<string, string | string[]>; body?: string | Buffer; localAddress?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: { host: opts.host ?? 'app.test', ...(opts.headers ?? {}) },
        agent: false,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Writes raw bytes and returns everything the server sent until it closed (or timeoutMs). */
export function rawRequest(port: number, text: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (chunks.length) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(err);
    });
    socket.write(text);
  });
}

/** The simplest app: bypass for everyone, on host app.test. */
export function bypassApp(upstream: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'app', hosts: ['app.test'], upstream, policies: [{ name: 'open', action: 'bypass', include: [{ everyone: true }] }], ...extra };
}
