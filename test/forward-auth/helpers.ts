// A gateway with forward-auth apps, for the tests that ask it directly and through nginx and Caddy.
// Trusted proxy: 127.0.0.2 by default (nginx binds there), so the tests' own connections from
// 127.0.0.1 are an untrusted peer.
import type { Test } from 'tap';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { installLogin } from '../../src/login/install.js';
import { request, startStack, type Reply, type Stack } from '../helpers/stack.js';
import { usersYaml } from '../login/helpers/users.js';

export const PROXY_IP = '127.0.0.2';
export const ANN = { email: 'ann@example.com', password: 'ann-password-1', name: 'Ann', groups: ['staff'] };

const policies = [
  { name: 'contractors-out', action: 'deny', include: [{ group: 'contractors' }] },
  { name: 'staff', action: 'allow', include: [{ group: 'staff' }] },
];

/** wiki.test: forward_auth only; both.test: both modes; open.test: bypass; proxied.test: proxy only. */
export async function startForwardAuthStack(t: Test, upstream: string, trusted = PROXY_IP): Promise<Stack & { session(claims?: Record<string, unknown>): Promise<{ token: string; jti: string }> }> {
  const s = await startStack(t, {
    apps: {
      wiki: { name: 'wiki', hosts: ['wiki.test'], mode: 'forward_auth', policies, identity_providers: ['local'] },
      both: { name: 'both', hosts: ['both.test'], upstream, mode: ['proxy', 'forward_auth'], policies, identity_headers: 'oauth2-proxy' },
      open: { name: 'open', hosts: ['open.test'], mode: 'forward_auth', policies: [{ name: 'all', action: 'bypass', include: [{ everyone: true }] }] },
      proxied: { name: 'proxied', hosts: ['proxied.test'], upstream, policies },
    },
    gateway: {
      trusted_proxies: [trusted],
      identity_providers: [{ id: 'local', type: 'local_users', name: 'Team accounts', file: './users.yaml' }],
    },
    files: { 'users.yaml': await usersYaml([ANN]) },
    extend: async (g) => {
      await installLogin(g);
    },
  });
  const session = async (claims: Record<string, unknown> = {}) => {
    const m = await mintSessionToken(s.gw.services.keys, { sub: 'alice-id', email: 'alice@corp.example', name: 'Alice', groups: ['staff'], idp: 'corp', amr: ['pwd'], ...claims }, 3_600_000);
    return { token: m.token, jti: m.jti };
  };
  return { ...s, session };
}

/** A question to /.gatehouse/auth from a chosen local address (default PROXY_IP: a trusted proxy asking). */
export function ask(port: number, opts: { path?: string; method?: string; headers?: Record<string, string>; from?: string } = {}): Promise<Reply> {
  return request(port, { path: opts.path ?? '/.gatehouse/auth', host: 'gatehouse.internal', localAddress: opts.from ?? PROXY_IP, ...(opts.method ? { method: opts.method } : {}), ...(opts.headers ? { headers: opts.headers } : {}) });
}
