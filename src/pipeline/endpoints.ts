// Between authenticate and authorize: /.gatehouse/* on every app host. certs and the pages' assets
// are answered here; login, callback, logout and identity belong to the login module. Unknown paths
// are 404.
import type { ServerResponse } from 'node:http';
import { reject, type Rejection } from '../errors.js';
import type { RoutedContext } from '../context.js';
import { ASSET_CACHE_CONTROL, ASSETS } from '../pages/template.js';
import { GATEHOUSE_PREFIX } from './route.js';
import type { Services } from './services.js';

/** Marker: the stage answered the request itself. */
export const HANDLED = 'handled' as const;

export function endpoints(ctx: RoutedContext, s: Services, res: ServerResponse | null): Rejection | typeof HANDLED | undefined | Promise<Rejection | typeof HANDLED | undefined> {
  // A forward-auth question is about the proxy's request: Gatehouse's own pages never answer it.
  if (ctx.forwardAuth !== undefined || !ctx.path.startsWith(GATEHOUSE_PREFIX)) return undefined;
  if (res === null) return reject('route_not_found', 'no_route');
  if (ctx.path === '/.gatehouse/certs') {
    const body = JSON.stringify(s.keys.publicJwks);
    ctx.status = 200;
    ctx.bytes = body.length;
    res.writeHead(200, {
      'content-type': 'application/jwk-set+json',
      'cache-control': 'public, max-age=300',
      'x-request-id': ctx.requestId,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    return HANDLED;
  }
  const asset = ASSETS.get(ctx.path);
  if (asset && (ctx.req.method === 'GET' || ctx.req.method === 'HEAD')) {
    ctx.status = 200;
    ctx.bytes = asset.body.length;
    res.writeHead(200, {
      'content-type': asset.type,
      'cache-control': ASSET_CACHE_CONTROL,
      'x-content-type-options': 'nosniff',
      'x-request-id': ctx.requestId,
      'content-length': asset.body.length,
    });
    res.end(ctx.req.method === 'HEAD' ? undefined : asset.body);
    return HANDLED;
  }
  const receiver = s.receivers?.find((r) => ctx.path.startsWith(r.prefix));
  if (receiver) return receiver.handle(ctx, res).then(() => HANDLED);
  if (!s.endpoints) return reject('route_not_found', 'no_route');
  const handled = s.endpoints.handle(ctx, ctx.req, res);
  if (handled instanceof Promise) return handled.then((h) => (h ? HANDLED : reject('route_not_found', 'no_route')));
  return handled ? HANDLED : reject('route_not_found', 'no_route');
}
