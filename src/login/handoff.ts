// The end of every successful sign-in, and the cross-domain handoff. The session cookie is set on
// the host that completed the sign-in; when the page first asked for is on an unrelated domain, that
// host gets the session through a single-use code (60 s, bound to the target host and to the
// browser) — the token itself never appears in a URL.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import { bindingMatches } from './binding.js';
import { cookieDomainFor, sessionCookie } from './cookies.js';
import { redirect } from './html.js';
import type { Peers } from './peers.js';
import { SingleUseStore } from './single-use.js';

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

export class Handoffs {
  private readonly codes: SingleUseStore<Handoff>;

  constructor(now: () => number = Date.now, peers?: Peers) {
    this.codes = new SingleUseStore<Handoff>(HANDOFF_TTL_MS, 10_000, now, peers ? { peers, topic: 'handoffs' } : undefined);
  }

  issue(h: Handoff): string {
    const code = randomBytes(32).toString('base64url');
    this.codes.put(code, h);
    return code;
  }

  /** The handoff for this code on this host in this browser, once; null otherwise. */
  async redeem(ctx: RequestContext, code: string): Promise<Handoff | null> {
    const h = await this.codes.takeSoon(code);
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
export function completeSignIn(
  ctx: RequestContext,
  res: ServerResponse,
  handoffs: Handoffs,
  session: SessionRef,
  rd: URL,
  hb: string | null,
  fresh: boolean,
  cookies: string[] = [],
): void {
  if (fresh) cookies = [...cookies, sessionCookie(ctx, session.token, session.expiresAt)];
  const host = rd.hostname;
  if (host === ctx.host || sharesCookie(ctx, host)) return redirect(ctx, res, rd.href, cookies);
  if (hb) {
    const code = handoffs.issue({ ...session, host, rd: rd.href, binding: hb });
    return redirect(ctx, res, `${rd.origin}/.gatehouse/handoff?code=${code}`, cookies);
  }
  // The app host has not bound this browser yet: let it start (it comes back here already signed in).
  redirect(ctx, res, `${rd.origin}/.gatehouse/login?rd=${encodeURIComponent(rd.href)}`, cookies);
}
