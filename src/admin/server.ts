// The admin listener (loopback by default): health, readiness, metrics, config status and the
// admin API. It shares no routes with the data listener. JSON only; bearer-token auth on /admin/*;
// no cookies, no CORS.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { weakTokenReason } from './token-file.js';
import { AdminRouter, HttpError, RawResponse } from './router.js';
import { actionRecorder } from './action-note.js';

export { AdminRouter, HttpError, RawResponse, type AdminHandler, type AdminMount, type AdminRequest } from './router.js';

/**
 * Admin bearer tokens: GATEHOUSE_ADMIN_TOKEN and/or admin.tokens_file (lines `name: token` or bare
 * tokens). SCIM keeps its own set, from GATEHOUSE_SCIM_TOKEN and scim.tokens_file.
 */
export class AdminTokens {
  private digests: Array<{ name: string; digest: Buffer }> = [];
  /** Tokens that are short or well known, by name and why (for a warning at start and reload). */
  readonly weak: Array<{ name: string; reason: string }> = [];

  static async load(file: string | undefined, env = process.env, envVar = 'GATEHOUSE_ADMIN_TOKEN'): Promise<AdminTokens> {
    const t = new AdminTokens();
    const fromEnv = env[envVar];
    if (fromEnv) t.add('env', fromEnv);
    if (file) {
      const text = await readFile(file, 'utf8');
      text.split('\n').forEach((line, i) => {
        const s = line.trim();
        if (!s || s.startsWith('#')) return;
        const m = /^([A-Za-z0-9_.@-]+):\s*(\S+)$/.exec(s);
        t.add(m ? (m[1] as string) : `token-${i + 1}`, m ? (m[2] as string) : s);
      });
    }
    return t;
  }

  /** Warns about each short or well-known token (by name, never by value); returns this. */
  warnWeak(logger: Logger | undefined): this {
    for (const { name, reason } of this.weak) {
      logger?.warn({ name }, `admin token "${name}" is ${reason}: whoever guesses it can read the audit and revoke sessions; use a long random one (openssl rand -base64 32)`);
    }
    return this;
  }

  /** Is a token of this name still configured (a console sign-in ends when its token is removed)? */
  has(name: string): boolean {
    return this.digests.some((t) => t.name === name);
  }

  get count(): number {
    return this.digests.length;
  }

  private add(name: string, token: string): void {
    this.digests.push({ name, digest: sha256(token) });
    const reason = weakTokenReason(token);
    if (reason) this.weak.push({ name, reason });
  }

  /** Constant-time: digests have equal length, and every token is compared. */
  check(header: string | undefined): string | null {
    if (!header || !/^bearer\s+/i.test(header)) return null;
    const given = sha256(header.replace(/^bearer\s+/i, '').trim());
    let found: string | null = null;
    for (const t of this.digests) if (timingSafeEqual(t.digest, given) && found === null) found = t.name;
    return found;
  }
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

const MAX_BODY = 1024 * 1024;

export function createAdminServer(router: AdminRouter, tokens: () => AdminTokens, logger: Logger): http.Server {
  return http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    handle(router, tokens(), logger, req, res).catch((err: unknown) => {
      // Last line of defence: an admin request must never take the gateway down.
      logger.error({ err }, 'admin request failed');
      if (err instanceof HttpError) return sendError(res, err);
      if (!res.headersSent) sendError(res, new HttpError('internal_error', 'internal error; see the gateway log'));
      else res.destroy();
    });
  });
}

async function handle(router: AdminRouter, tokens: AdminTokens, logger: Logger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://admin');
  } catch {
    return sendError(res, new HttpError('bad_request', 'bad request target'));
  }
  // A mounted API (SCIM) answers for itself: the admin token and routes do not apply there.
  const mount = router.mounted(url.pathname);
  if (mount) return mount.handle(req, res, url);
  const found = router.find(req.method ?? 'GET', url.pathname);
  if (!found) return sendError(res, new HttpError('not_found', `no such endpoint: ${req.method} ${url.pathname}`));
  if ('allowed' in found) {
    res.setHeader('allow', found.allowed.join(', '));
    return sendError(res, new HttpError('method_not_allowed', `method ${req.method} not allowed; use ${found.allowed.join(', ')}`));
  }
  let actor = 'anonymous';
  if (!found.route.open) {
    const name = tokens.check(req.headers.authorization);
    if (name === null) {
      res.setHeader('www-authenticate', 'Bearer realm="gatehouse-admin"');
      return sendError(res, new HttpError('unauthenticated', tokens.count === 0 ? 'admin API disabled: set GATEHOUSE_ADMIN_TOKEN or admin.tokens_file' : 'missing or invalid admin token'));
    }
    actor = `admin:${name}`;
  }
  try {
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    const record = actionRecorder(router.actionSink, actor, requestId, 'api');
    const out = await router.run(found.route, { req, url, params: found.params, actor, requestId, record, body: () => readJson(req) });
    if (out instanceof RawResponse) {
      res.writeHead(out.status, { 'content-type': out.contentType });
      res.end(out.body);
      return;
    }
    send(res, req.method === 'POST' && out && typeof out === 'object' && 'created' in out ? 201 : 200, out ?? {});
  } catch (err) {
    if (err instanceof HttpError) return sendError(res, err);
    logger.error({ err, path: url.pathname }, 'admin request failed');
    sendError(res, new HttpError('internal_error', 'internal error; see the gateway log'));
  }
}

function sendError(res: ServerResponse, err: HttpError): void {
  send(res, err.status, err.body());
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError('payload_too_large', 'request body too large (1 MiB max)');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError('bad_request', `request body is not valid JSON: ${(err as Error).message}`);
  }
}
