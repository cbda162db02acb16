// The live identity overlay: per session, what changed since the token was issued, and the
// identity version it has reached. A token is immutable (and its verified identity stays in the
// token cache), so a change is an overlay the authenticate stage lays over the cached identity.
//
// Hot path: apply() is one Map.size check when nothing ever changed, one Map.get otherwise, and
// the patched identity is built once per (cached identity, version) and then handed out as is —
// no store read, no signature check, no allocation on a hit.
import { EventEmitter } from 'node:events';
import type { DeviceFacts, Identity } from '../policy/types.js';
import type { ChangeSource, IdentityPatch } from './changes.js';

/** A session's changes relative to its token, as stored (JSON) and sent between instances. */
export interface LiveState {
  /** 0 = as signed in; every change adds one. */
  version: number;
  /** The groups that replace the token's (`replace`), when a source set them. */
  groups?: string[];
  /** Groups added by `merge` sources, by source. */
  merged?: Partial<Record<ChangeSource, string[]>>;
  /** Claims set (a null value: removed). */
  claims?: Record<string, unknown>;
  amr?: string[];
  name?: string;
  /** Device id → compliance status (`compliant`, `not-compliant`), as last reported. */
  devices?: Record<string, string>;
  /** The device bound to the session (device check), with its posture; absent: none. */
  boundDevice?: DeviceFacts;
}

interface Entry {
  state: LiveState;
  /** The cached identity `live` was built from (identity objects are shared by every cache hit). */
  base: Identity | null;
  live: Identity | null;
}

/** The state after `patch`: a new object (the old one may be in use by another request). */
export function patchState(prev: LiveState, patch: IdentityPatch, source: ChangeSource): LiveState {
  const next: LiveState = { ...prev, version: prev.version };
  if (patch.groups) {
    const values = [...new Set(patch.groups.values)];
    if (patch.groups.mode === 'replace') next.groups = values;
    else next.merged = { ...prev.merged, [source]: values };
  }
  if (patch.claims) next.claims = { ...prev.claims, ...patch.claims };
  if (patch.amr) next.amr = [...patch.amr];
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.device) next.devices = { ...prev.devices, [patch.device.id]: patch.device.compliance };
  if (patch.boundDevice === null) delete next.boundDevice;
  else if (patch.boundDevice) next.boundDevice = patch.boundDevice;
  return next;
}

/** The identity the policies see: the token's, with the live state laid over it. */
export function liveIdentity(base: Identity, state: LiveState): Identity {
  let groups = state.groups ?? base.groups;
  if (state.merged) {
    const all = new Set(groups);
    for (const extra of Object.values(state.merged)) for (const g of extra ?? []) all.add(g);
    groups = [...all];
  }
  let claims = base.claims;
  if (state.claims || state.groups || state.amr || state.name !== undefined) {
    claims = { ...base.claims };
    for (const [k, v] of Object.entries(state.claims ?? {})) {
      if (v === null) delete claims[k];
      else claims[k] = v;
    }
    // The claims a `claim:` rule reads agree with the identity's own fields.
    if (state.groups || state.merged) claims.groups = groups;
    if (state.amr) claims.amr = state.amr;
    if (state.name !== undefined) claims.name = state.name;
  }
  // Same members in the same order as the token's identity (one hidden class for every identity).
  return {
    ...base,
    groups,
    amr: state.amr ?? base.amr,
    ...(state.name !== undefined ? { name: state.name } : {}),
    claims,
    ...(state.boundDevice ? { device: state.boundDevice } : {}),
  };
}

export class IdentityOverlay extends EventEmitter<{ changed: [sessionId: string, state: LiveState] }> {
  private readonly entries = new Map<string, Entry>();
  /** Live identities handed out → the cached identity each was built from. */
  private readonly bases = new WeakMap<Identity, Identity>();

  /** The identity to decide on: the cached one, or its newest live version. */
  apply(identity: Identity): Identity {
    if (this.entries.size === 0) return identity;
    const e = this.entries.get(identity.sessionId);
    if (e === undefined) return identity;
    if (e.base !== identity || e.live === null) {
      e.base = identity;
      e.live = liveIdentity(identity, e.state);
      this.bases.set(e.live, identity);
    }
    return e.live;
  }

  /** The token's own identity behind one that apply() returned (itself otherwise). */
  baseOf(identity: Identity): Identity {
    return this.bases.get(identity) ?? identity;
  }

  /** The session's identity version (0: as signed in). */
  version(sessionId: string): number {
    if (this.entries.size === 0) return 0;
    return this.entries.get(sessionId)?.state.version ?? 0;
  }

  state(sessionId: string): LiveState | undefined {
    return this.entries.get(sessionId)?.state;
  }

  /**
   * Installs a newer state (this process's change, another worker's or another instance's). An
   * older or equal version is ignored, so messages arriving out of order cannot roll back.
   */
  set(sessionId: string, state: LiveState): boolean {
    const e = this.entries.get(sessionId);
    if (e && e.state.version >= state.version) return false;
    this.entries.set(sessionId, { state, base: null, live: null });
    this.emit('changed', sessionId, state);
    return true;
  }

  /** Forgets sessions that can no longer be presented (expired or revoked), keeping memory bounded. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
