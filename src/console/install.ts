// Wires the console into a gateway: /console on the admin listener (admin-front.ts), with the
// pages' time script beside it, and on admin.console_host (host-front.ts). The console reads and acts only through the admin API, in-process.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminRouter, AdminTokens } from '../admin/server.js';
import { ASSET_CACHE_CONTROL, ASSETS } from '../pages/template.js';
import type { KeySet } from '../auth/keys.js';
import type { RequestContext } from '../context.js';
import { AdminConsole } from './admin-front.js';
import { HostConsole } from './host-front.js';
import type { AdminApi } from './types.js';

/** Where the console is installed: the admin listener's router, the admin tokens in force, and the
 * pipeline's slot for a built-in app (console_host). */
export interface ConsoleHost {
  readonly adminRouter: AdminRouter;
  readonly adminTokenSet: AdminTokens;
  /** Read at each use: a reloaded key file replaces the keys. */
  readonly services: { keys: KeySet; builtin?: { serve(ctx: RequestContext, res: ServerResponse): Promise<void> } };
}

export function installConsole(g: ConsoleHost): void {
  const api: AdminApi = (method, target, actor, req, body, requestId) => g.adminRouter.call(method, target, actor, req, body, requestId);
  const front = new AdminConsole(api, () => g.adminTokenSet);
  g.adminRouter.mount('/console', front.handle);
  g.adminRouter.mount('/.gatehouse/assets', serveAsset);
  // Served only where admin.console_host routes to the built-in app; harmless otherwise.
  g.services.builtin = new HostConsole(api, () => g.services.keys);
}

/** The pages' time script on the admin listener (the data listener serves it under the same path). */
function serveAsset(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  req.resume();
  const asset = ASSETS.get(url.pathname);
  if (!asset || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  } else {
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': ASSET_CACHE_CONTROL, 'x-content-type-options': 'nosniff', 'content-length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }
  return Promise.resolve();
}
