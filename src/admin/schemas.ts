// The admin API's shapes as TypeBox schemas: what a query may hold and what an answer holds. The
// route table (routes.ts) names them per route; the router validates queries with them and
// schema/admin-api.schema.json publishes them. The field names mirror present.ts: extend, never rename.
// A query value is a string (as it arrives). `errorMessage` ("must be …") is what a 400 says after the
// field's name, where the type alone would not say it (check.ts).
import { Type, type TProperties, type TSchema } from '@sinclair/typebox';
import { ERRORS, type ErrorCode } from '../errors.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** An answer object: every field listed, nothing else (a field added in present.ts fails the schema test). */
export const Obj = <T extends TProperties>(props: T, description?: string) => Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });
/** A free-form object (verified claims, readiness checks by name). */
export const Dict = <T extends TSchema>(value: T, description?: string) => Type.Record(Type.String(), value, description ? { description } : {});
export const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);
export const Str = Type.String();
export const NStr = Nullable(Type.String());
export const Strings = Type.Array(Type.String());
export const Time = Type.String({ format: 'date-time', description: 'ISO-8601 UTC, e.g. 2026-11-20T09:14:03.120Z' });
export const NTime = Nullable(Time);
export const Cursor = Nullable(Type.String({ description: 'Pass back verbatim as `cursor` for the next page; null on the last page.' }));

// ---------------------------------------------------------------- query parameters

/** A query: the parameters it takes; any other is a 400 naming it. */
export const Query = <T extends TProperties>(props: T) => Type.Object(props, { additionalProperties: false });

export const Limit = Type.Optional(
  Type.String({
    // 1 to 500 (MAX_LIMIT), leading zeros allowed: a whole number, never 1e2 or 0x10.
    pattern: '^0*([1-9][0-9]?|[1-4][0-9]{2}|500)$',
    description: `Page size: a whole number from 1 to ${MAX_LIMIT} (default 50).`,
    errorMessage: `must be a whole number from 1 to ${MAX_LIMIT}`,
  }),
);
export const CursorParam = Type.Optional(Type.String({ description: 'The `next_cursor` of the previous page.' }));
export const Bool = (description: string) =>
  Type.Optional(Type.Unsafe<'true' | 'false' | '1' | '0'>(Type.String({ enum: ['true', 'false', '1', '0'], description, errorMessage: 'must be true or false' })));
/** A duration back from now or an ISO time (parseSince turns it into a time, and refuses what Date.parse cannot read). */
export const SINCE_MESSAGE = 'must be a duration like 30m, 1h, 7d or an ISO time like 2026-11-20T10:00:00Z';
export const Since = Type.String({ pattern: '^([0-9]+(ms|s|m|h|d)|[0-9]{4}-[0-9]{2}-[0-9]{2}.*)$', description: 'A duration back from now (30m, 1h, 7d) or an ISO time.', errorMessage: SINCE_MESSAGE });
/** One of a few words (typed as that union); a 400 lists them ("must be one of …"), or says `errorMessage`. */
export const OneOf = <V extends string>(values: readonly V[], errorMessage?: string) =>
  Type.Unsafe<V>(Type.String({ enum: [...values], ...(errorMessage ? { errorMessage } : {}) }));
export const Reason = Type.Optional(Type.String({ description: 'Why (kept with the revocation); also accepted as {"reason": …} in the body.' }));
export const ReasonBody = Type.Object({ reason: Type.Optional(Type.String()) }, { additionalProperties: true, description: 'Optional; `?reason=` takes precedence.' });

/** Path parameters: strings, percent-decoded. */
export const Params = <T extends TProperties>(props: T) => Type.Object(props, { additionalProperties: false });

// ---------------------------------------------------------------- answers

export const ErrorAnswer = Type.Object(
  {
    error: Type.String({ description: 'A sentence for people.' }),
    code: Type.Unsafe<ErrorCode>(Type.String({ enum: Object.keys(ERRORS), description: 'A stable code from the error table (src/errors.ts, docs/request-flow.md).' })),
    param: Type.Optional(Type.String({ description: 'The parameter or body field at fault.' })),
    problems: Type.Optional(Strings),
  },
  { additionalProperties: false },
);

export const SessionKind = Type.Union([Type.Literal('session'), Type.Literal('token'), Type.Literal('service')]);
export const CertDevice = Nullable(Obj({ cert_subject: NStr, cert_fingerprint: NStr }, 'A verified TLS client certificate.'));

