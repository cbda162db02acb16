// What changed about a session's device, for the identity history: bound/unbound (ids), approval,
// and which posture facts changed value or were reported again (a fresh report keeps a fact known).
import type { DeviceFacts } from '../policy/types.js';
import type { IdentityChange } from '../store/types.js';

export function diffDevice(before: DeviceFacts | undefined, after: DeviceFacts | undefined): IdentityChange['change']['boundDevice'] | undefined {
  const b = before?.id ?? null;
  const a = after?.id ?? null;
  if (b !== a) return { before: b, after: a };
  if (!before || !after) return undefined;
  const out: NonNullable<IdentityChange['change']['boundDevice']> = { before: b, after: a };
  const names = new Set([...Object.keys(before.posture), ...Object.keys(after.posture)]);
  const posture = [...names].filter((n) => before.posture[n]?.value !== after.posture[n]?.value || before.posture[n]?.at !== after.posture[n]?.at).sort();
  if (posture.length) out.posture = posture;
  if ((before.approvedAt === null) !== (after.approvedAt === null)) out.approved = after.approvedAt !== null;
  const touched = posture.length > 0 || out.approved !== undefined || before.lastAssertionAt !== after.lastAssertionAt || before.name !== after.name;
  return touched ? out : undefined;
}
