// The one source of truth for both config file kinds: runtime validation (ajv) and the published
// JSON Schemas (schema/*.json, for editors' YAML support) are generated from these definitions.
// TypeBox was picked because one declaration gives the JSON Schema *and* the static TS type.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const StrictObject = <T extends Parameters<typeof Type.Object>[0]>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });

/** "30s", "5m", "8h", "7d", "250ms". */
export const Duration = Type.String({
  pattern: '^[0-9]+(ms|s|m|h|d)$',
  description: 'A duration: a whole number followed by ms, s, m, h or d (e.g. 30s, 8h).',
});
/** "host:port" (IPv6 hosts in brackets). */
export const ListenAddress = Type.String({
  pattern: '^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]*):[0-9]{1,5}$',
  description: 'host:port to listen on, e.g. 127.0.0.1:8080 or [::1]:8080.',
});
const StringOrList = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]);
const Cidr = Type.String({ minLength: 1, description: 'An IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8.' });

// ---------------------------------------------------------------- app files (apps/*.yaml)

const PostureScalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
const PostureBound = Type.Union([Type.String({ minLength: 1 }), Type.Number()], { description: 'A number or a version like 14.2 (compared part by part).' });
const PostureRule = StrictObject(
  {
    fact: Type.String({ pattern: '^[a-z][a-z0-9_]*$', description: 'A posture fact: os, os_version, disk_encrypted, firewall, screen_lock, managed, serial, compliant, a posture.facts name, or ua_os, ua_os_version, ua_browser, ua_browser_version (client-claimed).' }),
    equals: Type.Optional(PostureScalar),
    in: Type.Optional(Type.Array(PostureScalar, { minItems: 1 })),
    at_least: Type.Optional(PostureBound),
    at_most: Type.Optional(PostureBound),
  },
  'A posture fact and exactly one comparison; an unknown or stale fact never matches.',
);

export const Rule = StrictObject(
  {
    everyone: Type.Optional(Type.Literal(true)),
    email: Type.Optional(StringOrList),
    email_domain: Type.Optional(StringOrList),
    group: Type.Optional(StringOrList),
    idp: Type.Optional(StringOrList),
    auth_method: Type.Optional(StringOrList),
    ip: Type.Optional(Type.Union([Cidr, Type.Array(Cidr, { minItems: 1 })])),
    country: Type.Optional(StringOrList),
    claim: Type.Optional(
      StrictObject({
        name: Type.String({ minLength: 1, description: 'Claim name; dots reach into objects (org.team).' }),
        value: Type.Union([
          Type.String(),
          Type.Number(),
          Type.Boolean(),
          Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { minItems: 1 }),
        ]),
      }),
    ),
    service_token: Type.Optional(StringOrList),
    valid_certificate: Type.Optional(Type.Literal(true)),
    device: Type.Optional(Type.Union([Type.Literal('enrolled'), Type.Literal('approved')], { description: 'The session proved an enrolled (or admin-approved) device with WebAuthn.' })),
    posture: Type.Optional(PostureRule),
  },
  'A rule: exactly one selector.',
);

export const Policy = StrictObject({
  name: Type.String({ minLength: 1 }),
  action: Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('bypass'), Type.Literal('service_auth')]),
  include: Type.Optional(Type.Array(Rule)),
  require: Type.Optional(Type.Array(Rule)),
  exclude: Type.Optional(Type.Array(Rule)),
  issuers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'service_auth: token issuers accepted besides service tokens.' })),
});

/** How requests reach an app: Gatehouse forwards them (proxy) or a proxy in front asks /.gatehouse/auth (forward_auth). */
export const AppMode = Type.Union([Type.Literal('proxy'), Type.Literal('forward_auth')]);

