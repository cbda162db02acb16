// The end of every successful sign-in, and the cross-domain handoff. The session cookie is set on
// the host that completed the sign-in; when the page first asked for is on an unrelated domain, that
// host gets the session through a single-use code (60 s, bound to the target host and to the
// browser) — the token itself never appears in a URL. The code's session sits in the sign-in state
// (the shared store, when there is one, so another instance redeems it) sealed under the code's hash:
// the store holds neither the code nor a readable token, and the database takes it out exactly once.
import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import { bindingMatches } from './binding.js';
import { cookieDomainFor, sessionCookie } from './cookies.js';
import { redirect } from './html.js';
import type { SignInState } from '../store/types.js';
import type { Sealer } from './seal.js';

export const HANDOFF_TTL_MS = 60_000;

export interface SessionRef {
  token: string;
  /** Epoch seconds. */
  expiresAt: number;
}

interface Handoff extends SessionRef {
  host: string;
  rd: string;
  binding: string;
}

const PURPOSE = 'handoff';
const CODE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const keyOf = (code: string) => `handoff:${createHash('sha256').update(code).digest('base64url')}`;

export class Handoffs {
  constructor(
    private readonly state: SignInState,
    private readonly sealer: Sealer,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(h: Handoff): Promise<string> {
    const code = randomBytes(32).toString('base64url');
    const key = keyOf(code);
    await this.state.putOnce(key, this.sealer.seal(PURPOSE, h, key), this.now() + HANDOFF_TTL_MS);
    return code;
  }

  /** The handoff for this code on this host in this browser, once; null otherwise. */
  async redeem(ctx: RequestContext, code: string): Promise<Handoff | null> {
    if (!CODE_SHAPE.test(code)) return null;
    const key = keyOf(code);
    const sealed = await this.state.takeOnce(key, this.now());
    const h = sealed ? this.sealer.open<Handoff>(PURPOSE, sealed, key) : null;
    if (!h || h.host !== ctx.host || !bindingMatches(ctx, h.binding)) return null;
    return h;
  }
}

/** Hosts that both fall under session.cookie_domain already share the cookie. */
function sharesCookie(ctx: RequestContext, host: string): boolean {
  return cookieDomainFor(ctx) !== undefined && cookieDomainFor(ctx, host) !== undefined;
}

/**
 * Sends the browser on to `rd` signed in. `hb` is the app host's browser-binding hash (present when
 * the app host sent the browser here); `fresh` says the session cookie must be set on this host.
 */
export async function completeSignIn(
  ctx: RequestContext,
  res: ServerResponse,
  handoffs: Handoffs,
  session: SessionRef,
  rd: URL,
  hb: string | null,
  fresh: boolean,
  cookies: string[] = [],
): Promise<void> {
  if (fresh) cookies = [...cookies, sessionCookie(ctx, session.token, session.expiresAt)];
  const host = rd.hostname;
  if (host === ctx.host || sharesCookie(ctx, host)) return redirect(ctx, res, rd.href, cookies);
  if (hb) {
    const code = await handoffs.issue({ ...session, host, rd: rd.href, binding: hb });
    return redirect(ctx, res, `${rd.origin}/.gatehouse/handoff?code=${code}`, cookies);
  }
  // The app host has not bound this browser yet: let it start (it comes back here already signed in).
  redirect(ctx, res, `${rd.origin}/.gatehouse/login?rd=${encodeURIComponent(rd.href)}`, cookies);
}
