// A pushed Security Event Token (RFC 8417), checked as RFC 8935 and SSF 1.0 ask, cheapest first:
// its shape, iss and aud (read before the signature only to name the refusal precisely: nothing
// unverified is ever acted on), the signature with an algorithm pinned to the transmitter's key
// types, then iat freshness, exp, jti and the events claim. Each refusal carries an RFC 8935 error
// code and a description for the transmitter's logs.
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { SsfReceiverConfig } from '../../config/types.js';
import type { TransmitterKeys } from './keys.js';

/** RFC 8935 §2.4 error codes. */
export type SetErrorCode = 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience' | 'authentication_failed' | 'access_denied';

export interface SetRefusal {
  ok: false;
  err: SetErrorCode;
  description: string;
  /** The transmitter's keys could not be fetched: our trouble, not the SET's (503, it retries). */
  unavailable?: boolean;
}

export interface VerifiedSet {
  ok: true;
  jti: string;
  /** Epoch seconds. */
  iat: number;
  payload: JWTPayload;
  /** Event type URI → event payload (at least one). */
  events: Record<string, Record<string, unknown>>;
}

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const SET_TYPES = new Set(['secevent+jwt', 'application/secevent+jwt']);
const MAX_JTI = 256;

const refuse = (err: SetErrorCode, description: string, unavailable = false): SetRefusal => ({ ok: false, err, description, ...(unavailable ? { unavailable } : {}) });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class AlgorithmNotPinned extends Error {}

export async function verifySet(token: string, cfg: SsfReceiverConfig, keys: TransmitterKeys, now = Date.now()): Promise<SetRefusal | VerifiedSet> {
  let header;
  let unverified;
  try {
    header = decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch {
    return refuse('invalid_request', 'the body is not a signed JWT (compact JWS): encrypted or unsigned SETs are not accepted');
  }
  if (header.typ !== undefined && !SET_TYPES.has(header.typ.toLowerCase())) return refuse('invalid_request', `typ "${header.typ}" is not secevent+jwt`);
  if (unverified.iss !== cfg.issuer) return refuse('invalid_issuer', `iss ${JSON.stringify(unverified.iss ?? null)} is not this receiver's transmitter (${cfg.issuer})`);
  const aud: unknown[] = typeof unverified.aud === 'string' ? [unverified.aud] : Array.isArray(unverified.aud) ? unverified.aud : [];
  if (!aud.some((a) => typeof a === 'string' && cfg.audience.includes(a))) return refuse('invalid_audience', `aud ${JSON.stringify(unverified.aud ?? null)} does not name this receiver (${cfg.audience.join(', ')})`);
  if (typeof header.alg !== 'string' || !ASYMMETRIC.includes(header.alg)) return refuse('invalid_key', `alg ${JSON.stringify(header.alg ?? null)} is not accepted (asymmetric signatures only)`);

  let payload: JWTPayload;
  try {
    const getKey = async (...args: Parameters<TransmitterKeys['resolver']>) => {
      const key = await keys.resolver(...args);
      if (!keys.algorithms()?.includes(header.alg as string)) throw new AlgorithmNotPinned();
      return key;
    };
    ({ payload } = await jwtVerify(token, getKey, {
      issuer: cfg.issuer,
      audience: cfg.audience,
      algorithms: ASYMMETRIC,
      clockTolerance: cfg.clockToleranceSec,
      currentDate: new Date(now),
    }));
  } catch (err) {
    return keyRefusal(err, header.alg, header.kid);
  }

  const { jti, iat } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI) return refuse('invalid_request', `jti must be a string of 1 to ${MAX_JTI} characters`);
  if (typeof iat !== 'number') return refuse('invalid_request', 'iat is missing');
  const nowSec = now / 1000;
  if (iat > nowSec + cfg.clockToleranceSec) return refuse('invalid_request', `iat is ${Math.round(iat - nowSec)} s in the future`);
  if (nowSec - iat > cfg.maxAgeMs / 1000 + cfg.clockToleranceSec) return refuse('invalid_request', `the SET was issued ${Math.round(nowSec - iat)} s ago, more than max_age (${cfg.maxAgeMs / 1000} s)`);
  const events = payload.events;
  if (!isObject(events) || Object.keys(events).length === 0 || !Object.values(events).every(isObject)) {
    return refuse('invalid_request', 'events must be an object of event type URIs to event objects');
  }
  return { ok: true, jti, iat, payload, events: events as Record<string, Record<string, unknown>> };
}

function keyRefusal(err: unknown, alg: string | undefined, kid: string | undefined): SetRefusal {
  const key = kid === undefined ? 'the key' : `key "${kid}"`;
  // auth/remote-jwks.ts's KeysUnavailableError (by name: identity/ only knows auth's types).
  if (err instanceof Error && err.name === 'KeysUnavailableError') return refuse('invalid_key', `the transmitter's keys cannot be fetched right now (${err.message})`, true);
  if (err instanceof AlgorithmNotPinned) return refuse('invalid_key', `alg ${alg} does not fit the transmitter's key types`);
  if (err instanceof errors.JWKSNoMatchingKey) return refuse('invalid_key', `no ${key} for alg ${alg} in the transmitter's JWKS`);
  if (err instanceof errors.JWKSMultipleMatchingKeys) return refuse('invalid_key', 'several keys match and the SET names no kid');
  if (err instanceof errors.JWSSignatureVerificationFailed) return refuse('invalid_key', `the signature does not verify with ${key}`);
  if (err instanceof errors.JWTExpired) return refuse('invalid_request', 'the SET has expired (exp)');
  if (err instanceof errors.JWTClaimValidationFailed) return refuse('invalid_request', `claim ${err.claim}: ${err.reason}`);
  return refuse('invalid_request', `the SET cannot be verified: ${(err as Error).message}`);
}
