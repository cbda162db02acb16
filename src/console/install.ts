// Wires the console into a gateway: /console on the admin listener (admin-front.ts), with the
// pages' time script beside it. The console reads and acts only through the admin API, in-process.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminRouter, AdminTokens } from '../admin/server.js';
import { ASSET_CACHE_CONTROL, ASSETS } from '../pages/template.js';
import { AdminConsole } from './admin-front.js';
import type { AdminApi } from './types.js';

/** Where the console is installed: the admin listener's router and the admin tokens in force. */
export interface ConsoleHost {
  readonly adminRouter: AdminRouter;
  readonly adminTokenSet: AdminTokens;
}

export function installConsole(g: ConsoleHost): void {
  const api: AdminApi = (method, target, actor, req, body) => g.adminRouter.call(method, target, actor, req, body);
  const console = new AdminConsole(api, () => g.adminTokenSet);
  g.adminRouter.mount('/console', console.handle);
  g.adminRouter.mount('/.gatehouse/assets', serveAsset);
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
