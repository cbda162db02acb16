// Stage 1 — route: validate the request line and headers, normalise the path, pick the app.
// 400 for malformed requests, 404 for hosts/paths no app serves (in the mode asked for).
// A forward-auth question is routed by the request it names (forward-auth/request.ts).
import { reject, type Rejection } from '../errors.js';
import type { RequestContext } from '../context.js';
import { framingProblem, normalizeTarget, requestHost, requestTarget } from './request.js';
import { routerFor } from '../routing/router.js';
import { FORWARD_AUTH_PATH, isForwardAuthPath, routeForwardAuth } from './forward-auth/request.js';

export const GATEHOUSE_PREFIX = '/.gatehouse/';

export function route(ctx: RequestContext): Rejection | undefined {
  const host = requestHost(ctx.req);
  if (!host.ok) return reject('bad_request', host.reason, { message: host.message });
  ctx.host = host.host;
  ctx.authority = ctx.req.headers.host as string; // present: requestHost checked it
  const framing = framingProblem(ctx.req);
  if (framing) return framing;

  const raw = requestTarget(ctx.req);
  // A proxy's forward-auth question as nginx, Traefik and Caddy send it: nothing to normalise (its
  // dot would send it through the dot-segment pass on every question).
  if (raw === FORWARD_AUTH_PATH) {
    ctx.path = raw;
    return routeForwardAuth(ctx);
  }
  const target = normalizeTarget(raw);
  if (!target.ok) return reject('bad_request', target.reason, { message: target.message });
  ctx.path = target.path;
  ctx.query = target.query;

  if (isForwardAuthPath(ctx.path)) return routeForwardAuth(ctx);
  const router = routerFor(ctx.config);
  // /.gatehouse/* lives on every app host, whatever the app's path prefixes and mode.
  if (ctx.path.startsWith(GATEHOUSE_PREFIX)) {
    const app = router.hostApp(ctx.host);
    if (!app) return reject('route_not_found', 'no_route');
    ctx.app = app;
    return undefined;
  }
  const app = router.match(ctx.host, ctx.path);
  if (!app) return reject('route_not_found', 'no_route');
  if (!app.modes.proxy) return reject('route_not_found', 'forward_auth_only');
  ctx.app = app;
  return undefined;
}
