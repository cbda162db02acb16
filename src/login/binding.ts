// Binds a sign-in in progress to the browser that started it: a random value in a short-lived
// HttpOnly cookie on the host, whose hash is stored with the server-side state (OIDC flow, handoff
// code). A state or code replayed from another browser — or planted in a victim's browser to log
// them in as the attacker — finds no matching cookie and is refused.
import { createHash, randomBytes } from 'node:crypto';
import type { RequestContext } from '../context.js';
import { FLOW_COOKIE, helperCookie, readCookie } from './cookies.js';

export const BINDING_TTL_SEC = 600;
const SHAPE = /^[A-Za-z0-9_-]{43}$/;

export const isBindingHash = (s: unknown): s is string => typeof s === 'string' && SHAPE.test(s);

const hash = (value: string): string => createHash('sha256').update(value).digest('base64url');

/** This browser's binding hash, and the cookie that (re)sets it for another BINDING_TTL_SEC. */
export function browserBinding(ctx: RequestContext): { hash: string; cookie: string } {
  const existing = readCookie(ctx, FLOW_COOKIE);
  const value = existing && SHAPE.test(existing) ? existing : randomBytes(32).toString('base64url');
  return { hash: hash(value), cookie: helperCookie(ctx, FLOW_COOKIE, value, BINDING_TTL_SEC) };
}

export function bindingMatches(ctx: RequestContext, expected: string): boolean {
  const value = readCookie(ctx, FLOW_COOKIE);
  return value !== undefined && SHAPE.test(value) && hash(value) === expected;
}
