// Request-line and header hygiene, shared by the route stage and the WebSocket path. Everything
// here is pure string work on what Node's parser gave us: no allocation beyond the results.
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { IpMatcher } from '../policy/ip.js';
import { reject, type Rejection } from '../errors.js';

export type PathResult = { ok: true; path: string; query: string } | { ok: false; reason: string; message: string };

const ENCODED_DOT = /%2e/gi;
// Control characters raw or percent-encoded, and encoded/raw slashes that would let a path mean
// one thing to us and another to the upstream.
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const FORBIDDEN_RAW = /[\x00-\x1f\x7f\\]/;
// Also refused: double-encoded dots and separators (%252e: an upstream that decodes twice sees
// "."), and overlong UTF-8 (%c0%ae is "." to a lenient decoder; %c0/%c1 never start valid UTF-8,
// %e0 followed by %80-%9f is an overlong three-byte form).
const FORBIDDEN_ENCODED = /%(?:2f|5c|[01][0-9a-f]|7f|25(?:2e|2f|5c)|c[01]|e0%[89])/i;
/** Where a segment's path parameters start (`;` raw or `%3b`): Tomcat, Jetty and Spring drop them. */
const PARAMS = /;|%3b/i;

/**
 * Splits a request target into a normalised path and the raw query. Dot segments (also
 * percent-encoded ones) are resolved, so the path we route and evaluate is exactly the one we
 * forward. Encoded slashes, backslashes and control characters are refused.
 */
export function normalizeTarget(target: string): PathResult {
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q);
  if (rawPath.charCodeAt(0) !== 47 /* / */) return bad('bad_path', 'the request path must start with "/"');
  if (FORBIDDEN_RAW.test(rawPath) || FORBIDDEN_RAW.test(query)) {
    return bad('forbidden_character', 'backslashes and control characters are not allowed in the path');
  }
  if (FORBIDDEN_ENCODED.test(rawPath)) {
    return bad('encoded_separator', 'encoded slashes, backslashes, control characters, double-encoded or overlong characters are not allowed in the path');
  }
  // Fast path: nothing that could form a dot segment.
  if (rawPath.indexOf('.') === -1 && rawPath.indexOf('%') === -1) return { ok: true, path: rawPath, query };
  const path = removeDotSegments(rawPath);
  if (path === null) return bad('dot_segment_parameter', 'a "." or ".." segment with parameters (";") is not allowed in the path');
  return { ok: true, path, query };
}

function bad(reason: string, message: string): PathResult {
  return { ok: false, reason, message };
}

/**
 * RFC 3986 §5.2.4, treating %2e as "." so `%2e%2e` and `.%2e` are parent segments too. null for a
 * dot segment with path parameters (`..;x`, `.%3b`): Java servers resolve `/public/..;/admin` to
 * `/admin`, so it would mean one path to us and another to the upstream.
 */
export function removeDotSegments(path: string): string | null {
  const input = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < input.length; i++) {
    const seg = input[i] as string;
    const plain = seg.indexOf('%') === -1 ? seg : seg.replace(ENCODED_DOT, '.');
    if (plain.charCodeAt(0) === 46 /* . */ && PARAMS.test(plain)) {
      const base = plain.slice(0, plain.search(PARAMS));
      if (base === '.' || base === '..') return null;
    }
    if (plain === '.') {
      if (i === input.length - 1) out.push('');
      continue;
    }
    if (plain === '..') {
      out.pop();
      if (i === input.length - 1) out.push('');
      continue;
    }
    out.push(seg);
  }
  return '/' + out.join('/');
}

/**
 * Header fields a request may carry. Node's parser silently drops fields past its maxHeadersCount
 * (2000), so the data listener's is set one higher and a request that reaches it is refused with 431
 * instead of being forwarded with some of its headers missing.
 */
export const MAX_HEADER_COUNT = 2000;

/**
 * 431 for more header fields than MAX_HEADER_COUNT; 501 for a transfer coding other than chunked
 * alone (RFC 9112 §6.1): the forwarder frames the body again, so `gzip, chunked` would reach the
 * upstream as gzip bytes that no header announces.
 */
export function framingProblem(req: IncomingMessage): Rejection | undefined {
  if (req.rawHeaders.length > MAX_HEADER_COUNT * 2) {
    return reject('headers_too_large', 'too_many_headers', { message: `more than ${MAX_HEADER_COUNT} header fields` });
  }
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && te !== 'chunked' && te.trim().toLowerCase() !== 'chunked') {
    return reject('not_implemented', 'unsupported_transfer_coding', { message: 'only Transfer-Encoding: chunked is supported' });
  }
  return undefined;
}

