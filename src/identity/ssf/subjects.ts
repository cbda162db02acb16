// Subject identifiers (RFC 9493, as SSF 1.0 and CAEP 1.0 use them) → the live sessions they name.
// SSF 1.0 puts the subject in the SET's top-level `sub_id`; earlier CAEP drafts put it in each
// event's `subject` (with `subject_type` and `iss-sub` spellings). Formats:
//   email    {format: email, email}            every session with that email
//   iss_sub  {format: iss_sub, iss, sub}       every session of that subject at that issuer
//   opaque   {format: opaque, id}              one session (the gateway session id or token session id)
//   complex  {format: complex, user, session, device, …}: the session when named, else the user;
//            the device (if any) is what device-compliance-change reports on.
import type { SessionMatch } from '../changes.js';

export interface Subject {
  /** The sessions the subject names (null: it names only a device, or a tenant). */
  match: SessionMatch | null;
  /** The user, as recorded with a device's compliance (`email ann@corp.example`), '' when not named. */
  user: string;
  /** The device, when the subject names one (`opaque laptop-7`). */
  device: string | null;
  /** The complex subject's device id when its format is opaque (a Gatehouse device id, maybe). */
  deviceId?: string;
}

export type SubjectResult = { ok: true; subject: Subject } | { ok: false; description: string };

const SIMPLE = ['email', 'iss_sub', 'opaque'];
const MAX_VALUE = 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_VALUE;

function formatOf(id: Record<string, unknown>): string | null {
  const f = id.format ?? id.subject_type;
  return typeof f === 'string' ? f.replace('-', '_') : null;
}

/** A simple identifier: its match and how it is written down; or why it is not one. */
function simple(id: unknown, at: string): { match: SessionMatch; label: string } | string {
  if (!isObject(id)) return `${at} must be a subject identifier object`;
  const format = formatOf(id);
  if (format === 'email') return text(id.email) ? { match: { email: id.email }, label: `email ${id.email}` } : `${at}.email is missing`;
  if (format === 'iss_sub') {
    if (!text(id.iss) || !text(id.sub)) return `${at} (iss_sub) needs iss and sub`;
    return { match: { issuer: id.iss, subject: id.sub }, label: `iss_sub ${id.iss}|${id.sub}` };
  }
  if (format === 'opaque') return text(id.id) ? { match: { sessionId: id.id }, label: `opaque ${id.id}` } : `${at}.id is missing`;
  return `${at}: format ${JSON.stringify(format)} is not supported (${[...SIMPLE, 'complex'].join(', ')})`;
}

/** The subject of one event: the SET's sub_id, else the event's own subject. */
export function subjectOf(subId: unknown, event: Record<string, unknown>): SubjectResult {
  const [id, at] = subId !== undefined ? [subId, 'sub_id'] : [event.subject, 'subject'];
  if (id === undefined) return { ok: false, description: 'the SET names no subject (sub_id, or the event\'s subject)' };
  if (isObject(id) && formatOf(id) === 'complex') return complex(id, at);
  const s = simple(id, at);
  if (typeof s === 'string') return { ok: false, description: s };
  return { ok: true, subject: { match: s.match, user: s.label, device: null } };
}

function complex(id: Record<string, unknown>, at: string): SubjectResult {
  const part = (name: string) => (id[name] === undefined ? null : simple(id[name], `${at}.${name}`));
  const [user, session, device] = [part('user'), part('session'), part('device')];
  for (const p of [user, session, device]) if (typeof p === 'string') return { ok: false, description: p };
  const u = user as Exclude<typeof user, string>;
  const s = session as Exclude<typeof session, string>;
  const d = device as Exclude<typeof device, string>;
  if (!u && !s && !d) return { ok: false, description: `${at} (complex) names no user, session or device` };
  const deviceId = isObject(id.device) && formatOf(id.device) === 'opaque' && text(id.device.id) ? id.device.id : undefined;
  return { ok: true, subject: { match: s?.match ?? u?.match ?? null, user: u?.label ?? '', device: d?.label ?? null, ...(deviceId ? { deviceId } : {}) } };
}
