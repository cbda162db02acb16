// Every route of the admin listener in one table: method and path, what it takes (path parameters,
// query, body) and what it answers, as TypeBox schemas. The router validates path parameters and
// queries with them before a handler runs; `npm run schema` publishes them as
// schema/admin-api.schema.json; docs/admin-api.md lists exactly these routes (a test checks both).
// A new route: one entry here, then `router.add('<METHOD> <path>', handler)` where its deps live.
// Mounted APIs (SCIM, the console) are not routes: they answer for themselves.
import { Type, type TSchema } from '@sinclair/typebox';
import { Policy } from '../config/schema.js';
import { PolicyTestAnswer, PolicyTestBody } from './schemas-policy.js';
import { ADMIN_ACTION_KINDS } from '../store/action-types.js';
import {
  Activity, Bool, Cursor, CursorParam, Decision, Device, Dict, Identity, IdentityChange, Limit, NStr, NTime, Nullable, Obj, OneOf, Params, Query, Reason,
  ReasonBody, Session, SessionDetail, Since, Str, Strings, Time, User,
} from './schemas.js';

export interface RouteSpec {
  /** One line: what the route does (the docs' table says the same). */
  summary: string;
  /** Answered without the admin token (health checks, or a route with its own auth). */
  open?: boolean;
  params?: TSchema;
  query?: TSchema;
  /** The JSON body (documentation; the handler checks it, naming the field at fault). */
  body?: TSchema;
  /** The answer (200, or 201 for a creation); errors are ErrorAnswer. */
  response: TSchema;
  /** Not JSON: the answer's media type. */
  contentType?: string;
}

const route = <S extends RouteSpec>(s: S): S => s;
const AdminActionAnswer = Obj({
  id: Type.Integer(),
  time: Time,
  actor: Str,
  action: OneOf(ADMIN_ACTION_KINDS),
  target: Str,
  reason: NStr,
  request_id: Str,
  via: OneOf(['api', 'console'] as const),
  detail: Nullable(Dict(Type.Unknown())),
});
const Id = Params({ id: Str });
const Email = Params({ email: Str });
const AppName = Params({ name: Type.String({ description: 'An app of the running configuration.' }) });
const Page = Query({ limit: Limit, cursor: CursorParam });
const OnlyReason = Query({ reason: Reason });
const SessionWithActivity = Obj({ ...Session.properties, activity: Activity });
const Aggregate = Nullable(Obj({ request_count: Type.Integer(), first_seen_at: Time, last_seen_at: Time, last_path: Str }));
const NotRecorded = Type.Union([
  Obj({ outcome: Type.Null(), note: Str }),
  Obj({ outcome: Str, note: Str, time: Time, app: Str, session_id: NStr, email: NStr, aggregate: Aggregate }),
]);
const Lockout = Obj({ key: Str, kind: Type.Union([Type.Literal('user'), Type.Literal('ip')]), until: Time, failures: Type.Integer() });
const ConfigApp = Obj({ name: Str, hosts: Strings, paths: Strings, upstream: NStr, mode: Strings, file: Str, policies: Type.Array(Policy) });
export const DEVICE_STATES = ['pending', 'approved', 'revoked'] as const;
export const OUTCOMES = ['allow', 'deny', 'bypass', 'unauthenticated', 'not_found', 'error'] as const;

