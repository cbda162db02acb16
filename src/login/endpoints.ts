// The login module's /.gatehouse/* endpoints, dispatched by path. Runs after authenticate (so a
// signed-in request carries its identity here) and before authorize (so these pages need no policy).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import type { GatehouseEndpoints } from '../pipeline/services.js';
import { BACKCHANNEL_PREFIX, backchannelLogout } from './backchannel.js';
import { callback } from './callback.js';
import { fail, query, type LoginDeps } from './deps.js';
import { redirect } from './html.js';
import { identity } from './identity.js';
import { loginGet, loginPost } from './login.js';
import { logout, logoutPage, SIGNED_OUT_PATH, signedOut } from './logout.js';
import { sessionCookie } from './cookies.js';
import { SessionTooLargeError, SignInRefusedError } from './session.js';

type Handler = (d: LoginDeps, ctx: RequestContext, res: ServerResponse) => void | Promise<void>;

const ROUTES: Record<string, Partial<Record<'GET' | 'POST', Handler>>> = {
  '/.gatehouse/login': { GET: loginGet, POST: loginPost },
  '/.gatehouse/callback': { GET: callback },
  '/.gatehouse/logout': { GET: logoutPage, POST: logout },
  [SIGNED_OUT_PATH]: { GET: (_d, ctx, res) => signedOut(ctx, res) },
  '/.gatehouse/identity': { GET: identity },
  '/.gatehouse/handoff': { GET: handoff },
};

export class LoginEndpoints implements GatehouseEndpoints {
  constructor(private readonly d: LoginDeps) {}

  handle(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean> {
    const route = ROUTES[ctx.path];
    if (!route && ctx.path.startsWith(BACKCHANNEL_PREFIX)) return this.guard(ctx, res, backchannelLogout(this.d.backchannel, ctx, res));
    if (!route) return false;
    const method = req.method === 'HEAD' ? 'GET' : (req.method as 'GET' | 'POST');
    const handler = route[method];
    if (!handler) {
      req.resume();
      res.setHeader('allow', Object.keys(route).join(', '));
      fail(ctx, res, 405, 'Method not allowed', `Use ${Object.keys(route).join(' or ')}.`);
      return true;
    }
    if (method === 'GET' || ctx.path !== '/.gatehouse/login') req.resume();
    return this.guard(ctx, res, handler(this.d, ctx, res));
  }

  /** Every endpoint's answer: true (handled), and an error page for what went wrong on our side. */
  private guard(ctx: RequestContext, res: ServerResponse, done: void | Promise<void>): Promise<boolean> {
    return Promise.resolve(done).then(
      () => true,
      (err: unknown) => {
        // Refused on purpose (recorded where it was decided): a page saying why.
        if (err instanceof SignInRefusedError && !res.headersSent) {
          this.d.logger.warn({ requestId: ctx.requestId, email: err.email, reason: err.reason }, 'sign-in refused');
          fail(ctx, res, 403, 'Sign-in refused', err.message);
          return true;
        }
        this.d.logger.error({ err, requestId: ctx.requestId, path: ctx.path }, 'login endpoint failed');
        if (res.headersSent) res.destroy();
        else if (err instanceof SessionTooLargeError) fail(ctx, res, 500, 'Sign-in failed', err.message);
        else fail(ctx, res, 500, 'Sign-in failed', 'Something went wrong on our side.', '/.gatehouse/login');
        return true;
      },
    );
  }

  loginAvailable(ctx: RequestContext): boolean {
    return this.d.registry.allowed(ctx.config, ctx.app).length > 0;
  }
}

/** /.gatehouse/handoff?code=… — the app host's half of a cross-domain sign-in. */
async function handoff(d: LoginDeps, ctx: RequestContext, res: ServerResponse): Promise<void> {
  const code = query(ctx).get('code');
  const h = code ? await d.handoffs.redeem(ctx, code) : null;
  if (!h) {
    return fail(ctx, res, 400, 'Sign-in link expired', 'This sign-in link is invalid, expired or was already used.', '/.gatehouse/login');
  }
  redirect(ctx, res, h.rd, [sessionCookie(ctx, h.token, h.expiresAt)]);
}

