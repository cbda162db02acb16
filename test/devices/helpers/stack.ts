// A real gateway (SQLite) with devices and the admin API installed, an upstream that also accepts
// WebSockets, and sessions that enroll and check devices over HTTP with the software
// authenticator — the same JSON steps the devices pages' script posts.
import type { Test } from 'tap';
import { installAdminApi } from '../../../src/admin/install.js';
import { mintSessionToken } from '../../../src/auth/session-token.js';
import { installDevices } from '../../../src/devices/install.js';
import type { Devices } from '../../../src/devices/service.js';
import type { Gateway } from '../../../src/gateway.js';
import { adminFetch, request, startStack, startUpstream, type Reply, type Stack, type StackOptions } from '../../helpers/stack.js';
import { acceptWebSockets } from '../../helpers/websocket.js';
import { softAuthenticator, type SoftAuthenticator } from './authenticator.js';

export const HOST = 'laptops.test';
const ORIGIN = `http://${HOST}`;

export interface DeviceStack {
  s: Stack;
  devices: Devices;
  /** A signed-in session (a minted gateway session, recorded by a first request). */
  signIn(t: Test, claims?: { sub?: string; email?: string; groups?: string[] }): Promise<Session>;
  /** PUT /admin/devices/{id}/posture with this bearer token (the admin token unless given). */
  report(id: string, body: string | Buffer | object, token?: string | null, headers?: Record<string, string>): Promise<Reply>;
  /** GET /admin/devices/{id} as the admin sees it. */
  device(id: string): Promise<Record<string, unknown> & { state: string; posture: Record<string, { value: unknown; reported_at: string; source: string }> }>;
  /** The session's identity history (GET /admin/sessions/{id}), newest first. */
  history(sessionId: string): Promise<Array<Record<string, unknown>>>;
}

export interface Session {
  id: string;
  token: string;
  /** A request to the app (JSON accepted, so a denial carries its reasons). */
  get(host?: string, path?: string): Promise<Reply>;
  /** Enrolls a device over HTTP (options, the authenticator's answer, enroll); the JSON answer. */
  enroll(name: string, auth?: SoftAuthenticator): Promise<{ status: number; body: Record<string, unknown>; auth: SoftAuthenticator }>;
  /** The device check over HTTP: an assertion by this authenticator binds its device to the session. */
  check(auth: SoftAuthenticator): Promise<{ status: number; body: Record<string, unknown> }>;
}

export async function deviceStack(t: Test, opts: Omit<StackOptions, 'extend'> & { extend?: (g: Gateway, devices: Devices) => Promise<void> | void }): Promise<DeviceStack> {
  let devices: Devices | undefined;
  const s = await startStack(t, {
    ...opts,
    extend: async (g) => {
      installAdminApi(g);
      devices = await installDevices(g);
      await opts.extend?.(g, devices);
    },
  });
  const post = (token: string, path: string, body: unknown) =>
    request(s.port, {
      method: 'POST',
      host: HOST,
      path,
      headers: { cookie: `gatehouse_session=${token}`, origin: ORIGIN, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });

  const signIn = async (t: Test, claims: { sub?: string; email?: string; groups?: string[] } = {}): Promise<Session> => {
    const minted = await mintSessionToken(
      s.gw.services.keys,
      { sub: claims.sub ?? 'ann-id', email: claims.email ?? 'ann@corp.example', groups: claims.groups ?? ['staff'], idp: 'corp', amr: ['pwd'] },
      3_600_000,
    );
    const session: Session = {
      id: minted.jti,
      token: minted.token,
      get: (host = HOST, path = '/') => request(s.port, { host, path, headers: { cookie: `gatehouse_session=${minted.token}`, accept: 'application/json' } }),
      async enroll(name, auth = softAuthenticator()) {
        const o = await post(minted.token, '/.gatehouse/devices/options', {});
        if (o.status !== 200) return { status: o.status, body: o.json(), auth };
        const { options, state } = o.json<{ options: { challenge: string; rp: { id?: string } }; state: string }>();
        const r = await post(minted.token, '/.gatehouse/devices/enroll', { state, name, response: auth.register(options, ORIGIN) });
        return { status: r.status, body: r.json(), auth };
      },
      async check(auth) {
        const o = await post(minted.token, '/.gatehouse/device-check/options', {});
        if (o.status !== 200) return { status: o.status, body: o.json() };
        const { options, state } = o.json<{ options: { challenge: string; rpId?: string }; state: string }>();
        const r = await post(minted.token, '/.gatehouse/device-check/verify', { state, response: auth.assert(options, ORIGIN) });
        return { status: r.status, body: r.json() };
      },
    };
    // The first request records the session (what changes and device bindings find).
    await session.get();
    await s.gw.writer.flush();
    t.ok(true, `session of ${claims.email ?? 'ann@corp.example'} signed in`);
    return session;
  };

  const report = (id: string, body: string | Buffer | object, token: string | null = process.env.GATEHOUSE_ADMIN_TOKEN ?? '', headers: Record<string, string> = {}) =>
    request(Number(new URL(s.adminUrl).port), {
      method: 'PUT',
      host: new URL(s.adminUrl).host,
      path: `/admin/devices/${encodeURIComponent(id)}/posture`,
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
      body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });

  return {
    s,
    devices: devices as unknown as Devices,
    signIn,
    report,
    device: async (id) => (await (await adminFetch(s, `/admin/devices/${encodeURIComponent(id)}`)).json()) as never,
    history: async (sessionId) => {
      await s.gw.writer.flush();
      return ((await (await adminFetch(s, `/admin/sessions/${sessionId}`)).json()) as { identity_history: Array<Record<string, unknown>> }).identity_history;
    },
  };
}

/** An upstream that answers 200 with JSON and accepts WebSocket upgrades. */
export async function devicesUpstream(t: Test): Promise<string> {
  const up = await startUpstream(t);
  acceptWebSockets(up);
  return up.url;
}
