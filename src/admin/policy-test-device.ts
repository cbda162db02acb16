// POST /admin/policy-test with device facts: "would Ann's laptop pass if its OS were updated?".
// `device` sets or removes the bound device ({approved, name} or null), `posture` lays facts over
// its reported ones (typed like a report, reported now), `user_agent` is parsed like a request's.
import { HttpError } from './router.js';
import { BUILTIN_POSTURE_FACTS } from '../config/resolve-devices.js';
import { DEFAULT_POSTURE_MAX_AGE_MS } from '../policy/device-selectors.js';
import type { GatewayConfig } from '../config/types.js';
import type { DeviceFacts, Identity, RequestFacts } from '../policy/types.js';
import { parseReport, ReportError } from '../policy/posture-report.js';
import { agentFacts } from '../policy/user-agent.js';
import { presentBoundDevice } from './present-device.js';
import type { Static } from '@sinclair/typebox';
import { DeviceIn, type DeviceWhatIf } from './schemas-policy.js';
import { check } from './check.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function hypothetical(given: Record<string, unknown>, now: number): DeviceFacts {
  check(DeviceIn, given, 'field', 'device.');
  return { id: 'policy-test', name: (given.name as string | undefined) ?? 'what-if device', attachment: null, aaguid: '00000000-0000-0000-0000-000000000000', enrolledAt: now, approvedAt: given.approved === false ? null : now, lastAssertionAt: now, posture: {} };
}

/** Applies the body's device fields to the identity and facts; returns what the answer shows of them. */
export function deviceWhatIf(identity: Identity | null, facts: RequestFacts, body: Record<string, unknown>, config: GatewayConfig): Static<typeof DeviceWhatIf> {
  const maxAge = config.posture?.maxAgeMs;
  if (maxAge !== undefined) facts.postureMaxAgeMs = maxAge;
  if (body.user_agent !== undefined) {
    if (typeof body.user_agent !== 'string') throw new HttpError(400, 'user_agent must be a User-Agent string', 'user_agent');
    facts.agent = agentFacts(body.user_agent);
  }
  const now = Date.now();
  if ((body.device !== undefined || body.posture !== undefined) && identity === null) throw new HttpError(400, 'device and posture need an identity (a device is bound to a session)', 'device');
  if (identity && body.device !== undefined) {
    if (body.device === null) delete identity.device;
    else if (isObject(body.device)) identity.device = { ...(identity.device ?? hypothetical({}, now)), ...hypotheticalFields(body.device, now) };
    else throw new HttpError(400, 'device must be an object like {"approved": true}, or null for no device', 'device');
  }
  if (identity && body.posture !== undefined) {
    let reported;
    try {
      reported = parseReport(body.posture, config.posture?.facts ?? BUILTIN_POSTURE_FACTS, now);
    } catch (err) {
      if (err instanceof ReportError) throw new HttpError(400, `posture: ${err.message}`, err.param ? `posture.${err.param}` : 'posture');
      throw err;
    }
    const base = identity.device ?? hypothetical({}, now);
    identity.device = { ...base, posture: { ...base.posture, ...reported } };
  }
  return {
    device: identity ? presentBoundDevice(identity.device, maxAge ?? DEFAULT_POSTURE_MAX_AGE_MS) : null,
    user_agent: { source: 'user_agent', client_claimed: true, facts: facts.agent ?? {} },
  };
}

function hypotheticalFields(given: Record<string, unknown>, now: number): Partial<DeviceFacts> {
  const d = hypothetical(given, now);
  return { ...(given.name !== undefined ? { name: d.name } : {}), ...(given.approved !== undefined ? { approvedAt: d.approvedAt } : {}) };
}
