// A test SSF transmitter: its own ES256 key, its JWKS served over HTTP by a real local server, and
// SETs signed with it (or with a forger's key under the same kid) and pushed as RFC 8935 says.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import type { Test } from 'tap';
import { request, type Reply } from '../../helpers/stack.js';
import { RemoteJwks } from '../../../src/auth/remote-jwks.js';

/** What the gateway hands installSsf for jwks_uri (cli-gateway.ts does the same). */
export const remoteKeys = (issuer: string, url: URL) => new RemoteJwks(issuer, url, { cooldownMs: 30_000 });

export const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
export const ISSUER = 'https://transmitter.test';
export const AUDIENCE = 'https://gatehouse.test/ssf';
const KID = 'transmitter-key-1';

export interface Transmitter {
  jwksUri: string;
  /** A signed SET; `over` replaces or adds claims (undefined removes one). */
  set(sub_id: unknown, events: Record<string, unknown>, over?: Record<string, unknown>): Promise<string>;
  /** The same, signed by a key the transmitter never published (under the published kid). */
  forged(sub_id: unknown, events: Record<string, unknown>): Promise<string>;
}

export async function startTransmitter(t: Test): Promise<Transmitter> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const forger = await generateKeyPair('ES256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: KID, use: 'sig' }] });
  const server = http.createServer((req, res) => {
    if (req.url !== '/jwks') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  const sign = (key: CryptoKey, sub_id: unknown, events: Record<string, unknown>, over: Record<string, unknown> = {}) => {
    const claims: Record<string, unknown> = { iss: ISSUER, aud: AUDIENCE, jti: randomUUID(), iat: Math.floor(Date.now() / 1000), events, ...(sub_id === undefined ? {} : { sub_id }), ...over };
    for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
    return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: 'ES256', kid: KID, typ: 'secevent+jwt' }).sign(key);
  };
  return {
    jwksUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    set: (sub_id, events, over) => sign(privateKey, sub_id, events, over),
    forged: (sub_id, events) => sign(forger.privateKey, sub_id, events),
  };
}

/** Pushes a SET to the receiver (RFC 8935 §2). */
export function push(port: number, set: string, opts: { receiver?: string; type?: string; host?: string } = {}): Promise<Reply> {
  return request(port, {
    method: 'POST',
    host: opts.host ?? 'wiki.test',
    path: `/.gatehouse/ssf/${opts.receiver ?? 'idp'}`,
    headers: { 'content-type': opts.type ?? 'application/secevent+jwt', accept: 'application/json' },
    body: set,
  });
}

export function receiverConfig(jwksUri: string): Record<string, unknown> {
  return { id: 'idp', issuer: ISSUER, jwks_uri: jwksUri, audience: AUDIENCE };
}
