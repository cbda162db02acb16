// A software WebAuthn authenticator (ES256, "none" attestation) for tests that enroll and check a
// device over plain HTTP, without a browser: it answers the options the gateway hands out exactly
// as an authenticator and a browser would (clientDataJSON, authenticator data, a DER signature),
// so @simplewebauthn/server verifies them like any other. The Chromium test covers the real thing.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();
/** UP (user present) + UV (user verified); AT (attested credential data) for a registration. */
const FLAGS = { get: 0x05, create: 0x45 };
export const SOFT_AAGUID = '00000000-0000-0000-0000-000000000000';

export interface SoftAuthenticator {
  readonly credentialId: string;
  /** The browser's answer to navigator.credentials.create() with these options. */
  register(options: { challenge: string; rp: { id?: string } }, origin: string): Record<string, unknown>;
  /** The browser's answer to navigator.credentials.get() with these options. */
  assert(options: { challenge: string; rpId?: string }, origin: string): Record<string, unknown>;
}

export function softAuthenticator(): SoftAuthenticator {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const id = randomBytes(16);
  let counter = 0;
  const jwk = publicKey.export({ format: 'jwk' });
  const cose = isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x as string, 'base64url')],
      [-3, Buffer.from(jwk.y as string, 'base64url')],
    ]),
  );
  const authData = (rpId: string, kind: 'get' | 'create') => {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(++counter);
    const head = Buffer.concat([sha256(rpId), Buffer.from([FLAGS[kind]]), count]);
    if (kind === 'get') return head;
    const len = Buffer.alloc(2);
    len.writeUInt16BE(id.length);
    return Buffer.concat([head, Buffer.alloc(16), len, id, cose]);
  };
  const clientData = (type: string, challenge: string, origin: string) => Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  const rpOf = (rpId: string | undefined, origin: string) => rpId ?? new URL(origin).hostname;
  return {
    credentialId: b64url(id),
    register(options, origin) {
      const data = authData(rpOf(options.rp.id, origin), 'create');
      const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', data]]) as never);
      return {
        id: b64url(id),
        rawId: b64url(id),
        type: 'public-key',
        authenticatorAttachment: 'platform',
        clientExtensionResults: {},
        response: { clientDataJSON: b64url(clientData('webauthn.create', options.challenge, origin)), attestationObject: b64url(attestationObject), transports: ['internal'] },
      };
    },
    assert(options, origin) {
      const data = authData(rpOf(options.rpId, origin), 'get');
      const client = clientData('webauthn.get', options.challenge, origin);
      const signature = sign('sha256', Buffer.concat([data, sha256(client)]), privateKey as KeyObject);
      return {
        id: b64url(id),
        rawId: b64url(id),
        type: 'public-key',
        authenticatorAttachment: 'platform',
        clientExtensionResults: {},
        response: { clientDataJSON: b64url(client), authenticatorData: b64url(data), signature: b64url(signature) },
      };
    },
  };
}
