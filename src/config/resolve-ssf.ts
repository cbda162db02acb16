// ssf_receivers in gateway.yaml: the Shared Signals transmitters Gatehouse accepts Security Event
// Tokens from (identity/ssf/). Each names exactly one key source; a remote one must be https (or
// http on a loopback host), a local file must be readable.
import { access } from 'node:fs/promises';
import type { SsfReceiverFile } from './schema.js';
import { ioReason, type Scope } from './scope.js';
import type { SsfReceiverConfig } from './types.js';

export const SSF_DEFAULTS = { maxAgeMs: 5 * 60_000, clockToleranceMs: 30_000 };

export async function resolveSsfReceivers(list: SsfReceiverFile[], s: Scope): Promise<SsfReceiverConfig[]> {
  const ids = new Map<string, number>();
  const out: SsfReceiverConfig[] = [];
  for (const [i, r] of list.entries()) {
    const at = ['ssf_receivers', i];
    if (!s.ok(...at)) continue;
    if (ids.has(r.id)) s.problem([...at, 'id'], `id "${r.id}" is already used by ssf_receivers[${ids.get(r.id)}]`);
    ids.set(r.id, i);
    const sources = (['jwks', 'jwks_uri'] as const).filter((k) => r[k] !== undefined);
    if (sources.length !== 1) {
      s.problem(at, sources.length ? 'set exactly one of jwks or jwks_uri, not both' : "set one of jwks_uri (the transmitter's JWKS URL) or jwks (a local JWKS file)");
    }
    if (r.jwks_uri !== undefined) s.httpsUrl([...at, 'jwks_uri'], r.jwks_uri);
    const jwksFile = r.jwks === undefined ? undefined : s.path(r.jwks);
    if (jwksFile) await access(jwksFile).catch((err: unknown) => s.problem([...at, 'jwks'], `cannot read ${jwksFile}: ${ioReason(err)}`));
    const maxAgeMs = s.ms(r.max_age, SSF_DEFAULTS.maxAgeMs);
    if (maxAgeMs === 0) s.problem([...at, 'max_age'], 'must be more than 0 (a SET older than max_age is refused)');
    out.push({
      id: r.id,
      issuer: r.issuer,
      ...(r.jwks_uri !== undefined ? { jwksUri: r.jwks_uri } : {}),
      ...(jwksFile ? { jwksFile } : {}),
      audience: typeof r.audience === 'string' ? [r.audience] : r.audience,
      maxAgeMs,
      clockToleranceSec: s.ms(r.clock_tolerance, SSF_DEFAULTS.clockToleranceMs) / 1000,
    });
  }
  return out;
}
