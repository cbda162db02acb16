// The admin router: routes come from the table in routes.ts (one entry each: method, path, schemas),
// handlers are added by key where their deps live. Before a handler runs, its path parameters and
// query are checked against the route's schemas (check.ts): a bad one is a 400 naming it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { check } from './check.js';
import { HttpError, RawResponse } from './http-error.js';
import { ADMIN_ROUTES, splitKey, type RouteKey, type RouteSpec } from './routes.js';
import { randomUUID } from 'node:crypto';
import { actionRecorder, type ActionNote, type ActionSink } from './action-note.js';

export { HttpError, RawResponse };

type Spec<K extends RouteKey> = (typeof ADMIN_ROUTES)[K];
type Part<S, P extends string> = S extends { [k in P]: infer T extends TSchema } ? Static<T> : Record<string, never>;

export interface AdminRequest<K extends RouteKey = RouteKey> {
  req: IncomingMessage;
  url: URL;
  /** Percent-decoded, checked against the route's `params` schema. */
  params: Part<Spec<K>, 'params'>;
  /** The query's first value per name (empty values are absent), checked against the route's `query` schema. */
  query: Part<Spec<K>, 'query'>;
  /** Name of the admin token used (for audit of revocations: "revoked by"). */
  actor: string;
  /** This request's id (x-request-id on the answer; the console page's id for its calls). */
  requestId: string;
  /** Records what a mutating route did in the admin actions audit (action-note.ts). */
  record(note: ActionNote): Promise<void>;
  body(): Promise<unknown>;
}

/** What a handler answers: the route's response schema (checked by the compiler), or a raw answer. */
export type Answer<K extends RouteKey> = Static<Spec<K>['response']> | RawResponse;
export type AdminHandler<K extends RouteKey = RouteKey> = (r: AdminRequest<K>) => Promise<Answer<K>> | Answer<K>;

export interface RouteDef {
  key: RouteKey;
  method: string;
  pattern: RegExp;
  keys: string[];
  spec: RouteSpec;
  handler: AdminHandler<never>;
  open: boolean;
}

/** A self-contained API under a path prefix (SCIM): its own auth, errors and body handling. */
export interface AdminMount {
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
}

/** A method + path-pattern router over the route table (`/admin/sessions/:id`); and APIs mounted by prefix. */
export class AdminRouter {
  private readonly routes: RouteDef[] = [];
  private readonly mounts: AdminMount[] = [];
  /** Where AdminRequest.record writes (the gateway sets the store's admin actions audit). */
  actionSink: ActionSink | null = null;

  mount(prefix: string, handle: AdminMount['handle']): this {
    this.mounts.push({ prefix, handle });
    return this;
  }

  mounted(path: string): AdminMount | undefined {
    return this.mounts.find((m) => path === m.prefix || path.startsWith(`${m.prefix}/`));
  }

  /** The handler of a route of the table (ADMIN_ROUTES): `router.add('GET /admin/sessions', …)`. */
  add<K extends RouteKey>(key: K, handler: AdminHandler<K>): this {
    const { method, path } = splitKey(key);
    const spec: RouteSpec = ADMIN_ROUTES[key];
    if (this.routes.some((r) => r.key === key)) throw new Error(`admin route ${key} added twice`);
    const keys: string[] = [];
    const pattern = new RegExp(
      '^' +
        path.replace(/:([a-z_]+)/g, (_m, k: string) => {
          keys.push(k);
          return '([^/]+)';
        }) +
        '$',
    );
    this.routes.push({ key, method, pattern, keys, spec, handler: handler as AdminHandler<never>, open: spec.open === true });
    return this;
  }

  /** The routes with a handler, by key (a test checks that every route of the table has one). */
  keys(): RouteKey[] {
    return this.routes.map((r) => r.key);
  }

  find(method: string, path: string): { route: RouteDef; params: Record<string, string> } | { allowed: string[] } | null {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (const [i, k] of route.keys.entries()) {
        try {
          params[k] = decodeURIComponent(m[i + 1] as string);
        } catch {
          throw new HttpError(400, `bad percent-encoding in the path segment for ${k}`, k);
        }
      }
      return { route, params };
    }
    return allowed.length ? { allowed } : null;
  }

  /** Checks the path parameters and the query, then runs the handler. */
  run(route: RouteDef, r: Omit<AdminRequest, 'query' | 'params'> & { params: Record<string, string> }): Promise<unknown> | unknown {
    if (route.spec.params) check(route.spec.params as TObject, r.params, 'path parameter');
    const query = route.spec.query ? queryOf(r.url, route.spec.query as TObject) : {};
    return (route.handler as AdminHandler)({ ...r, query } as AdminRequest);
  }

  /**
   * The admin API in-process (the console is its client): the same handlers, parameter checks and
   * answers as over HTTP, as { status, body }. `actor` is who acts, for the audit of revocations.
   */
  async call(method: string, target: string, actor: string, req: IncomingMessage, body?: unknown, requestId: string = randomUUID()): Promise<{ status: number; body: Record<string, unknown> }> {
    const url = new URL(target, 'http://admin');
    const fail = (err: HttpError) => ({ status: err.status, body: { error: err.message, ...(err.param ? { param: err.param } : {}) } });
    try {
      const found = this.find(method, url.pathname);
      if (!found || 'allowed' in found) return fail(new HttpError(404, `no such endpoint: ${method} ${url.pathname}`));
      const record = actionRecorder(this.actionSink, actor, requestId, 'console');
      const out = await this.run(found.route, { req, url, params: found.params, actor, requestId, record, body: () => Promise.resolve(body ?? {}) });
      if (out instanceof RawResponse) return { status: out.status, body: JSON.parse(out.body) as Record<string, unknown> };
      return { status: 200, body: (out ?? {}) as Record<string, unknown> };
    } catch (err) {
      if (err instanceof HttpError) return fail(err);
      throw err;
    }
  }
}

/** The query as an object: each name's first value; an empty value of a known name counts as absent. */
function queryOf(url: URL, schema: TObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    if (name in out || (value === '' && name in schema.properties)) continue;
    out[name] = value;
  }
  check(schema, out, 'query parameter');
  return out;
}