export type HostResult = { ok: true; host: string } | { ok: false; reason: string; message: string };

/**
 * The routing host: exactly one Host header, agreeing with an absolute-form target's authority;
 * port stripped, lowercased, trailing dot removed. Also refuses header names with "_" (some
 * frameworks read X_Auth_Email as X-Auth-Email) — both checks share one pass over rawHeaders.
 */
export function requestHost(req: IncomingMessage): HostResult {
  const raw = req.rawHeaders;
  let hostCount = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hostCount++;
    else if (name.indexOf('_') !== -1) {
      return { ok: false, reason: 'underscore_in_header', message: `header names with "_" are not accepted (${name.slice(0, 64)})` };
    }
  }
  const header = req.headers.host;
  if (hostCount === 0 || !header) return { ok: false, reason: 'missing_host', message: 'the Host header is required' };
  if (hostCount > 1) return { ok: false, reason: 'duplicate_host', message: 'more than one Host header' };
  const host = canonicalHost(header);
  if (host === null) return { ok: false, reason: 'bad_host', message: 'the Host header is not a valid host name' };
  const url = req.url ?? '';
  if (url.charCodeAt(0) !== 47) {
    // absolute-form: http://authority/path — the authority must be the Host.
    const m = /^https?:\/\/([^/?#]*)/i.exec(url);
    if (!m || canonicalHost(m[1] as string) !== host) {
      return { ok: false, reason: 'host_mismatch', message: 'the request target names a different host than the Host header' };
    }
  }
  return { ok: true, host };
}

const HOST_CHARS = /^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/;

/** "Wiki.Corp.Example.:8443" → "wiki.corp.example"; null when it is not a host. */
export function canonicalHost(value: string): string | null {
  let h = value.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end === -1) return null;
    h = h.slice(0, end + 1);
  } else {
    const colon = h.indexOf(':');
    if (colon !== -1) h = h.slice(0, colon);
    if (h.endsWith('.')) h = h.slice(0, -1);
  }
  if (h.length === 0 || !HOST_CHARS.test(h)) return null;
  return h;
}

/** The path and query of the target, for absolute-form too. */
export function requestTarget(req: IncomingMessage): string {
  const url = req.url ?? '/';
  if (url.charCodeAt(0) === 47) return url;
  const m = /^https?:\/\/[^/?#]*(.*)$/i.exec(url);
  const rest = m ? (m[1] as string) : '';
  return rest === '' ? '/' : rest.charCodeAt(0) === 63 /* ? */ ? '/' + rest : rest;
}

export interface ClientInfo {
  clientIp: string;
  proto: 'http' | 'https';
  /** The peer is a trusted proxy: its X-Forwarded-* and X-Request-Id are believed. */
  trustedPeer: boolean;
}

/** Resolves the client address through trusted proxies (rightmost untrusted X-Forwarded-For hop). */
export function clientInfo(req: IncomingMessage, trusted: IpMatcher, tlsListener: boolean): ClientInfo {
  const peer = stripMapped(req.socket.remoteAddress ?? '');
  const ownProto = tlsListener ? 'https' : 'http';
  if (trusted.size === 0 || !trusted.contains(peer)) return { clientIp: peer, proto: ownProto, trustedPeer: false };
  let clientIp = peer;
  const xff = req.headers['x-forwarded-for'];
  if (typeof xff === 'string' && xff.length > 0) {
    const hops = xff.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = stripMapped((hops[i] as string).trim());
      if (hop === '') break;
      clientIp = hop;
      if (!trusted.contains(hop)) break;
    }
  }
  const xfp = req.headers['x-forwarded-proto'];
  const proto = xfp === 'https' || xfp === 'http' ? xfp : ownProto;
  return { clientIp, proto, trustedPeer: true };
}

function stripMapped(ip: string): string {
  return ip.startsWith('::ffff:') && ip.indexOf('.') !== -1 ? ip.slice(7) : ip;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** X-Request-Id from a trusted proxy when well-formed, otherwise a new one. */
export function requestId(req: IncomingMessage, trustedPeer: boolean): string {
  if (trustedPeer) {
    const given = req.headers['x-request-id'];
    if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
  }
  return randomUUID();
}

/**
 * The client sent a body that has not been read to its end. A response sent now must close the
 * connection (`Connection: close`; Node ends the socket once the response is flushed): keeping it
 * alive would hold the socket until the client finishes its body, which a client trickling one byte
 * at a time never does, and would let a few such clients hold every connection the listener allows.
 */
export function bodyUnread(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Does the client prefer an HTML page (a browser navigation)? */
export function wantsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.indexOf('text/html') !== -1;
}
