// POST /admin/policy-test as schemas: the two request forms (one identity, user or session; a
// candidate app file) and their answers. policy-test.ts takes its lists of allowed fields from here;
// its own checks (exactly one of identity/email/session_id, the app known …) stay in code, in the
// order that decides which field a 400 names.
import { Type, type TSchema } from '@sinclair/typebox';
import { BoundDevice, Dict, NStr, Nullable, Obj, OneOf, SessionKind, Since, Str, Strings, Time } from './schemas.js';

const Action = Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('bypass'), Type.Literal('service_auth')]);
const Ip = Type.String({ description: 'An IPv4 or IPv6 address.', errorMessage: 'must be an IPv4 or IPv6 address' });
const Country = Nullable(Type.String({ description: 'ISO 3166 code (upper-cased).' }));
/** Optional, and null is the same as absent. */
const Maybe = <T extends TSchema>(s: T) => Type.Optional(Nullable(s));

/** A hypothetical caller (policy-test.ts checks it with this schema, naming `identity.<field>`). */
export const IdentityIn = Obj(
  {
    email: Maybe(Str),
    name: Maybe(Str),
    sub: Maybe(Str),
    idp: Maybe(Str),
    issuer: Maybe(Str),
    kind: Maybe(OneOf(['session', 'token', 'service'] as const)),
    groups: Maybe(Strings),
    amr: Maybe(Strings),
    auth_methods: Maybe(Strings),
    claims: Maybe(Dict(Type.Unknown())),
    service_token: Maybe(Str),
    ip: Type.Optional(Ip),
    country: Type.Optional(Country),
    certificate: Type.Optional(
      Type.Object(
        { subject: Maybe(Str), fingerprint: Maybe(Str), verified: Type.Optional(Type.Boolean({ description: 'false: presented but not verified (default true).' })) },
        { description: 'A TLS client certificate.', errorMessage: 'must be an object like {"subject": "CN=…"}' },
      ),
    ),
  },
  'A hypothetical caller; every field is optional, claims default to the other fields.',
);

/** The bound device, as if (policy-test-device.ts checks it with this schema, naming `device.<field>`). */
export const DeviceIn = Obj({ approved: Type.Optional(Type.Boolean()), name: Type.Optional(Str) }, 'The bound device, as if…');

export const PolicyTestOne = Obj(
  {
    app: Type.String({ description: 'The app whose policies to test.' }),
    identity: Type.Optional(Nullable(IdentityIn)),
    email: Type.Optional(Type.String({ minLength: 1, description: "The user's latest recorded identity." })),
    session_id: Type.Optional(Type.String({ minLength: 1, description: "A recorded session's identity." })),
    ip: Type.Optional(Ip),
    country: Type.Optional(Country),
    device: Type.Optional(Nullable(DeviceIn)),
    posture: Type.Optional(Dict(Type.Unknown(), 'Posture facts laid over the device’s, typed like a report.')),
    user_agent: Type.Optional(Type.String({ description: 'A User-Agent header, parsed as a request’s.' })),
  },
  'Exactly one of identity, email and session_id.',
);

export const PolicyWhatIf = Obj(
  {
    app: Type.Optional(Type.String({ description: "If given, must equal the file's name." })),
    app_yaml: Type.String({ minLength: 1, description: 'The whole candidate app file.' }),
    since: Type.Optional({ ...Since, description: 'Whose identities to evaluate: those who used the app since (default 24h).' }),
  },
  'The what-if: a candidate app file against everyone who used the app.',
);

export const PolicyTestBody = Type.Union([PolicyTestOne, PolicyWhatIf]);

/** Field names the two forms (and an identity) accept, in the order a 400 lists them. */
export const TEST_KEYS = Object.keys(PolicyTestOne.properties);
export const WHAT_IF_KEYS = Object.keys(PolicyWhatIf.properties);
export const IDENTITY_KEYS = Object.keys(IdentityIn.properties);

export const Explanation = Obj({
  policy: Str,
  action: Action,
  matched: Type.Boolean(),
  evaluated: Type.Boolean(),
  note: Type.Optional(Str),
  rules: Type.Array(
    Obj({ clause: Type.Union([Type.Literal('include'), Type.Literal('require'), Type.Literal('exclude')]), index: Type.Integer(), selector: Str, matched: Type.Boolean(), reason: Str }),
  ),
});

/** The device part of a test's facts (policy-test-device.ts). */
export const DeviceWhatIf = Obj({
  device: BoundDevice,
  user_agent: Obj({ source: Type.Literal('user_agent'), client_claimed: Type.Literal(true), facts: Dict(Str, 'ua_os, ua_os_version, ua_browser, ua_browser_version.') }),
});

export const PolicyTestResult = Obj({
  app: Str,
  config_hash: Str,
  outcome: Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('bypass')]),
  policy: NStr,
  action: Nullable(Action),
  reason: Str,
  reasons: Strings,
  status: Type.Integer({ description: 'What the gateway would answer: 200 (forwarded), 401 or 403.' }),
  explanation: Type.Array(Explanation),
  identity: Nullable(Obj({ kind: SessionKind, sub: Str, email: NStr, groups: Strings, idp: NStr, amr: Strings, issuer: Str })),
  facts: Obj({
    ip: NStr,
    country: NStr,
    certificate: Nullable(Obj({ verified: Type.Boolean(), subject: Type.Optional(Str), fingerprint: Type.Optional(Str) })),
    ...DeviceWhatIf.properties,
  }),
  source: Obj({ from: Type.Union([Type.Literal('identity'), Type.Literal('email'), Type.Literal('session_id')]), session_id: Type.Optional(Str), issued_at: Type.Optional(Time), last_seen_at: Type.Optional(Time) }),
});

const Who = { email: NStr, user_id: Str, session_id: Str };
export const WhatIfResult = Obj({
  app: Str,
  since: Time,
  current_config_hash: Str,
  new_app: Type.Boolean(),
  evaluated: Type.Integer(),
  gained: Type.Array(Obj({ ...Who, policy: NStr })),
  lost: Type.Array(Obj({ ...Who, previous_policy: NStr, reason: Str, policy: NStr, reasons: Strings })),
  unchanged: Type.Integer(),
  truncated: Type.Optional(Type.Literal(true)),
});

export const PolicyTestAnswer = Type.Union([PolicyTestResult, WhatIfResult]);
