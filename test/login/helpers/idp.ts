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
}

export interface Idp {
  issuer: string;
  port: number;
  clientId: string;
  clientSecret: string;
  /** Requests to the token endpoint, for assertions about code reuse. */
  tokenRequests: number;
}

export async function startIdp(
  t: Test,
  opts: { redirectUris: string[]; postLogoutRedirectUris?: string[]; accounts: Record<string, IdpAccount> },
): Promise<Idp> {
  let handler: http.RequestListener = (_req, res) => res.end();
  const idp: Idp = { issuer: '', port: 0, clientId: 'gatehouse', clientSecret: 'test-client-secret-0123456789abcdef', tokenRequests: 0 };
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/token')) idp.tokenRequests++;
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
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
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx: unknown, sub: string) {
      const a = opts.accounts[sub];
      if (!a) return undefined;
      return { accountId: sub, claims: () => ({ sub, ...a }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
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