const sessionFields = {
  id: Str,
  kind: SessionKind,
  user_id: Str,
  email: NStr,
  name: NStr,
  idp: NStr,
  issuer: Str,
  groups: Strings,
  auth_methods: Strings,
  issued_at: Time,
  expires_at: Time,
  first_seen_at: Time,
  last_seen_at: Time,
  client_ip: NStr,
  country: NStr,
  device: CertDevice,
  status: Type.Union([Type.Literal('active'), Type.Literal('revoked'), Type.Literal('expired')]),
  active: Type.Boolean(),
  revoked_at: NTime,
  revoked_by: NStr,
  revoke_reason: NStr,
};
/** A session in a list; `apps`: the apps it reached, when the query knows them. */
export const Session = Obj({ ...sessionFields, apps: Type.Optional(Strings) });

export const Activity = Obj({ app: Str, first_seen_at: Time, last_seen_at: Time, request_count: Type.Integer(), last_path: Str });

export const Identity = Obj({
  kind: SessionKind,
  sub: Str,
  email: NStr,
  name: NStr,
  groups: Strings,
  idp: NStr,
  amr: Strings,
  auth_methods: Strings,
  issuer: Str,
  claims: Dict(Type.Unknown(), 'The verified claims, minus audit.redact_claims.'),
});

export const IdentityChange = Obj({
  time: Time,
  session_id: Str,
  groups: Nullable(Obj({ added: Strings, removed: Strings })),
  claims_changed: Strings,
  summary: Str,
  source: Str,
  version: Nullable(Type.Integer()),
  event_id: NStr,
  auth_methods: Type.Optional(Obj({ before: Strings, after: Strings })),
  revoked: Type.Optional(Obj({ reason: Str })),
  device: Type.Optional(Obj({ id: Str, before: NStr, after: Str })),
  bound_device: Type.Optional(Obj({ before: NStr, after: NStr, posture: Type.Optional(Strings), approved: Type.Optional(Type.Boolean()) })),
});

export const Decision = Obj({
  request_id: Str,
  time: Time,
  app: NStr,
  status: Nullable(Type.Integer({ description: 'What the client got; null: the app answered.' })),
  email: NStr,
  outcome: Type.Union(['allow', 'deny', 'bypass', 'unauthenticated', 'not_found', 'error'].map((o) => Type.Literal(o))),
  policy: NStr,
  reason: Str,
  reasons: Strings,
  session_id: NStr,
  method: Str,
  host: Str,
  path: Str,
  client_ip: Str,
  config_hash: Str,
  identity_version: Nullable(Type.Integer()),
});

const PostureValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
export const Posture = Dict(Obj({ value: PostureValue, reported_at: NTime, stale: Type.Boolean(), source: Type.Union([Type.Literal('report'), Type.Literal('ssf')], { description: 'report: PUT …/posture; ssf: a CAEP device-compliance-change (the compliant fact).' }) }), 'Reported facts by name.');
const Attachment = Nullable(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')]));

/** The device bound to a session (GET /admin/sessions/{id}, a policy test's what-if). */
export const BoundDevice = Nullable(
  Obj({
    id: Str,
    name: Str,
    authenticator: Obj({ attachment: Attachment, aaguid: Str, name: NStr }),
    enrolled_at: NTime,
    approved_at: NTime,
    last_assertion_at: NTime,
    posture: Posture,
  }),
);

export const Device = Obj({
  id: Str,
  name: Str,
  owner: Str,
  email: NStr,
  state: Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('revoked')]),
  authenticator: Obj({ attachment: Attachment, aaguid: Str, name: NStr, transports: Strings }),
  enrolled_at: NTime,
  approved_at: NTime,
  approved_by: NStr,
  revoked_at: NTime,
  revoked_by: NStr,
  last_assertion_at: NTime,
  posture: Posture,
  posture_reported_at: NTime,
});

export const SessionDetail = Obj({
  ...sessionFields,
  apps: Type.Array(Activity),
  identity: Identity,
  network: Obj({ login_ip: NStr, login_user_agent: NStr, login_country: NStr, last_ip: NStr, last_user_agent: NStr }),
  revocation: Nullable(Obj({ revoked_at: NTime, revoked_by: NStr, reason: NStr })),
  decisions: Type.Array(Decision),
  identity_version: Type.Integer(),
  identity_history: Type.Array(IdentityChange),
  bound_device: BoundDevice,
});

export const User = Obj({ email: Str, name: NStr, active_sessions: Type.Integer(), last_seen_at: Time });
