// gateway.yaml `devices` and `posture` → GatewayConfig: approval mode, RP id, the posture token
// file, how long a reported fact counts, and custom facts (which must not shadow the built-in ones).
import { DEFAULT_POSTURE_MAX_AGE_MS } from '../policy/device-selectors.js';
import { normalizeHost } from './hosts.js';
import type { GatewayFileT } from './schema.js';
import type { Scope } from './scope.js';
import type { GatewayConfig, PostureFactType } from './types.js';

/** The built-in posture facts and their types (issue #12); `compliant` is set by SSF too. */
export const BUILTIN_POSTURE_FACTS: Readonly<Record<string, PostureFactType>> = Object.freeze({
  os: 'string',
  os_version: 'version',
  disk_encrypted: 'boolean',
  firewall: 'boolean',
  screen_lock: 'boolean',
  managed: 'boolean',
  serial: 'string',
  compliant: 'boolean',
});

export function resolveDevices(raw: GatewayFileT, s: Scope): Pick<GatewayConfig, 'devices' | 'posture'> {
  const d = s.ok('devices') ? (raw.devices ?? {}) : {};
  let rpId: string | undefined;
  if (d.rp_id !== undefined) {
    const h = normalizeHost(d.rp_id);
    if ('problem' in h || h.value.startsWith('.') || h.value.startsWith('[')) s.problem(['devices', 'rp_id'], 'must be a domain name, e.g. corp.example');
    else rpId = h.value;
  }
  const p = s.ok('posture') ? (raw.posture ?? {}) : {};
  const facts: Record<string, PostureFactType> = { ...BUILTIN_POSTURE_FACTS };
  for (const [name, type] of Object.entries(p.facts ?? {})) {
    if (Object.hasOwn(BUILTIN_POSTURE_FACTS, name)) s.problem(['posture', 'facts', name], `"${name}" is a built-in posture fact; pick another name`, 'key');
    else if (name.startsWith('ua_')) s.problem(['posture', 'facts', name], 'ua_* facts come from the User-Agent header; pick another name', 'key');
    else facts[name] = type;
  }
  return {
    devices: { approval: d.approval ?? 'auto', ...(rpId ? { rpId } : {}) },
    posture: {
      ...(p.tokens_file ? { tokensFile: s.path(p.tokens_file) } : {}),
      maxAgeMs: s.ms(p.max_age, DEFAULT_POSTURE_MAX_AGE_MS),
      facts,
    },
  };
}
