// WebAuthn ceremonies through @simplewebauthn/server (maintained, typed, verifies attestation and
// assertion formats, counters and origins — not something to hand-roll). The challenge travels to
// the browser and back sealed (AES-GCM, bound to the session and the ceremony), so any worker or
// instance can finish what another began; a used challenge is refused again within its lifetime.
import { randomUUID } from 'node:crypto';
import type { AuthenticationResponseJSON, AuthenticatorTransportFuture, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Sealer } from '../login/seal.js';
import type { DeviceRecord } from '../store/device-types.js';

const CEREMONY_MS = 3 * 60_000;

/**
 * @simplewebauthn/server and its ASN.1 and CBOR dependencies (~70 modules, ~3 MiB of heap, measured)
 * are loaded by the first ceremony: a gateway whose users never enroll a device never needs them.
 */
let library: Promise<typeof import('@simplewebauthn/server')> | null = null;
const simpleWebAuthn = (): Promise<typeof import('@simplewebauthn/server')> => (library ??= import('@simplewebauthn/server'));

type Ceremony = 'enroll' | 'check';
interface Sealed {
  challenge: string;
  ceremony: Ceremony;
  exp: number;
  nonce: string;
}

/** Where a ceremony runs: the RP id (a domain) and the page's exact origin. */
export interface Party {
  rpId: string;
  origin: string;
}

export class CeremonyError extends Error {}

/** Challenges already answered (per process), until they would have expired anyway. */
class Used {
  private readonly seen = new Map<string, number>();
  take(nonce: string, exp: number, now: number): boolean {
    for (const [k, e] of this.seen) if (e < now) this.seen.delete(k);
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, exp);
    return true;
  }
}

export class WebAuthn {
  private readonly used = new Used();

  constructor(private readonly sealer: Sealer) {}

  private seal(ceremony: Ceremony, challenge: string, sessionId: string): string {
    const data: Sealed = { challenge, ceremony, exp: Date.now() + CEREMONY_MS, nonce: randomUUID() };
    return this.sealer.seal('webauthn', data, `${ceremony}\0${sessionId}`);
  }

  private open(ceremony: Ceremony, state: unknown, sessionId: string): string {
    const now = Date.now();
    const data = typeof state === 'string' ? this.sealer.open<Sealed>('webauthn', state, `${ceremony}\0${sessionId}`) : null;
    if (!data || data.ceremony !== ceremony || data.exp < now) throw new CeremonyError('this device check expired or belongs to another session; start again');
    if (!this.used.take(data.nonce, data.exp, now)) throw new CeremonyError('this device check was already used; start again');
    return data.challenge;
  }

  async enrollOptions(p: Party, sessionId: string, user: { name: string; display: string }, existing: DeviceRecord[]) {
    const { generateRegistrationOptions } = await simpleWebAuthn();
    const options = await generateRegistrationOptions({
      rpName: 'Gatehouse',
      rpID: p.rpId,
      userName: user.name,
      userDisplayName: user.display,
      attestationType: 'none',
      excludeCredentials: existing.map((d) => ({ id: d.credentialId, transports: d.transports as AuthenticatorTransportFuture[] })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      timeout: CEREMONY_MS,
    });
    return { options, state: this.seal('enroll', options.challenge, sessionId) };
  }

  async verifyEnrollment(p: Party, sessionId: string, state: unknown, response: unknown) {
    const expectedChallenge = this.open('enroll', state, sessionId);
    const { verifyRegistrationResponse } = await simpleWebAuthn();
    const r = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge,
      expectedOrigin: p.origin,
      expectedRPID: p.rpId,
      requireUserVerification: false,
    }).catch((err: unknown) => {
      throw new CeremonyError(`the device's answer did not verify: ${(err as Error).message}`);
    });
    if (!r.verified) throw new CeremonyError("the device's answer did not verify");
    const info = r.registrationInfo;
    const attachment = (response as RegistrationResponseJSON).authenticatorAttachment ?? null;
    return {
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: (info.credential.transports ?? []) as string[],
      aaguid: info.aaguid,
      attachment: attachment === 'platform' || attachment === 'cross-platform' ? attachment : null,
    };
  }

  async checkOptions(p: Party, sessionId: string, devices: DeviceRecord[]) {
    const { generateAuthenticationOptions } = await simpleWebAuthn();
    const options = await generateAuthenticationOptions({
      rpID: p.rpId,
      allowCredentials: devices.map((d) => ({ id: d.credentialId, transports: d.transports as AuthenticatorTransportFuture[] })),
      userVerification: 'preferred',
      timeout: CEREMONY_MS,
    });
    return { options, state: this.seal('check', options.challenge, sessionId) };
  }

  /** The credential id the answer claims (to find its device before verifying). */
  static credentialOf(response: unknown): string {
    const id = (response as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || id === '') throw new CeremonyError('response.id is missing');
    return id;
  }

  /** Verifies an assertion by this device; returns its new signature counter. */
  async verifyCheck(p: Party, sessionId: string, state: unknown, response: unknown, d: DeviceRecord): Promise<number> {
    const expectedChallenge = this.open('check', state, sessionId);
    const { verifyAuthenticationResponse } = await simpleWebAuthn();
    const r = await verifyAuthenticationResponse({
      response: response as AuthenticationResponseJSON,
      expectedChallenge,
      expectedOrigin: p.origin,
      expectedRPID: p.rpId,
      credential: { id: d.credentialId, publicKey: Buffer.from(d.publicKey, 'base64url'), counter: d.counter, transports: d.transports as AuthenticatorTransportFuture[] },
      requireUserVerification: false,
    }).catch((err: unknown) => {
      throw new CeremonyError(`the device's answer did not verify: ${(err as Error).message}`);
    });
    if (!r.verified) throw new CeremonyError("the device's answer did not verify");
    return r.authenticationInfo.newCounter;
  }
}
