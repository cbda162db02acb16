// /.gatehouse/devices and /.gatehouse/device-check on every app host: the pages, and the JSON
// steps their script posts (WebAuthn options, then the authenticator's answer). Runs before
// authorize, like the login pages, so a session an app refuses for want of a device gets here.
// The JSON steps are same-origin only: a JSON content type (a cross-site form cannot send one
// without a CORS preflight, which is never answered) and an Origin equal to this page's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import { PAGE_CSP } from '../pages/template.js';
import type { Logger } from '../log.js';
import { fail, loginHref, query } from '../login/deps.js';
import { redirect, sendHtml, sendJson } from '../login/html.js';
import { originOf, redirectTarget } from '../login/redirect.js';
import type { GatehouseEndpoints } from '../pipeline/services.js';
import type { Identity } from '../policy/types.js';
import { deviceCheckPage, devicesPage } from './pages.js';
import { ownerOf, type Devices } from './service.js';
import { agentFacts } from '../policy/user-agent.js';
import { CeremonyError, WebAuthn, type Party } from './webauthn.js';

export const DEVICES_PATH = '/.gatehouse/devices';
export const DEVICE_CHECK_PATH = '/.gatehouse/device-check';
const MAX_BODY = 64 * 1024;
/** The pages' CSP, plus fetch() to this origin: the WebAuthn steps are JSON posts to these endpoints. */
const DEVICE_PAGE_CSP = `${PAGE_CSP}; connect-src 'self'`;
const MAX_NAME = 64;

class BadStep extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Step = (ctx: RequestContext, id: Identity, body: Record<string, unknown>) => Promise<unknown>;

export class DeviceEndpoints implements GatehouseEndpoints {
  private readonly steps: Record<string, Step> = {
    [`${DEVICES_PATH}/options`]: (ctx, id) => this.enrollOptions(ctx, id),
    [`${DEVICES_PATH}/enroll`]: (ctx, id, b) => this.enroll(ctx, id, b),
    [`${DEVICES_PATH}/remove`]: (ctx, id, b) => this.remove(id, b),
    [`${DEVICE_CHECK_PATH}/options`]: (ctx, id) => this.checkOptions(ctx, id),
    [`${DEVICE_CHECK_PATH}/verify`]: (ctx, id, b) => this.verify(ctx, id, b),
  };

  constructor(
    private readonly devices: Devices,
    private readonly webauthn: WebAuthn,
    private readonly inner: GatehouseEndpoints | undefined,
    private readonly logger: Logger,
  ) {}

  loginAvailable(ctx: RequestContext): boolean {
    return this.inner?.loginAvailable(ctx) ?? false;
  }

