// Stage 2 — authenticate: find the credential (cookie, bearer, service token), verify it (or
// answer from the verified-token cache) and put the identity on the context. It never rejects:
// whether an identity is needed is the policy's call (bypass apps need none), made in authorize.
import type { RoutedContext } from '../context.js';
import type { AuthResult } from '../auth/authenticator.js';
import type { Services } from './services.js';

export function authenticate(ctx: RoutedContext, s: Services): Promise<undefined> | undefined {
  const result = s.authenticator.authenticate(ctx.req.headers, ctx.app.name);
  if (result instanceof Promise) return result.then((r) => apply(ctx, s, r));
  return apply(ctx, s, result);
}

function apply(ctx: RoutedContext, s: Services, r: AuthResult): undefined {
  if (r.ok) {
    // Refresh kept failing (the IdP unreachable) for longer than the provider's refresh_max_stale.
    if (s.stale.size > 0 && s.stale.has(r.identity.sessionId)) {
      ctx.credentialError = 'identity_stale';
      ctx.revokedIdentity = r.identity;
      return undefined;
    }
    // The newest identity version of this session (a Map lookup; the token's own when none).
    ctx.identity = s.identities.apply(r.identity);
    ctx.credentialSource = r.source;
    ctx.cacheHit = r.cacheHit;
  } else if (r.reason !== 'token_missing') {
    ctx.credentialError = r.reason;
    if (r.identity) ctx.revokedIdentity = r.identity;
  }
  return undefined;
}
