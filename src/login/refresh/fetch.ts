// The HTTP client openid-client uses for one identity provider (its `customFetch`): one undici
// Agent per provider, keep-alive, and undici's request() instead of the WHATWG fetch. A background
// refresh is two round trips to the IdP (token, userinfo); through fetch each one cost ~0.2 ms more
// CPU (WHATWG streams, Headers, AbortSignal plumbing) than request() does for the same exchange
// (bench/refresh-load.mjs). The semantics openid-client relies on stay: no redirect is followed
// (its `redirect: 'manual'`; request() follows none), its timeout signal aborts the request, and it
// gets a real Response (status, headers, body) to check exactly as before.
import { createRequire } from 'node:module';
import type { Agent as UndiciAgent, Dispatcher } from 'undici';

// Only undici's Agent and its request API: the package's entry point also loads fetch, WebSocket,
// the cache and mock layers, ~4.6 MiB of heap in every gateway process (measured) for nothing used.
const require = createRequire(import.meta.url);
const Agent = require('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
const request = require('undici/lib/api/api-request.js') as (this: Dispatcher, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

/** Idle keep-alive connections to the IdP stay open this long (the server may close them sooner). */
const KEEP_ALIVE_MS = 30_000;

export interface IdpFetch {
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  close(): void;
}

export function idpFetch(): IdpFetch {
  const agent = new Agent({ keepAliveTimeout: KEEP_ALIVE_MS, keepAliveMaxTimeout: KEEP_ALIVE_MS });
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const method = (init.method ?? 'GET') as 'GET' | 'POST' | 'HEAD';
    const body = init.body === undefined || init.body === null ? undefined : bodyText(init.body);
    const target = new URL(url);
    const res = await request.call(agent, {
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method,
      headers: init.headers as Record<string, string> | undefined,
      body,
      signal: init.signal ?? undefined,
    });
    const bytes = await res.body.arrayBuffer();
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const one of v) headers.append(k, one);
      else headers.set(k, v);
    }
    const empty = res.statusCode === 204 || res.statusCode === 304 || method === 'HEAD';
    return new Response(empty ? null : bytes, { status: res.statusCode, headers });
  };
  return { fetch, close: () => void agent.close().catch(() => {}) };
}

/** openid-client sends a form (URLSearchParams) or a string; anything else is refused, never guessed. */
function bodyText(body: NonNullable<RequestInit['body']>): string {
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  throw new TypeError('identity provider request: unsupported body type');
}