export const AppFile = StrictObject(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', description: 'App name: lowercase letters, digits, - and _.' }),
    hosts: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Exact host names or wildcards (*.corp.example).' }),
    paths: Type.Optional(Type.Array(Type.String({ pattern: '^/' }), { minItems: 1, description: 'Path prefixes; default [/].' })),
    upstream: Type.Optional(
      Type.String({ minLength: 1, description: 'http:// or https:// URL of the application; required unless mode is forward_auth alone.' }),
    ),
    mode: Type.Optional(
      Type.Union([...AppMode.anyOf, Type.Array(AppMode, { minItems: 1 })], {
        description: 'proxy (default): Gatehouse forwards requests to upstream; forward_auth: a proxy in front (nginx, Traefik, Caddy, Envoy) asks /.gatehouse/auth; or both as a list.',
      }),
    ),
    ca: Type.Optional(Type.String({ description: 'PEM file of the CA that signs an https upstream.' })),
    timeout: Type.Optional(Duration),
    connect_timeout: Type.Optional(Duration),
    idle_timeout: Type.Optional(Duration),
    request_timeout: Type.Optional(Type.String({ pattern: Duration.pattern, description: 'Whole request body for this app (overrides limits.request_timeout, e.g. for large uploads).' })),
    max_in_flight: Type.Optional(Type.Integer({ minimum: 1, description: 'Requests forwarded to this app at once; more get 503 (default 128, half an upstream pool).' })),
    strip_headers: Type.Optional(
      Type.Array(Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+\\*?$" }), { description: 'Client request headers never forwarded to this app, besides the built-in identity headers; a trailing * strips a prefix.' }),
    ),
    policies: Type.Array(Policy, { description: 'Evaluated in order: service_auth and bypass, then deny, then allow.' }),
    show_denial_reasons: Type.Optional(Type.Boolean()),
    identity_headers: Type.Optional(Type.Union([Type.Literal('cloudflare'), Type.Literal('pomerium'), Type.Literal('oauth2-proxy')])),
    pass_credentials: Type.Optional(Type.Boolean()),
    jwt_assertion: Type.Optional(
      Type.Boolean({ description: 'Send the signed identity assertion (X-Gatehouse-Jwt-Assertion and the identity_headers product’s copy); default true.' }),
    ),
    audience: Type.Optional(Type.String({ minLength: 1 })),
    session_duration: Type.Optional(Duration),
    identity_providers: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    websocket_origins: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Extra origins allowed to open WebSockets with a cookie.' })),
  },
  'A Gatehouse application file: one app per file.',
);

// ---------------------------------------------------------------- gateway.yaml

export const TokenIssuer = StrictObject({
  issuer: Type.String({ minLength: 1 }),
  jwks: Type.Optional(Type.String({ description: 'Local JWKS file.' })),
  jwks_uri: Type.Optional(Type.String({ description: 'Remote JWKS URL.' })),
  secret: Type.Optional(Type.String({ description: 'HMAC secret (HS* algorithms only), at least 32 bytes.' })),
  audience: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
  algorithms: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  groups_claim: Type.Optional(Type.String({ minLength: 1 })),
  email_claim: Type.Optional(Type.String({ minLength: 1 })),
  clock_tolerance: Type.Optional(Duration),
  jwks_cooldown: Type.Optional(Duration),
});

export const ServiceToken = StrictObject({
  name: Type.String({ minLength: 1 }),
  client_id: Type.String({ minLength: 1 }),
  secret_hash: Type.String({ minLength: 1, description: 'Output of `gatehouse users hash-password` for the client secret.' }),
  expires_at: Type.Optional(Type.String({ format: 'date-time' })),
});

export const IdentityProvider = StrictObject({
  id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$' }),
  type: Type.Union([Type.Literal('oidc'), Type.Literal('local_users')]),
  name: Type.Optional(Type.String()),
  issuer: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  client_secret: Type.Optional(Type.String()),
  scopes: Type.Optional(Type.Array(Type.String())),
  groups_claim: Type.Optional(Type.String()),
  end_session: Type.Optional(Type.Boolean()),
  file: Type.Optional(Type.String()),
  backchannel_logout: Type.Optional(Type.Boolean({ description: 'Serve POST /.gatehouse/backchannel-logout/{id} (OIDC Back-Channel Logout 1.0).' })),
  refresh: Type.Optional(Type.String({ pattern: Duration.pattern, description: 'Refresh the identity of sessions in use this often (refresh token + userinfo); off when unset.' })),
  refresh_max_stale: Type.Optional(Type.String({ pattern: Duration.pattern, description: 'While the IdP is unreachable, the last identity stays valid this long (default 1h).' })),
});

