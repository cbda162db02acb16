// The console on admin.console_host (a host of the data listener). The pipeline has already signed
// the browser in through Gatehouse's own login and let it through console_policies (the built-in
// app "gatehouse-console"), so a refused admin got the usual 403 page with a request id. Here the
// operator policies alone decide whether the viewer may act. The CSRF token is an HMAC of the
// session id under a key derived from the signing key, so every worker accepts every form.
import type { ServerResponse } from 'node:http';
import { createHmac, hkdfSync } from 'node:crypto';
import type { KeySet } from '../auth/keys.js';
import type { GatewayConfig } from '../config/types.js';
import type { RequestContext } from '../context.js';
import { compilePolicies, evaluate, type CompiledPolicies } from '../policy/evaluate.js';
import { BASE } from './html.js';
import { handleConsole, sendError, sendRedirect, serveScript } from './server.js';
import type { AdminApi, Role, Viewer } from './types.js';

export class HostConsole {
  private readonly operators = new WeakMap<GatewayConfig, CompiledPolicies>();
  private readonly macKeys = new WeakMap<KeySet, Buffer>();

  constructor(
    private readonly api: AdminApi,
    private readonly keys: () => KeySet,
  ) {}

  private role(ctx: RequestContext): Role {
    let compiled = this.operators.get(ctx.config);
    if (!compiled) {
      compiled = compilePolicies(ctx.config.admin.consolePolicies?.operator ?? []);
      this.operators.set(ctx.config, compiled);
    }
    return evaluate(compiled, ctx.identity ?? null, ctx.facts).outcome === 'allow' ? 'operator' : 'viewer';
  }

  private csrf(sessionId: string): string {
    const keys = this.keys();
    let key = this.macKeys.get(keys);
    if (!key) {
      const d = Buffer.from(String(keys.signingKey.key.export({ format: 'jwk' }).d), 'base64url');
      key = Buffer.from(hkdfSync('sha256', d, 'gatehouse', 'console form csrf', 32));
      this.macKeys.set(keys, key);
    }
    return createHmac('sha256', key).update(sessionId).digest('base64url');
  }

  /** The pipeline's built-in app: every request to console_host that console_policies allowed. */
  serve = async (ctx: RequestContext, res: ServerResponse): Promise<void> => {
    const url = new URL(`${ctx.path}${ctx.query}`, 'http://console');
    if (ctx.method === 'GET' && serveScript(url.pathname, res)) return void ctx.req.resume();
    if (url.pathname === '/') {
      ctx.req.resume();
      return sendRedirect(res, `${BASE}/sessions`);
    }
    const identity = ctx.identity;
    if (!identity) {
      // A bypass policy in console_policies would let anonymous requests here: never the console.
      ctx.req.resume();
      return sendError(res, 403, ctx.requestId, 'Not allowed', 'The console needs a signed-in identity.');
    }
    const who = identity.email ?? identity.subject;
    const viewer: Viewer = { actor: `console:${who}`, label: who, role: this.role(ctx), csrf: this.csrf(identity.sessionId), signOut: null };
    await handleConsole(this.api, ctx.req, res, url, ctx.requestId, viewer);
  };
}
