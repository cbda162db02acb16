// A running gateway with SCIM 2.0 mounted on its admin listener (its own token), an upstream, and
// real gateway sessions minted with its own keys — the parts every SCIM test speaks HTTP to.
import type { Test } from 'tap';
import { installAdminApi } from '../../../src/admin/install.js';
import { mintSessionToken } from '../../../src/auth/session-token.js';
import { installScim } from '../../../src/identity/scim/install.js';
import { request, startStack, startUpstream, type Reply, type Stack } from '../../helpers/stack.js';

export const SCIM_TOKEN = 'test-scim-token-0123456789abcdef';
process.env.GATEHOUSE_SCIM_TOKEN = SCIM_TOKEN;

export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type Json = Record<string, unknown>;

export interface ScimReply {
  status: number;
  headers: Headers;
  body: Json;
}

export interface ScimStack extends Stack {
  scim(method: string, path: string, body?: unknown, opts?: { token?: string | null; headers?: Record<string, string> }): Promise<ScimReply>;
  /** A real gateway session for `email` with these sign-in groups, already seen (recorded) by the gateway. */
  signIn(email: string, groups?: string[]): Promise<{ id: string; get(): Promise<Reply> }>;
}

/** wiki: allowed to the wiki-editors group only. */
export async function startScimStack(t: Test, gateway: Record<string, unknown> = {}, files: Record<string, string> = {}): Promise<ScimStack> {
  const up = await startUpstream(t);
  const s = await startStack(t, {
    apps: { wiki: { name: 'wiki', hosts: ['wiki.test'], upstream: up.url, policies: [{ name: 'editors', action: 'allow', include: [{ group: 'wiki-editors' }] }] } },
    gateway,
    files,
    extend: async (g) => {
      installAdminApi(g);
      await installScim(g);
    },
  });
  return {
    ...s,
    scim: async (method, path, body, opts = {}) => {
      const token = opts.token === undefined ? SCIM_TOKEN : opts.token;
      const headers: Record<string, string> = { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }), ...opts.headers };
      const res = await fetch(`${s.adminUrl}/scim/v2${path}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Json) : {} };
    },
    signIn: async (email, groups = []) => {
      const minted = await mintSessionToken(s.gw.services.keys, { sub: `sub-${email}`, email, name: email, groups, idp: 'corp', amr: ['pwd'] }, 3600_000);
      const get = () => request(s.port, { host: 'wiki.test', headers: { cookie: `gatehouse_session=${minted.token}` } });
      await get();
      // The session is recorded by the audit writer; SCIM effects find sessions in the store.
      await s.gw.writer.flush();
      return { id: minted.jti, get };
    },
  };
}

/** GET the list filtered; the filter is URL-encoded as Okta and Entra send it. */
export const filtered = (resource: 'Users' | 'Groups', filter: string, extra = ''): string => `/${resource}?filter=${encodeURIComponent(filter)}${extra}`;
