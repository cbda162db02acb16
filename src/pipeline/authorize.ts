// Stage 3 — authorize: evaluate the app's policies against the identity and the request facts.
// No identity where one is needed → 401 (or a login redirect for browsers); a deny → 403.
import { reject, type Rejection } from '../errors.js';
import type { RoutedContext } from '../context.js';
import { evaluate } from '../policy/evaluate.js';
import { NO_DEVICE } from '../policy/device-selectors.js';
import type { Services } from './services.js';

export function authorize(ctx: RoutedContext, s: Services): Rejection | undefined {
  const app = ctx.app;
  const identity = ctx.identity ?? null;
  // Reasons for requests let through are only read when every allowed request is recorded.
  const decision = evaluate(app.compiled, identity, ctx.facts, { quiet: ctx.config.audit.recordAllowed !== 'all' });
  ctx.decision = decision;

  if (decision.outcome === 'deny') {
    // Nothing allowed an anonymous caller: ask for credentials rather than refuse.
    if (identity === null && decision.reason === 'no_policy_matched') return unauthenticated(ctx, s);
    if (needsDevice(identity, decision)) return deviceRequired(ctx);
    return reject('forbidden', decision.reason);
  }
  if (ctx.upgrade && ctx.credentialSource === 'cookie' && !originAllowed(ctx)) {
    return reject('forbidden', 'cross_site_websocket', { message: 'WebSocket connections with a session cookie must come from the app’s own origin.' });
  }
  return undefined;
}

/** Nothing allowed the session, and a rule said it was for want of a proven device. */
function needsDevice(identity: RoutedContext['identity'] | null, d: NonNullable<RoutedContext['decision']>): boolean {
  if (!identity || identity.device || identity.kind === 'service' || d.reason !== 'no_policy_matched') return false;
  return d.reasons.some((r) => r.endsWith(NO_DEVICE));
}

/** A browser navigation goes to the device check (which binds the device); anything else gets 403. */
function deviceRequired(ctx: RoutedContext): Rejection {
  const navigation = (ctx.method === 'GET' || ctx.method === 'HEAD') && !ctx.upgrade && (ctx.req.headers.accept ?? '').includes('text/html');
  if (navigation && ctx.credentialSource === 'cookie') {
    const original = `${ctx.proto}://${ctx.authority}${ctx.path}${ctx.query}`;
    return reject('forbidden', 'device_required', { redirect: `/.gatehouse/device-check?rd=${encodeURIComponent(original)}` });
  }
  return reject('forbidden', 'device_required', { message: 'This application needs a verified device: open /.gatehouse/device-check in your browser on an enrolled device.' });
}

function unauthenticated(ctx: RoutedContext, s: Services): Rejection {
  const reason = ctx.credentialError ?? 'token_missing';
  const req = ctx.req;
  const navigation = (ctx.method === 'GET' || ctx.method === 'HEAD') && !ctx.upgrade && (req.headers.accept ?? '').includes('text/html');
  if (navigation && s.endpoints?.loginAvailable(ctx)) {
    const original = `${ctx.proto}://${ctx.authority}${ctx.path}${ctx.query}`;
    // The sign-in page says why a session stopped working (a closed set of codes, never free text).
    const why = reason === 'expired' || reason === 'revoked' ? `&why=${reason}` : '';
    return reject('unauthenticated', reason, { redirect: `/.gatehouse/login?rd=${encodeURIComponent(original)}${why}` });
  }
  const realm = ctx.app.name;
  const challenge = ctx.credentialError ? `Bearer realm="${realm}", error="invalid_token"` : `Bearer realm="${realm}"`;
  return reject('unauthenticated', reason, { headers: { 'www-authenticate': challenge } });
}

/** Cross-site WebSocket hijacking guard: the browser's Origin must be the app's own host (or listed). */
function originAllowed(ctx: RoutedContext): boolean {
  const origin = ctx.req.headers.origin;
  if (typeof origin !== 'string') return false;
  const app = ctx.app;
  if (app.websocketOrigins.includes(origin)) return true;
  try {
    const u = new URL(origin);
    return u.host.toLowerCase() === ctx.authority.toLowerCase();
  } catch {
    return false;
  }
}
