// CAEP 1.0 events → live identity changes, all through IdentityChanges with source `ssf` and the
// SET's jti as the event id. Every event of a SET is read and checked before any is applied, so a
// SET with one bad event changes nothing.
//   session-revoked           revoke the sessions
//   credential-change         update / revoke / delete: revoke the sessions (the credential they
//                             were signed in with may be the one that changed); create: nothing
//   token-claims-change       the new claims replace the session's (groups and name included)
//   assurance-level-change    RFC8176 namespace: the session's amr; any other: the acr claim
//   device-compliance-change  the device's status, stored per user and device, and on the sessions;
//                             a Gatehouse device it names gets its `compliant` fact (device-compliance.ts)
//   ssf verification          nothing (the transmitter checks the stream)
// Other event types are accepted and ignored, as RFC 8417 asks of a recipient that does not
// understand them.
import { PER_TOKEN_CLAIMS } from '../../store/identity-diff.js';
import type { EventStore } from '../../store/event-types.js';
import type { IdentityChanges, IdentityPatch } from '../changes.js';
import { subjectOf, type Subject } from './subjects.js';
import { applyDeviceCompliance, type DeviceCompliance } from './device-compliance.js';

export const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
export const SSF_VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

type Action =
  | { kind: 'revoke'; subject: Subject; reason: string }
  | { kind: 'update'; subject: Subject; patch: IdentityPatch }
  | { kind: 'device'; subject: Subject; status: string }
  | { kind: 'none'; note: string };

export interface PlannedEvent {
  /** The event's short name (session-revoked …, or `other`): a metric label. */
  name: string;
  action: Action;
}

/** Claims a token-claims-change may not set: who the session is, and per-token values. */
const FIXED_CLAIMS = new Set(['iss', 'sub', 'aud', 'email', 'idp', 'sid', ...PER_TOKEN_CLAIMS]);
const CHANGE_TYPES = new Set(['create', 'revoke', 'update', 'delete']);
const COMPLIANCE = new Set(['compliant', 'not-compliant']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Each event's action, or the first problem (nothing is applied then). */
export function planEvents(events: Record<string, Record<string, unknown>>, subId: unknown): PlannedEvent[] | string {
  const planned: PlannedEvent[] = [];
  for (const [type, event] of Object.entries(events)) {
    if (type === SSF_VERIFICATION) {
      planned.push({ name: 'verification', action: { kind: 'none', note: 'stream verification' } });
      continue;
    }
    if (!type.startsWith(CAEP)) {
      planned.push({ name: 'other', action: { kind: 'none', note: `${type} ignored` } });
      continue;
    }
    const name = type.slice(CAEP.length);
    const known = ['session-revoked', 'credential-change', 'token-claims-change', 'assurance-level-change', 'device-compliance-change'];
    if (!known.includes(name)) {
      planned.push({ name: 'other', action: { kind: 'none', note: `${name} ignored` } });
      continue;
    }
    const subject = subjectOf(subId, event);
    if (!subject.ok) return `${name}: ${subject.description}`;
    const action = actionFor(name, event, subject.subject);
    if (typeof action === 'string') return `${name}: ${action}`;
    planned.push({ name, action });
  }
  return planned;
}

function actionFor(name: string, e: Record<string, unknown>, subject: Subject): Action | string {
  const why = reasonAdmin(e);
  if (name === 'session-revoked') return { kind: 'revoke', subject, reason: `ssf session-revoked${why}` };
  if (name === 'credential-change') {
    if (typeof e.credential_type !== 'string' || typeof e.change_type !== 'string' || !CHANGE_TYPES.has(e.change_type)) {
      return 'needs credential_type and change_type (create, revoke, update or delete)';
    }
    if (e.change_type === 'create') return { kind: 'none', note: `a new ${e.credential_type} credential: sessions stay` };
    return { kind: 'revoke', subject, reason: `ssf credential-change ${e.credential_type} ${e.change_type}${why}` };
  }
  if (name === 'token-claims-change') {
    if (!isObject(e.claims)) return 'needs claims (an object)';
    return { kind: 'update', subject, patch: claimsPatch(e.claims) };
  }
  if (name === 'assurance-level-change') {
    const level = e.current_level;
    if (typeof e.namespace !== 'string' || !(typeof level === 'string' || strings(level))) return 'needs namespace and current_level';
    if (e.namespace === 'RFC8176') return { kind: 'update', subject, patch: { amr: typeof level === 'string' ? [level] : level } };
    return { kind: 'update', subject, patch: { claims: { acr: level } } };
  }
  if (typeof e.current_status !== 'string' || !COMPLIANCE.has(e.current_status)) return 'current_status must be compliant or not-compliant';
  return { kind: 'device', subject, status: e.current_status };
}

function claimsPatch(claims: Record<string, unknown>): IdentityPatch {
  const patch: IdentityPatch = {};
  const set: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(claims)) {
    if (FIXED_CLAIMS.has(k)) continue;
    if (k === 'groups' && strings(v)) patch.groups = { mode: 'replace', values: v };
    else if (k === 'name' && typeof v === 'string') patch.name = v;
    else set[k] = v;
  }
  if (Object.keys(set).length > 0) patch.claims = set;
  return patch;
}

/** CAEP's reason_admin (a language map), for the revocation reason: ` (Account compromised)`. */
function reasonAdmin(e: Record<string, unknown>): string {
  const r = e.reason_admin;
  const text = isObject(r) ? (Object.values(r).find((v) => typeof v === 'string') as string | undefined) : undefined;
  return text ? ` (${text.slice(0, 200)})` : '';
}

export interface AppliedEvent {
  name: string;
  /** What it did: `2 sessions revoked`, `1 session updated`, `device opaque d-1 compliant`, a note. */
  outcome: string;
}

/** Applies the planned events in order; a store failure rejects (the rest is not applied). */
export async function applyEvents(planned: PlannedEvent[], changes: IdentityChanges, events: EventStore, jti: string, devices?: DeviceCompliance): Promise<AppliedEvent[]> {
  const done: AppliedEvent[] = [];
  for (const { name, action } of planned) {
    const count = (n: number, what: string) => `${n} session${n === 1 ? '' : 's'} ${what}`;
    if (action.kind === 'none') done.push({ name, outcome: action.note });
    else if (!action.subject.match && action.kind !== 'device') done.push({ name, outcome: 'the subject names no user or session' });
    else if (action.kind === 'revoke') done.push({ name, outcome: count((await changes.revoke(action.subject.match!, 'ssf', action.reason, jti)).length, 'revoked') });
    else if (action.kind === 'update') done.push({ name, outcome: count(await changes.update(action.subject.match!, action.patch, 'ssf', jti), 'updated') });
    else {
      const own = await applyDeviceCompliance(devices, action.subject, action.status, jti);
      // An opaque subject that is a Gatehouse device names the device (its label, `opaque dev_…`), not a session.
      const subject = own?.subjectIsDevice ? { ...action.subject, match: null, user: '', device: action.subject.user } : action.subject;
      const device = subject.device ?? '(unnamed)';
      await events.setDeviceCompliance({ subject: subject.user, device, status: action.status, time: Date.now(), source: 'ssf', eventId: jti });
      const n = subject.match ? await changes.update(subject.match, { device: { id: device, compliance: action.status } }, 'ssf', jti) : 0;
      done.push({ name, outcome: `device ${device} ${action.status}; ${count(n, 'updated')}${own ? `; ${own.outcome}` : ''}` });
    }
  }
  return done;
}
