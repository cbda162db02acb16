// One OpenID Connect identity provider, through openid-client's functional API: discovery (lazy,
// retried after a cooldown, so an IdP that is down at start does not stop the gateway), the
// authorization URL with PKCE + state + nonce, the code exchange with ID token validation, userinfo,
// and the end-session URL. Plain-http issuers are accepted on loopback hosts only.
import * as client from 'openid-client';
import type { IdentityProviderConfig } from '../config/types.js';
import { isLoopbackHost } from '../config/hosts.js';
import type { Logger } from '../log.js';
import { mapOidcClaims, type ClaimsResult } from './claims.js';
import { idpFetch } from './refresh/fetch.js';

const DISCOVERY_RETRY_MS = 5_000;
const HTTP_TIMEOUT_SEC = 10;

export interface AuthRequest {
  url: URL;
  state: string;
  nonce: string;
  verifier: string;
}

/** A sign-in's identity, the IdP's session id (`sid`, for back-channel logout) and refresh token (never logged). */
export type SignInResult = ClaimsResult & { sid: string | null; refreshToken: string | null };

export interface FlowChecks {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
}

export class OidcProvider {
  readonly type = 'oidc' as const;
  private config: client.Configuration | null = null;
  private pending: Promise<client.Configuration> | null = null;
  private failedAt = 0;
  private lastError: unknown = null;
  /** One keep-alive connection pool per provider, for every request to it (refresh/fetch.ts). */
  private readonly http = idpFetch();

  constructor(
    readonly cfg: IdentityProviderConfig,
    private readonly logger: Logger,
  ) {}

  get id(): string {
    return this.cfg.id;
  }

  /** Starts discovery in the background; a failure is logged and retried on first use. */
  start(): void {
    this.configuration().catch((err: unknown) =>
      this.logger.warn({ idp: this.id, issuer: this.cfg.issuer, error: describe(err) }, 'identity provider discovery failed; retrying at the next sign-in'),
    );
  }

  /** The discovered configuration; throws while the provider is unreachable (after a cooldown). */
  configuration(now = Date.now()): Promise<client.Configuration> {
    if (this.config) return Promise.resolve(this.config);
    if (this.pending) return this.pending;
    if (now - this.failedAt < DISCOVERY_RETRY_MS) return Promise.reject(this.lastError);
    this.pending = this.discover().then(
      (c) => {
        this.config = c;
        this.pending = null;
        return c;
      },
      (err: unknown) => {
        this.failedAt = Date.now();
        this.lastError = err;
        this.pending = null;
        throw err;
      },
    );
    return this.pending;
  }

  private async discover(): Promise<client.Configuration> {
    const issuer = new URL(this.cfg.issuer ?? '');
    const insecure = issuer.protocol === 'http:';
    // The config check already refuses this; kept here so the rule holds whoever builds the config.
    if (insecure && !isLoopbackHost(issuer.hostname)) throw new Error(`${issuer.href}: http issuers are accepted only on loopback hosts`);
    const execute = insecure ? [client.allowInsecureRequests] : [];
    const secret = this.cfg.clientSecret ?? '';
    let c = await client.discovery(issuer, this.cfg.clientId ?? '', secret, client.ClientSecretBasic(secret), { execute, timeout: HTTP_TIMEOUT_SEC, [client.customFetch]: this.http.fetch });
    // client_secret_basic is the spec's default; switch to _post for a provider that only has that.
    const methods = c.serverMetadata().token_endpoint_auth_methods_supported;
    if (methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')) {
      c = new client.Configuration(c.serverMetadata(), this.cfg.clientId ?? '', secret, client.ClientSecretPost(secret));
      if (insecure) client.allowInsecureRequests(c);
      c.timeout = HTTP_TIMEOUT_SEC;
      c[client.customFetch] = this.http.fetch;
    }
    return c;
  }

  /** The URL to send the browser to, with fresh state, nonce and PKCE verifier. */
  async authorizationRequest(redirectUri: string): Promise<AuthRequest> {
    const c = await this.configuration();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(c, {
      redirect_uri: redirectUri,
      scope: this.scope(),
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url, state, nonce, verifier };
  }

  /** The scopes to ask for: offline_access too when identities are refreshed (a refresh token). */
  private scope(): string {
    const scopes = this.cfg.refreshMs !== undefined && !this.cfg.scopes.includes('offline_access') ? [...this.cfg.scopes, 'offline_access'] : this.cfg.scopes;
    return scopes.join(' ');
  }

  /**
   * The callback: checks state, exchanges the code (with the PKCE verifier), validates the ID token
   * (signature, iss, aud, exp, nonce) and merges userinfo. Throws on any protocol failure.
   */
  async finish(query: string, checks: FlowChecks): Promise<SignInResult> {
    const c = await this.configuration();
    const current = new URL(checks.redirectUri);
    current.search = query;
    const tokens = await client.authorizationCodeGrant(c, current, {
      pkceCodeVerifier: checks.verifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims() as Record<string, unknown> | undefined;
    if (!idClaims) throw new Error('no ID token in the token response');
    let userinfo: Record<string, unknown> | null = null;
    if (c.serverMetadata().userinfo_endpoint && tokens.access_token) {
      try {
        userinfo = (await client.fetchUserInfo(c, tokens.access_token, idClaims.sub as string)) as Record<string, unknown>;
      } catch (err) {
        // Sign-in goes on with the ID token's claims; policies that need userinfo claims will deny,
        // and /.gatehouse/identity shows what was received.
        this.logger.warn({ idp: this.id, error: describe(err) }, 'userinfo request failed; using the ID token claims only');
      }
    }
    const sid = typeof idClaims.sid === 'string' && idClaims.sid !== '' ? idClaims.sid : null;
    return { ...mapOidcClaims(idClaims, userinfo, this.cfg), sid, refreshToken: tokens.refresh_token ?? null };
  }

  /** The IdP's end-session URL, when it has one and end_session is not disabled. */
  endSessionUrl(postLogoutRedirectUri: string): URL | null {
    if (!this.cfg.endSession || !this.config?.serverMetadata().end_session_endpoint) return null;
    return client.buildEndSessionUrl(this.config, { post_logout_redirect_uri: postLogoutRedirectUri });
  }

  close(): void {
    this.http.close();
  }
}

/** A log-safe description of an openid-client error: its code and message, never a token. */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const oauthError = (err as { error?: unknown }).error;
  return [typeof code === 'string' ? code : null, typeof oauthError === 'string' ? oauthError : null, err.message].filter(Boolean).join(': ');
}
