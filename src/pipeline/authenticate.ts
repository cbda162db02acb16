// Stage 2 — authenticate: find the credential (cookie, bearer, service token), verify it (or
// answer from the verified-token cache) and put the identity on the context. It never rejects:
// whether an identity is needed is the policy's call (bypass apps need none), made in authorize.
import type { RequestContext } from '../context.js';
import type { AuthResult } from '../auth/authenticator.js';
import type { Services } from './services.js';

export function authenticate(ctx: RequestContext, s: Services): Promise<undefined> | undefined {
  const result = s.authenticator.authenticate(ctx.req.headers, (ctx.app as NonNullable<typeof ctx.app>).name);
  if (result instanceof Promise) return result.then((r) => apply(ctx, r));
  return apply(ctx, result);
}

function apply(ctx: RequestContext, r: AuthResult): undefined {
  if (r.ok) {
    ctx.identity = r.identity;
    ctx.credentialSource = r.source;
    ctx.cacheHit = r.cacheHit;
  } else if (r.reason !== 'token_missing') {
    ctx.credentialError = r.reason;
    if (r.identity) ctx.revokedIdentity = r.identity;
  }
  return undefined;
}