  handle(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean> {
    const page = ctx.path === DEVICES_PATH || ctx.path === DEVICE_CHECK_PATH;
    const step = this.steps[ctx.path];
    if (!page && !step) return this.inner?.handle(ctx, req, res) ?? false;
    const method = req.method ?? 'GET';
    if ((page && method !== 'GET' && method !== 'HEAD') || (step && method !== 'POST')) {
      req.resume();
      res.setHeader('allow', page ? 'GET' : 'POST');
      fail(ctx, res, 405, 'Method not allowed', `Use ${page ? 'GET' : 'POST'}.`);
      return true;
    }
    const done = page ? this.page(ctx, res) : this.step(ctx, res, step as Step);
    return done.then(
      () => true,
      (err: unknown) => {
        this.logger.error({ err, requestId: ctx.requestId, path: ctx.path }, 'device endpoint failed');
        ctx.req.resume();
        if (res.headersSent) res.destroy();
        else if (page) fail(ctx, res, 500, 'Device check failed', 'Something went wrong on our side.');
        else sendJson(ctx, res, 500, { error: 'internal_error', message: 'Something went wrong on our side.', request_id: ctx.requestId });
        return true;
      },
    );
  }

  private async page(ctx: RequestContext, res: ServerResponse): Promise<void> {
    ctx.req.resume();
    const rdRaw = query(ctx).get('rd');
    const rd = rdRaw ? redirectTarget(rdRaw, ctx).href : null;
    const id = ctx.identity;
    if (!id || id.kind === 'service') return redirect(ctx, res, loginHref(`${originOf(ctx)}${ctx.path}${ctx.query}`));
    const mine = await this.devices.mine(id);
    if (ctx.path === DEVICES_PATH) {
      const ua = agentFacts(ctx.req.headers['user-agent']);
      const name = [ua.ua_browser, ua.ua_os].filter(Boolean).join(' on ') || 'My device';
      return sendHtml(ctx, res, 200, devicesPage(ctx, mine, name, rd), [], DEVICE_PAGE_CSP);
    }
    sendHtml(ctx, res, 200, deviceCheckPage(ctx, rd ?? `${originOf(ctx)}/`, mine.length), [], DEVICE_PAGE_CSP);
  }

  private async step(ctx: RequestContext, res: ServerResponse, step: Step): Promise<void> {
    try {
      const id = ctx.identity;
      if (!id || id.kind === 'service') throw new BadStep(401, 'Sign in first.');
      if (ctx.req.headers.origin !== originOf(ctx)) throw new BadStep(403, 'This request must come from this site’s own page.');
      if (!/^application\/json\b/i.test(ctx.req.headers['content-type'] ?? '')) throw new BadStep(415, 'Send application/json.');
      const body = await readBody(ctx.req);
      sendJson(ctx, res, 200, await step(ctx, id, body));
    } catch (err) {
      ctx.req.resume();
      if (err instanceof BadStep) return sendJson(ctx, res, err.status, { error: 'device_step_refused', message: err.message, request_id: ctx.requestId });
      if (err instanceof CeremonyError) return sendJson(ctx, res, 400, { error: 'device_not_verified', message: err.message, request_id: ctx.requestId });
      throw err;
    }
  }

  private party(ctx: RequestContext): Party {
    return { rpId: ctx.config.devices?.rpId ?? ctx.host, origin: originOf(ctx) };
  }

  private async enrollOptions(ctx: RequestContext, id: Identity) {
    const user = { name: id.email ?? id.subject, display: id.name ?? id.email ?? id.subject };
    return this.webauthn.enrollOptions(this.party(ctx), id.sessionId, user, await this.devices.mine(id));
  }

  private async enroll(ctx: RequestContext, id: Identity, b: Record<string, unknown>) {
    const name = typeof b.name === 'string' ? b.name.trim() : '';
    if (name === '' || name.length > MAX_NAME) throw new BadStep(400, `name must be 1 to ${MAX_NAME} characters`);
    const cred = await this.webauthn.verifyEnrollment(this.party(ctx), id.sessionId, b.state, b.response);
    const d = await this.devices.enroll(id, name, cred);
    const pending = d.state === 'pending';
    return {
      device: { id: d.id, name: d.name, state: d.state },
      message: pending ? `${d.name} is enrolled and waits for an administrator’s approval.` : `${d.name} is enrolled.`,
      next: typeof b.rd === 'string' && b.rd ? redirectTarget(b.rd, ctx).href : DEVICES_PATH,
    };
  }

  private async remove(id: Identity, b: Record<string, unknown>) {
    const d = typeof b.id === 'string' ? await this.devices.get(b.id) : null;
    if (!d || d.owner !== ownerOf(id) || d.state === 'revoked') throw new BadStep(404, 'You have no such device.');
    await this.devices.revoke(d.id, `user:${d.owner}`);
    return { removed: d.id };
  }

  private async checkOptions(ctx: RequestContext, id: Identity) {
    const mine = await this.devices.mine(id);
    if (mine.length === 0) throw new BadStep(404, 'You have no enrolled device: enroll this one first.');
    return this.webauthn.checkOptions(this.party(ctx), id.sessionId, mine);
  }

  private async verify(ctx: RequestContext, id: Identity, b: Record<string, unknown>) {
    const d = await this.devices.byCredential(WebAuthn.credentialOf(b.response));
    if (!d || d.owner !== ownerOf(id) || d.state === 'revoked') throw new BadStep(403, 'This device is not enrolled for you (or was removed).');
    const counter = await this.webauthn.verifyCheck(this.party(ctx), id.sessionId, b.state, b.response, d);
    const next = await this.devices.asserted(id.sessionId, d, counter);
    return {
      device: { id: next.id, name: next.name, state: next.state },
      message: `${next.name} verified.`,
      next: typeof b.rd === 'string' && b.rd ? redirectTarget(b.rd, ctx).href : `${originOf(ctx)}/`,
    };
  }
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new BadStep(413, 'The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BadStep(400, 'The request body is not valid JSON.');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BadStep(400, 'The request body must be a JSON object.');
  return v as Record<string, unknown>;
}