export const ADMIN_ROUTES = {
  // ------------------------------------------------------------ operations (open)
  'GET /healthz': route({ summary: 'liveness', open: true, response: Obj({ status: Type.Literal('ok'), uptime_s: Type.Integer() }) }),
  'GET /readyz': route({
    summary: 'readiness: config, store, token issuers (503 when not ready)',
    open: true,
    response: Obj({ ready: Type.Boolean(), checks: Dict(Obj({ ok: Type.Boolean(), detail: Type.Optional(Str) })) }),
  }),
  'GET /metrics': route({ summary: 'Prometheus metrics', open: true, contentType: 'text/plain', response: Type.String({ description: 'Prometheus text format.' }) }),
  'GET /admin/config': route({
    summary: "the running configuration's hash, apps (with their policies), reload status, redact_claims",
    response: Obj({
      hash: Str,
      loaded_at: Time,
      file: Str,
      apps: Type.Array(ConfigApp),
      reloads: Type.Integer(),
      failed_reloads: Type.Integer(),
      last_reload_error: Nullable(Obj({ at: Time, problems: Strings })),
      pending_restart: Strings,
      redact_claims: Strings,
    }),
  }),
  'GET /admin/schema': route({ summary: 'this API as JSON Schemas (schema/admin-api.schema.json)', response: Dict(Type.Unknown()) }),

  // ------------------------------------------------------------ sessions, users, apps
  'GET /admin/sessions': route({
    summary: 'sessions, most recently seen first',
    query: Query({
      email: Type.Optional(Type.String({ description: 'Exact, case-insensitive.' })),
      user: Type.Optional(Type.String({ description: 'The sub, or a service token’s name.' })),
      app: Type.Optional(Type.String({ description: 'Sessions that reached that app.' })),
      idp: Type.Optional(Type.String({ description: 'The identity provider id, exactly.' })),
      group: Type.Optional(Type.String({ description: 'Sessions whose groups include it, exactly.' })),
      country: Type.Optional(Type.String({ description: 'The sign-in country (country_header), case-insensitive.' })),
      device: Type.Optional(Type.String({ description: 'An enrolled device id: sessions bound to it; none: sessions bound to no device.' })),
      since: Type.Optional(Since),
      active: Bool('true: not revoked and not expired; false: revoked or expired.'),
      count: Bool('true: the answer adds total, the sessions matching the filters over every page (at most 10,000).'),
      limit: Limit,
      cursor: CursorParam,
    }),
    response: Obj({
      sessions: Type.Array(Session),
      next_cursor: Cursor,
      total: Type.Optional(Type.Integer({ description: 'With count=true: how many sessions match, up to 10,000.' })),
      total_capped: Type.Optional(Type.Boolean({ description: 'With count=true: more than total match.' })),
    }),
  }),
  'GET /admin/sessions/:id': route({ summary: 'one session: identity, network, device, per-app activity, recent decisions', params: Id, response: SessionDetail }),
  'DELETE /admin/sessions/:id': route({
    summary: 'revoke one session',
    params: Id,
    query: OnlyReason,
    body: ReasonBody,
    response: Obj({ revoked: Type.Literal(true), id: Str, revoked_at: Time, revoked_by: Str, reason: Str }),
  }),
  'GET /admin/users': route({ summary: 'users with their active-session counts', query: Page, response: Obj({ users: Type.Array(User), next_cursor: Cursor }) }),
  'GET /admin/users/:email': route({
    summary: 'latest identity, identity history, sessions',
    params: Email,
    response: Obj({
      email: Str,
      name: NStr,
      active_sessions: Type.Integer(),
      last_seen_at: Time,
      identity: Obj({ ...Identity.properties, session_id: Str, issued_at: Time }),
      history: Type.Array(IdentityChange),
      sessions: Type.Array(Session),
      sessions_next_cursor: Cursor,
    }),
  }),
  'DELETE /admin/users/:email/sessions': route({
    summary: 'log a user out everywhere',
    params: Email,
    query: OnlyReason,
    body: ReasonBody,
    response: Obj({ email: Str, revoked: Strings, revoked_at: Time }),
  }),
  'GET /admin/apps/:name/sessions': route({
    summary: 'who is using an app right now',
    params: AppName,
    query: Page,
    response: Obj({ app: Str, revoked_before: NTime, sessions: Type.Array(SessionWithActivity), next_cursor: Cursor }),
  }),
  'POST /admin/apps/:name/revoke': route({
    summary: 'everyone must sign in again to use the app',
    params: AppName,
    query: OnlyReason,
    body: ReasonBody,
    response: Obj({ app: Str, revoked: Type.Literal(true), revoked_before: Time }),
  }),

  // ------------------------------------------------------------ decisions and policy tests
  'GET /admin/decisions': route({
    summary: 'denials, unauthenticated requests and error pages, with their reasons',
    query: Query({
      request_id: Type.Optional(Str),
      email: Type.Optional(Str),
      app: Type.Optional(Str),
      outcome: Type.Optional(OneOf(OUTCOMES)),
      since: Type.Optional(Since),
      session_id: Type.Optional(Str),
      limit: Limit,
      cursor: CursorParam,
    }),
    response: Obj({ decisions: Type.Array(Decision), next_cursor: Cursor, not_recorded: Type.Optional(NotRecorded) }),
  }),
  'POST /admin/policy-test': route({
    summary: "evaluate an app's policies for an identity, a user or a session, or a candidate app file against everyone who used the app",
    body: PolicyTestBody,
    response: PolicyTestAnswer,
  }),

  // ------------------------------------------------------------ sign-in lockouts (login/admin.ts)
  'GET /admin/login/lockouts': route({ summary: 'sign-in lockouts', query: Page, response: Obj({ lockouts: Type.Array(Lockout), next_cursor: Cursor }) }),
  'DELETE /admin/login/lockouts/:kind/:key': route({
    summary: 'lift a sign-in lockout',
    params: Params({ kind: OneOf(['user', 'ip'] as const, 'must be user or ip'), key: Str }),
    query: OnlyReason,
    body: ReasonBody,
    response: Obj({ unlocked: Obj({ kind: Str, key: Str }) }),
  }),

  // ------------------------------------------------------------ devices (devices/admin.ts)
  'GET /admin/devices': route({
    summary: 'devices, by state or owner',
    query: Query({ state: Type.Optional(OneOf(DEVICE_STATES)), owner: Type.Optional(Type.String({ description: 'The owner’s email (case-insensitive).' })) }),
    response: Obj({ devices: Type.Array(Device) }),
  }),
  'GET /admin/devices/:id': route({ summary: 'one device: owner, name, authenticator, times, posture', params: Id, response: Device }),
  'POST /admin/devices/:id/approve': route({ summary: 'approve a device', params: Id, query: OnlyReason, body: ReasonBody, response: Device }),
  'POST /admin/devices/:id/revoke': route({ summary: 'revoke a device', params: Id, query: OnlyReason, body: ReasonBody, response: Device }),
  'PUT /admin/devices/:id/posture': route({
    summary: "report a device's posture facts (admin or posture token)",
    open: true,
    params: Id,
    body: Dict(Type.Unknown(), 'Facts by name (see docs/devices.md).'),
    response: Device,
  }),

  // ------------------------------------------------------------ the admin actions audit (admin/actions.ts)
  'GET /admin/actions': route({
    summary: 'the admin actions audit: every revocation, device approval and lockout lift made through this API or the console',
    query: Query({
      actor: Type.Optional(Type.String({ description: 'admin:<token name> or console:<email>, exactly.' })),
      action: Type.Optional(OneOf(ADMIN_ACTION_KINDS)),
      target: Type.Optional(Type.String({ description: 'A session id, email, app name, device id, user:<key> or ip:<key>, exactly.' })),
      limit: Limit,
      cursor: CursorParam,
    }),
    response: Obj({ actions: Type.Array(AdminActionAnswer), next_cursor: Cursor }),
  }),
} satisfies Record<string, RouteSpec>;

export type RouteKey = keyof typeof ADMIN_ROUTES;
export const ROUTE_KEYS = Object.keys(ADMIN_ROUTES) as RouteKey[];

/** 'GET /admin/sessions/:id' → { method: 'GET', path: '/admin/sessions/:id' }. */
export function splitKey(key: string): { method: string; path: string } {
  const at = key.indexOf(' ');
  return { method: key.slice(0, at), path: key.slice(at + 1) };
}
