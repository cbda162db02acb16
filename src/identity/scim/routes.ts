// The SCIM 2.0 endpoint on the admin listener: /scim/v2/{ServiceProviderConfig, ResourceTypes,
// Schemas, Users, Groups}. Its own small handler, mounted by prefix, with its own bearer tokens:
// an admin token is not a SCIM token and a SCIM token opens nothing under /admin (a provisioning
// connector stored in an IdP should not be able to read the audit or revoke arbitrary sessions).
//
// Checklist (RFC 7644):
//  - §2: every request needs the bearer token; 401 + WWW-Authenticate otherwise      tested
//  - §3.1: responses are application/scim+json; 201 + Location on create;
//    204 on delete; ETag on a resource (§3.14)                                       tested
//  - §3.8: requests with a body are application/scim+json or application/json (415) tested
//  - §3.12: every error is a SCIM error body; never a 500 for bad input             tested
//  - body bounded at 1 MiB (413, as ServiceProviderConfig says)                     tested
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log.js';
import { StoreQueryError } from '../../store/cursor.js';
import type { ScimStore } from '../../store/scim-types.js';
import { Discovery, MAX_PAYLOAD } from './discovery.js';
import { ScimError } from './errors.js';
import { GroupsResource } from './groups.js';
import type { ScimEffects, ScimReply, ScimRequest } from './query.js';
import { UsersResource } from './users.js';

export const SCIM_PREFIX = '/scim/v2';

/** Checks a bearer token: the token's name, or null (constant-time; see admin/server.ts AdminTokens). */
export interface BearerCheck {
  check(header: string | undefined): string | null;
  readonly count: number;
}

export interface ScimDeps {
  store: ScimStore;
  effects: ScimEffects;
  tokens: () => BearerCheck;
  logger: Logger;
}

type Handler = (r: ScimRequest, id: string) => Promise<ScimReply>;
type Route = { collection: Record<string, Handler>; item: Record<string, Handler> };

interface Resource {
  list(r: ScimRequest): Promise<ScimReply>;
  create(r: ScimRequest): Promise<ScimReply>;
  get(r: ScimRequest, id: string): Promise<ScimReply>;
  replace(r: ScimRequest, id: string): Promise<ScimReply>;
  patch(r: ScimRequest, id: string): Promise<ScimReply>;
  remove(r: ScimRequest, id: string): Promise<ScimReply>;
}

const resourceRoute = (x: Resource): Route => ({
  collection: { GET: (q) => x.list(q), POST: (q) => x.create(q) },
  item: { GET: (q, id) => x.get(q, id), PUT: (q, id) => x.replace(q, id), PATCH: (q, id) => x.patch(q, id), DELETE: (q, id) => x.remove(q, id) },
});

const readOnlyRoute = (fn: (q: ScimRequest, id: string | undefined) => Record<string, unknown>): Route => ({
  collection: { GET: async (q) => ({ status: 200, body: fn(q, undefined) }) },
  item: { GET: async (q, id) => ({ status: 200, body: fn(q, id) }) },
});

export function createScimHandler(deps: ScimDeps): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  const discovery = new Discovery();
  const routes: Record<string, Route> = {
    users: resourceRoute(new UsersResource(deps)),
    groups: resourceRoute(new GroupsResource(deps)),
    serviceproviderconfig: { collection: { GET: async (q) => ({ status: 200, body: discovery.serviceProviderConfig(q.base) }) }, item: {} },
    resourcetypes: readOnlyRoute((q, id) => discovery.read(q.base, 'types', id)),
    schemas: readOnlyRoute((q, id) => discovery.read(q.base, 'schemas', id)),
  };

  return async (req, res, url) => {
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    try {
      const name = deps.tokens().check(req.headers.authorization);
      if (name === null) {
        res.setHeader('www-authenticate', 'Bearer realm="gatehouse-scim"');
        const why = deps.tokens().count === 0 ? 'SCIM is disabled: set GATEHOUSE_SCIM_TOKEN or scim.tokens_file' : 'missing or invalid SCIM token';
        throw new ScimError(401, why);
      }
      let segments: string[];
      try {
        segments = url.pathname.slice(SCIM_PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
      } catch {
        throw ScimError.of('invalidSyntax', 'bad percent-encoding in the path');
      }
      const [kind, id, extra] = segments;
      const route = kind === undefined ? undefined : routes[kind.toLowerCase()];
      const methods = route && extra === undefined ? (id === undefined ? route.collection : route.item) : undefined;
      if (!methods || Object.keys(methods).length === 0) throw new ScimError(404, `no such SCIM endpoint: ${url.pathname}`);
      const method = req.method ?? 'GET';
      const handler = methods[method];
      if (!handler) {
        res.setHeader('allow', Object.keys(methods).join(', '));
        throw new ScimError(405, `${method} is not allowed here; use ${Object.keys(methods).join(', ')}`);
      }
      const ifMatch = req.headers['if-match'];
      const r: ScimRequest = {
        method,
        url,
        segments,
        base: `http://${req.headers.host ?? 'localhost'}${SCIM_PREFIX}`,
        event: { actor: `scim:${name}`, id: requestId },
        ifMatch: typeof ifMatch === 'string' ? ifMatch : undefined,
        body: () => readBody(req),
      };
      send(res, await handler(r, id ?? ''));
    } catch (err) {
      if (err instanceof ScimError) return send(res, { status: err.status, body: err.body() });
      // A filter that parsed but names what the store cannot compare.
      if (err instanceof StoreQueryError) return send(res, { status: 400, body: ScimError.of('invalidFilter', `filter: ${err.message}`).body() });
      deps.logger.error({ err, path: url.pathname, method: req.method, requestId }, 'SCIM request failed');
      send(res, { status: 503, body: new ScimError(503, 'the request could not be completed (the store may be unavailable); see the gateway log').body() });
    }
  };
}

function send(res: ServerResponse, reply: ScimReply): void {
  if (res.headersSent) return void res.destroy();
  const headers: Record<string, string | number> = { 'cache-control': 'no-store' };
  // The rest of an oversized body is not read: close rather than parse it as the next request.
  if (reply.status === 413) headers.connection = 'close';
  if (reply.etag) headers.etag = reply.etag;
  if (reply.location && reply.status === 201) headers.location = reply.location;
  if (reply.status === 204 || !reply.body) {
    res.writeHead(reply.status, headers);
    return void res.end();
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { ...headers, 'content-type': 'application/scim+json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const JSON_TYPES = /^application\/(scim\+)?json\s*(;|$)/i;

async function readBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'];
  if (!type || !JSON_TYPES.test(type)) throw new ScimError(415, `Content-Type must be application/scim+json (got ${type ? JSON.stringify(type) : 'none'})`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_PAYLOAD) throw new ScimError(413, `the body is larger than ${MAX_PAYLOAD} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD) throw new ScimError(413, `the body is larger than ${MAX_PAYLOAD} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw ScimError.of('invalidSyntax', `the body is not valid JSON: ${(err as Error).message}`);
  }
}
