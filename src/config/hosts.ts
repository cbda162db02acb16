// Host names, path prefixes and addresses as written in the config, normalised the way the router
// compares them. Each function returns the normal form, or a problem text.
import { isIP } from 'node:net';

export type Checked<T> = { value: T } | { problem: string };

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * `Wiki.Corp.Example.:8443` → "wiki.corp.example"; `*.corp.example` → ".corp.example" (a suffix);
 * `[::1]:8080` → "[::1]". Lowercased, port dropped, trailing dot removed.
 */
export function normalizeHost(input: string): Checked<string> {
  let h = input.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    const addr = end > 0 ? h.slice(1, end) : '';
    const rest = end > 0 ? h.slice(end + 1) : '';
    if (isIP(addr) !== 6 || !/^(:[0-9]{1,5})?$/.test(rest)) return { problem: `"${input}" is not a valid IPv6 host (write [::1] or [::1]:8080)` };
    return { value: `[${addr}]` };
  }
  if (isIP(h) === 6) return { problem: `"${input}": write an IPv6 host in brackets, e.g. [${h}]` };
  h = h.replace(/:[0-9]{1,5}$/, '').replace(/\.$/, '');
  let wildcard = false;
  if (h.startsWith('*.')) {
    wildcard = true;
    h = h.slice(2);
  }
  if (h === '' || h.length > 253) return { problem: `"${input}" is not a valid host name` };
  if (h.includes('*')) return { problem: `"${input}": a wildcard is only allowed as the whole first label (*.corp.example)` };
  const bad = h.split('.').find((l) => !LABEL.test(l));
  if (bad !== undefined) return { problem: `"${input}" is not a valid host name (bad label "${bad}"; letters, digits and "-" only)` };
  if (wildcard && !h.includes('.')) return { problem: `"${input}": a wildcard needs at least two labels after it (*.corp.example)` };
  return { value: wildcard ? `.${h}` : h };
}

/**
 * A path prefix: must start with "/", no dot segments (also %2e-encoded), no empty segments, no
 * encoded slashes or backslashes, no query or fragment, no control characters or spaces.
 * A trailing slash is dropped ("/api/" → "/api") except for "/" itself.
 */
export function normalizePath(p: string): Checked<string> {
  if (!p.startsWith('/')) return { problem: `path "${p}" must start with "/"` };
  if (/[\\?#]/.test(p) || [...p].some((c) => c <= ' ' || c === '\u007f')) return { problem: `path "${p}" must not contain spaces, control characters, "\\", "?" or "#"` };
  if (/%(2f|5c|00)/i.test(p)) return { problem: `path "${p}" must not contain encoded slashes, backslashes or NUL` };
  let decoded: string;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    return { problem: `path "${p}" has a bad percent-encoding` };
  }
  const segs = decoded.split('/').slice(1);
  if (segs.some((s) => s === '.' || s === '..')) return { problem: `path "${p}" must not contain "." or ".." segments` };
  const trimmed = p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
  if (trimmed.slice(1).split('/').some((s) => s === '') && trimmed !== '/') return { problem: `path "${p}" must not contain empty segments ("//")` };
  return { value: trimmed };
}

/** Loopback names and addresses: localhost (and *.localhost), 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** "127.0.0.1:8080" / "[::1]:8080" / ":8080" → {host, port}; the schema has already checked the shape. */
export function parseListen(s: string): Checked<{ host: string; port: number }> {
  const i = s.lastIndexOf(':');
  const host = s.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(s.slice(i + 1));
  if (!Number.isInteger(port) || port > 65535) return { problem: `port ${s.slice(i + 1)} is out of range (0-65535)` };
  if (host.startsWith('[') || (s.startsWith('[') && isIP(host) !== 6)) return { problem: `"${s}" has a bad IPv6 address` };
  return { value: { host: host === '' ? '0.0.0.0' : host, port } };
}

/** A URL the gateway fetches or forwards to: absolute http(s), no credentials, query or fragment. */
export function checkHttpUrl(s: string): Checked<URL> {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return { problem: `"${s}" is not an absolute URL (e.g. http://127.0.0.1:3000)` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { problem: `"${s}" must be an http:// or https:// URL` };
  if (u.username || u.password) return { problem: 'the URL must not contain credentials (user:password@)' };
  if (s.includes('?') || s.includes('#')) return { problem: `"${s}" must not have a query (?) or fragment (#)` };
  return { value: u };
}
