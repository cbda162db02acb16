// Builders for the stage tests: a real config loaded from YAML in a test directory, the real
// services wired by the composition root's own function (keys, authenticator, SQLite store,
// recorder …), real IncomingMessages, and a context made the way the pipeline makes it.
import type { Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import type { RequestContext, RoutedContext } from '../../src/context.js';
import { isRouted } from '../../src/context.js';
import { createServices } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
import { createContext } from '../../src/pipeline/context.js';
import { route } from '../../src/pipeline/route.js';
import type { Services } from '../../src/pipeline/services.js';
import { loadOrCreateKeySet } from '../../src/auth/keys.js';
import { openStore } from '../../src/store/open.js';
import { RecordWriter } from '../../src/audit/writer.js';
import type { Store } from '../../src/store/types.js';

export const GATEWAY = `listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
session:
  cookie: gh
  keys: ./keys.json
  secure_cookie: false
store:
  sqlite: ./data/gh.db
apps: ./apps
log:
  level: silent
`;

/** An app file: `name` on `name`.test, the policies given (YAML lines under `policies:`). */
export const app = (name: string, policies: string, extra = '', upstream = 'http://127.0.0.1:9') => `name: ${name}
hosts: [${name}.test]
upstream: ${upstream}
${extra}policies:
${policies}`;

export const BYPASS = `  - name: open
    action: bypass
    include:
      - everyone: true
`;

export interface Parts {
  config: GatewayConfig;
  services: Services;
  store: Store;
  writer: RecordWriter;
}

/** A real config (gateway.yaml + apps/) and the real services the gateway would wire for it. */
export async function setup(t: Test, apps: Record<string, string>): Promise<Parts> {
  const dir = t.testdir({ 'gateway.yaml': GATEWAY, apps: Object.fromEntries(Object.entries(apps).map(([n, text]) => [`${n}.yaml`, text])), data: {} });
  const config = await loadConfig(join(dir, 'gateway.yaml'), {});
  const keys = await loadOrCreateKeySet(config.session.keysFile);
  const store = await openStore(config.store, silentLogger);
  const writer = new RecordWriter(store, { queueLimit: config.store.queueLimit, logger: silentLogger });
  const undo: Array<() => unknown> = [];
  // Stopped like the gateway stops them: the services, then the writer (it flushes), then the store.
  t.teardown(async () => {
    for (const step of undo.reverse()) await step();
    await writer.close();
    await store.close();
  });
  const services = await createServices(config, keys, store, writer, silentLogger, undo, await store.loadRevocations());
  return { config, services, store, writer };
}

/** A real IncomingMessage (on an unconnected socket) as Node's parser would hand it over. */
export function request(opts: { method?: string; url?: string; host?: string; headers?: Record<string, string> } = {}): http.IncomingMessage {
  const req = new http.IncomingMessage(new net.Socket());
  req.method = opts.method ?? 'GET';
  req.url = opts.url ?? '/';
  const headers: Record<string, string> = { ...(opts.host !== undefined ? { host: opts.host } : {}), ...(opts.headers ?? {}) };
  req.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  req.rawHeaders = Object.entries(headers).flat();
  return req;
}

/** The context the pipeline makes for this request. */
export function contextFor(config: GatewayConfig, req: http.IncomingMessage, upgrade = false): RequestContext {
  return createContext(req, config, upgrade);
}

/** A context that went through `route` (the stages after it take a RoutedContext). */
export function routed(t: Test, config: GatewayConfig, req: http.IncomingMessage): RoutedContext {
  const ctx = contextFor(config, req);
  const rejected = route(ctx);
  if (rejected) throw new Error(`route refused: ${rejected.code} ${rejected.reason}`);
  if (!isRouted(ctx)) throw new Error('route passed without an app');
  t.ok(ctx.app, `routed to ${ctx.app.name}`);
  return ctx;
}
