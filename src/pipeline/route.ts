// Stage 1 — route: validate the request line and headers, normalise the path, pick the app.
// 400 for malformed requests, 404 for hosts/paths no app serves.
import { reject, type Rejection } from '../errors.js';
import type { RequestContext } from '../context.js';
import { framingProblem, normalizeTarget, requestHost, requestTarget } from './request.js';
import { routerFor } from '../routing/router.js';

export const GATEHOUSE_PREFIX = '/.gatehouse/';

export function route(ctx: RequestContext): Rejection | undefined {
  const host = requestHost(ctx.req);
  if (!host.ok) return reject('bad_request', host.reason, { message: host.message });
  ctx.host = host.host;
  const framing = framingProblem(ctx.req);
  if (framing) return framing;

  const target = normalizeTarget(requestTarget(ctx.req));
  if (!target.ok) return reject('bad_request', target.reason, { message: target.message });
  ctx.path = target.path;
  ctx.query = target.query;

  const router = routerFor(ctx.config);
  // /.gatehouse/* lives on every app host, whatever the app's path prefixes.
  const app = ctx.path.startsWith(GATEHOUSE_PREFIX) ? router.hostApp(ctx.host) : router.match(ctx.host, ctx.path);
  if (!app) return reject('route_not_found', 'no_route');
  ctx.app = app;
  return undefined;
}
