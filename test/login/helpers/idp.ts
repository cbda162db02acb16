// A real OpenID Connect provider for the tests: oidc-provider on 127.0.0.1:0 with its built-in dev
// login/consent forms (any login name signs in as that account), PKCE required, end-session on.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

type ProviderClass = new (issuer: string, configuration: Record<string, unknown>) => {
  callback(): http.RequestListener;
};

export interface IdpAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
  /** Any other claim the account has (released when `extraClaims` names it). */
  [claim: string]: unknown;
}

export interface Idp {
  issuer: string;
  port: number;
  clientId: string;
  clientSecret: string;
  /** Requests to the token endpoint, for assertions about code reuse. */
  tokenRequests: number;
  /** Every refresh token the token endpoint issued (to prove none is stored or shown in clear). */
  refreshTokens: string[];
  /** Logout tokens the IdP sent to back-channel logout URIs, oldest first. */
  logoutTokens: string[];
  /** Stops answering (connections refused): the IdP is unreachable. */
  stop(): Promise<void>;
}

export interface IdpOptions {
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  accounts: Record<string, IdpAccount>;
  /** Registered for the client: the IdP POSTs logout tokens there when a user signs out. */
  backchannelLogoutUri?: string;
  /** Logout tokens (and ID tokens) carry sid (default true when a back-channel URI is set). */
  backchannelSessionRequired?: boolean;
  /** Host name → port on 127.0.0.1 for the IdP's own outgoing requests (back-channel logout). */
  resolve?: Record<string, number>;
  /** The client may use refresh tokens (the refresh_token grant; issued with offline_access or not). */
  refreshTokens?: boolean;
  /** More claims released with the scopes the gateway asks for anyway (e.g. department with profile). */
  extraClaims?: string[];
  /** Signing keys (private JWKs), so a test can sign tokens as the IdP. */
  jwks?: { keys: Array<Record<string, unknown>> };
}

export async function startIdp(t: Test, opts: IdpOptions): Promise<Idp> {
  let handler: http.RequestListener = (_req, res) => res.end();
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/token')) {
      idp.tokenRequests++;
      keepRefreshTokens(res, idp.refreshTokens);
    }
    handler(req, res);
  });
  const stop = () => {
    server.closeAllConnections();
    return new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
  };
  const idp: Idp = { issuer: '', port: 0, clientId: 'gatehouse', clientSecret: 'test-client-secret-0123456789abcdef', tokenRequests: 0, refreshTokens: [], logoutTokens: [], stop };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(stop);
  idp.port = (server.address() as AddressInfo).port;
  idp.issuer = `http://127.0.0.1:${idp.port}`;

  quietOidcProvider(t);
  // Imported once quiet: it warns about the Node version at import time. (By name, untyped: the
  // package ships no type declarations; ProviderClass is the little the tests use.)
  const pkg = 'oidc-provider';
  const { default: Provider } = (await import(pkg)) as { default: ProviderClass };
  const provider = new Provider(idp.issuer, {
    clients: [
      {
        client_id: idp.clientId,
        client_secret: idp.clientSecret,
        redirect_uris: opts.redirectUris,
        post_logout_redirect_uris: opts.postLogoutRedirectUris ?? [],
        response_types: ['code'],
        grant_types: opts.refreshTokens ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
        ...(opts.backchannelLogoutUri
          ? { backchannel_logout_uri: opts.backchannelLogoutUri, backchannel_logout_session_required: opts.backchannelSessionRequired ?? true }
          : {}),
      },
    ],
    ...(opts.jwks ? { jwks: opts.jwks } : {}),
    // Like Keycloak and Entra ID: a client allowed the refresh_token grant gets refresh tokens
    // (oidc-provider's default wants offline_access with prompt=consent).
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    // The IdP's outgoing requests (back-channel logout) reach the test's gateways on 127.0.0.1.
    fetch: (url: string, init: { method?: string; headers?: Headers; body?: unknown }) => localFetch(url, init, opts.resolve ?? {}, idp.logoutTokens),
    async findAccount(_ctx: unknown, sub: string) {
      const a = opts.accounts[sub];
      if (!a) return undefined;
      return { accountId: sub, claims: () => ({ sub, ...a }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', ...(opts.extraClaims ?? [])], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true }, backchannelLogout: { enabled: opts.backchannelLogoutUri !== undefined } },
    pkce: { required: () => true },
    cookies: { keys: ['test-cookie-key-0123456789'] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  });
  handler = provider.callback();
  return idp;
}

/** oidc-provider prints development-mode notices on the console; the tests know. */
function quietOidcProvider(t: Test): void {
  const { warn, info } = console;
  const quiet =
    (orig: (...a: unknown[]) => void) =>
    (...a: unknown[]) => {
      if (typeof a[0] === 'string' && a[0].startsWith('oidc-provider')) return;
      orig(...a);
    };
  console.warn = quiet(warn);
  console.info = quiet(info);
  t.teardown(() => {
    console.warn = warn;
    console.info = info;
  });
}

/** Notes each refresh_token in the token endpoint's JSON answers. */
function keepRefreshTokens(res: http.ServerResponse, into: string[]): void {
  const end = res.end.bind(res) as (...a: unknown[]) => http.ServerResponse;
  res.end = ((...a: unknown[]) => {
    const body = a[0];
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      const token = /"refresh_token":"([^"]+)"/.exec(body.toString())?.[1];
      if (token) into.push(token);
    }
    return end(...a);
  }) as typeof res.end;
}

/** fetch() for the IdP's outgoing requests: to 127.0.0.1 (host names mapped to ports), Host kept. */
function localFetch(url: string, init: { method?: string; headers?: Headers; body?: unknown }, resolve: Record<string, number>, logoutTokens: string[]): Promise<Response> {
  const u = new URL(url);
  const port = resolve[u.hostname] ?? Number(u.port || 80);
  const body = init.body === undefined ? '' : String(init.body);
  const token = new URLSearchParams(body).get('logout_token');
  if (token) logoutTokens.push(token);
  const headers: Record<string, string> = { ...Object.fromEntries(init.headers?.entries() ?? []), host: u.host, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((done, fail) => {
    const req = http.request({ host: '127.0.0.1', port, method: init.method ?? 'GET', path: u.pathname + u.search, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 500 })));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}