export const SsfReceiver = StrictObject({
  id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', description: 'Names the push endpoint: POST /.gatehouse/ssf/{id} on any app host.' }),
  issuer: Type.String({ minLength: 1, description: "The transmitter's issuer: every SET's iss must equal it." }),
  jwks_uri: Type.Optional(Type.String({ description: "The transmitter's JWKS URL (https, or http on a loopback host)." })),
  jwks: Type.Optional(Type.String({ description: "A local JWKS file with the transmitter's public keys." })),
  audience: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
    description: "What the transmitter puts in aud for this receiver (the stream's audience); one must match.",
  }),
  max_age: Type.Optional(Type.String({ pattern: Duration.pattern, description: 'How old (iat) a SET may be when it arrives; older ones are refused (default 5m).' })),
  clock_tolerance: Type.Optional(Type.String({ pattern: Duration.pattern, description: 'Allowed clock skew for iat in the future and exp (default 30s).' })),
});

export const GatewayFile = StrictObject(
  {
    listen: ListenAddress,
    tls: Type.Optional(StrictObject({ cert: Type.String(), key: Type.String(), client_ca: Type.Optional(Type.String()) })),
    public_url_scheme: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('https')])),
    workers: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    trusted_proxies: Type.Optional(Type.Array(Cidr)),
    country_header: Type.Optional(Type.String({ minLength: 1 })),
    limits: Type.Optional(
      StrictObject({
        headers_timeout: Type.Optional(Duration),
        request_timeout: Type.Optional(Duration),
        keep_alive_timeout: Type.Optional(Duration),
        max_header_size: Type.Optional(Type.Integer({ minimum: 1024 })),
        max_connections: Type.Optional(Type.Integer({ minimum: 1 })),
        drain_timeout: Type.Optional(Duration),
        drain_delay: Type.Optional(
          Type.String({
            ...Duration,
            description: 'On SIGTERM, how long /readyz fails while new connections are still accepted (answered with Connection: close), so a health check takes the instance out before a connect is refused (default 0s).',
          }),
        ),
        min_body_rate: Type.Optional(
          Type.Integer({ minimum: 0, description: 'Bytes per second, averaged over 10 s, a client must at least send a request body and read a response at (default 1024; 0: no minimum).' }),
        ),
        max_in_flight_per_ip: Type.Optional(Type.Integer({ minimum: 1, description: 'Requests one client address may have in flight at once; more get 429 (default 64).' })),
      }),
    ),
    admin: StrictObject({
      listen: ListenAddress,
      tokens_file: Type.Optional(Type.String()),
      console_host: Type.Optional(
        Type.String({ description: 'Serve the console on this host of the data listener, behind Gatehouse sign-in (console_policies decide who may see it).' }),
      ),
      console_policies: Type.Optional(
        StrictObject({
          operator: Type.Optional(Type.Array(Policy, { description: 'Who may see the console and act (revoke): the app policy language.' })),
          viewer: Type.Optional(Type.Array(Policy, { description: 'Who may see the console, read only: the app policy language.' })),
        }),
      ),
    }),
    scim: Type.Optional(
      StrictObject({
        tokens_file: Type.Optional(Type.String({ description: 'SCIM bearer tokens (lines `name: token`), besides GATEHOUSE_SCIM_TOKEN. Admin tokens do not grant SCIM.' })),
        groups: Type.Optional(
          Type.Union([Type.Literal('replace'), Type.Literal('merge')], {
            description: "A SCIM-provisioned user's SCIM groups are added to the groups the sign-in gave (merge, the default) or replace them (replace: SCIM is authoritative; a user in no SCIM group has no groups).",
          }),
        ),
      }),
    ),
    session: StrictObject({
      cookie: Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }),
      keys: Type.String(),
      duration: Type.Optional(Duration),
      cookie_domain: Type.Optional(Type.String()),
      secure_cookie: Type.Optional(Type.Boolean({ description: 'Default true; false is accepted only on a plain-http loopback listener.' })),
      cache: Type.Optional(
        StrictObject({
          max_entries: Type.Optional(Type.Integer({ minimum: 1 })),
          max_bytes: Type.Optional(Type.Integer({ minimum: 1024 })),
          max_ttl: Type.Optional(Duration),
        }),
      ),
    }),
    store: StrictObject({
      sqlite: Type.Optional(Type.String()),
      postgres: Type.Optional(Type.String()),
      postgres_tls: Type.Optional(
        StrictObject({ ca: Type.Optional(Type.String()), reject_unauthorized: Type.Optional(Type.Boolean()) }),
      ),
      queue_limit: Type.Optional(Type.Integer({ minimum: 100 })),
    }),
    apps: Type.String({ description: 'Directory of per-application YAML files.' }),
    log: Type.Optional(
      StrictObject({
        level: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))),
        format: Type.Optional(
          Type.Union([Type.Literal('json'), Type.Literal('pretty')], {
            description: 'json: JSON lines (the default when stdout is not a terminal); pretty: readable lines and a startup banner (the default on a terminal).',
          }),
        ),
      }),
    ),
    audit: Type.Optional(
      StrictObject({
        record_allowed: Type.Optional(Type.Union([Type.Literal('aggregate'), Type.Literal('all')])),
        retention: Type.Optional(Duration),
        redact_claims: Type.Optional(Type.Array(Type.String())),
      }),
    ),
    token_issuers: Type.Optional(Type.Array(TokenIssuer)),
    service_tokens: Type.Optional(Type.Array(ServiceToken)),
    identity_providers: Type.Optional(Type.Array(IdentityProvider)),
    ssf_receivers: Type.Optional(Type.Array(SsfReceiver, { description: 'Shared Signals (SSF/CAEP) transmitters whose Security Event Tokens change live sessions.' })),
    devices: Type.Optional(
      StrictObject({
        approval: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('admin')], { description: 'auto (default): an enrolled device is approved at once; admin: it is pending until an admin approves it.' })),
        rp_id: Type.Optional(Type.String({ minLength: 1, description: 'WebAuthn relying party id: a domain every app host is within (e.g. corp.example); default: each app host.' })),
      }),
    ),
    posture: Type.Optional(
      StrictObject({
        tokens_file: Type.Optional(Type.String({ description: 'Posture report tokens (lines `name: token`), besides GATEHOUSE_POSTURE_TOKEN; admin tokens also report.' })),
        max_age: Type.Optional(Duration),
        facts: Type.Optional(
          Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]*$' }), Type.Union([Type.Literal('string'), Type.Literal('boolean'), Type.Literal('number'), Type.Literal('version')]), {
            description: 'Custom posture facts and their types, e.g. {edr_running: boolean, agent_version: version}.',
          }),
        ),
      }),
    ),
    login: Type.Optional(
      StrictObject({
        host: Type.Optional(
          Type.String({ minLength: 1, description: 'Host where sign-in happens for every app (one IdP redirect URI); other domains get the session by a single-use handoff code.' }),
        ),
        lockout_threshold: Type.Optional(Type.Integer({ minimum: 1 })),
        lockout_window: Type.Optional(Duration),
        lockout_duration: Type.Optional(Duration),
      }),
    ),
  },
  'Gatehouse gateway configuration (gateway.yaml).',
);

export type RuleFile = Static<typeof Rule>;
export type PolicyFile = Static<typeof Policy>;
export type AppFileT = Static<typeof AppFile>;
export type GatewayFileT = Static<typeof GatewayFile>;
export type TokenIssuerFile = Static<typeof TokenIssuer>;
export type ServiceTokenFile = Static<typeof ServiceToken>;
export type IdentityProviderFile = Static<typeof IdentityProvider>;
export type SsfReceiverFile = Static<typeof SsfReceiver>;

export const schemas: Record<string, TSchema> = { gateway: GatewayFile, app: AppFile };
